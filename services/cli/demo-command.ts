/**
 * `dugout demo` (the README's main job) and `dugout generate`. The demo brings the local stack
 * up, runs the services in this process (or uses the ones `dugout up` runs), streams a generated
 * org through Kafka, waits until the metrics are complete and prints the reports with a story.
 * Re-running is safe: the same seed gives the same event ids, which count once.
 */
import { Command, Option } from 'commander'
import fs from 'node:fs'
import path from 'node:path'
import type { DugoutConfig } from '../../schemas/config.schema.ts'
import { stackUp } from '../../infra/stack/local-stack.ts'
import { httpBase, openDugoutData, servicesAnswer } from './service-client.ts'
import { previewInsightEmail } from './insights-command.ts'
import { createClickHouse, type ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { weekManagers } from '../insights/insight-sender.ts'
import { insightsSecret } from '../insights/opt-out.ts'
import { topicEnds, waitForMetrics } from './metrics-wait.ts'
import { createProgress } from './progress-display.ts'
import { createEventProducer } from '../kafka/event-producer.ts'
import { createKafka, dugoutTopics, ensureTopics } from '../kafka/kafka-client.ts'
import { formatReport } from '../reports/report-format.ts'
import { startHost } from '../runtime/service-host.ts'
import { SERVICE_STARTERS } from './service-registry.ts'
import { pino } from 'pino'
import type { Logger } from '../runtime/logger.ts'
import type { ReportName, ReportRow } from '../reports/report-queries.ts'
import { demoStory, type DemoReports } from './demo-story.ts'
import { estimateEventCount, generateOrg, type GenerateOptions } from '../demo/org-generator.ts'

/** A fixed quarter, so that the demo's numbers are the same on every machine and every day. */
export const DEMO_START = '2026-08-03'

/** The generator's options that `demo` and `generate` take from the command line. */
export type DemoOptions = Pick<GenerateOptions, 'org' | 'managers' | 'repsPerManager' | 'weeks' | 'seed' | 'start'>

/** `demo`'s own options: where the preview of a manager's weekly email goes. */
export type DemoRunOptions = DemoOptions & { emailOut: string }

const say = (line: string) => process.stderr.write(`${line}\n`)

const wholeNumber = (flag: string, min: number, max: number) => (value: string) => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`${flag} must be a whole number from ${min} to ${max} (got ${value})`)
  return n
}

function addDay(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10)
}

/**
 * The services' log inside the demo: errors only (unless LOG_LEVEL asks for more), as indented
 * lines among the demo's own, not JSON. A broker still electing its group coordinator at first
 * start is routine; the demo's steps say what is going on.
 */
function demoLogger(config: DugoutConfig): Logger {
  const level = config.LOG_LEVEL === 'info' ? 'error' : config.LOG_LEVEL
  return pino(
    { level },
    {
      write(line: string) {
        try {
          const entry = JSON.parse(line) as {
            msg?: string
            service?: string
            component?: string
            err?: { message?: string }
          }
          const who = entry.service ?? entry.component ?? 'dugout'
          say(`    ${who}: ${entry.msg ?? ''}${entry.err?.message ? ` (${entry.err.message})` : ''}`)
        } catch {
          say(`    ${line.trimEnd()}`)
        }
      },
    },
  )
}

export async function runDemo(config: DugoutConfig, options: DemoRunOptions): Promise<void> {
  const started = performance.now()
  say('1/5 bringing the local stack up (Kafka, Temporal)…')
  await stackUp(config, (line) => say(`    ${line}`))

  const external = await servicesAnswer(config)
  say(
    external
      ? '2/5 using the Dugout services already running (`dugout up`)'
      : '2/5 starting the Dugout services in this process (collector, ingest, worker, reports)…',
  )
  const host = external ? undefined : await startHost(config, SERVICE_STARTERS, undefined, demoLogger(config))
  try {
    const generate: GenerateOptions = { ...options }
    const total = estimateEventCount(generate)
    say(
      `3/5 generating ${options.weeks} weeks of "${options.org}" (${options.managers} managers × ${options.repsPerManager} reps, about ${total.toLocaleString('en-US')} events) into ${config.KAFKA_EVENTS_TOPIC}`,
    )
    const kafka = createKafka(config)
    await ensureTopics(kafka, dugoutTopics(config))
    const producer = await createEventProducer(kafka, config)
    const bar = createProgress({
      total,
      barFormat: 'streaming through Kafka |{bar}| {percentage}% | {value}/{total} events | {rate} events/s',
      line: (n, rate) => `streaming through Kafka: ${n}/${total} events (${rate} events/s)`,
    })
    let sent = 0
    let batch: { orgId: string; value: string }[] = []
    const inFlight: Promise<void>[] = []
    for (const event of generateOrg(generate)) {
      batch.push({ orgId: event.org_id, value: JSON.stringify(event) })
      if (batch.length === 5000) {
        inFlight.push(producer.send(batch))
        batch = []
        if (inFlight.length >= 4) await inFlight.shift()
        sent += 5000
        bar.update(sent, sent)
      }
    }
    inFlight.push(producer.send(batch))
    await Promise.all(inFlight)
    sent += batch.length
    bar.update(sent, sent)
    bar.stop()
    await producer.disconnect()

    say('4/5 waiting until ingest has stored every event and the metrics workflow has computed every day…')
    const waitStarted = performance.now()
    await waitForMetrics(config, kafka, [options.org], await topicEnds(kafka, config.KAFKA_EVENTS_TOPIC), {
      timeoutMs: 30 * 60_000,
      onWaiting: (what) => say(`    still waiting for ${what}`),
    })
    say(`    metrics complete ${((performance.now() - waitStarted) / 1000).toFixed(1)} s after the last event was sent`)

    const to = addDay(options.start, options.weeks * 7 - 1)
    const week = { from: addDay(to, -6), to }
    say(`5/5 the reports for the last full week, ${week.from} to ${week.to}`)
    const data = await openDugoutData(config)
    let reports: DemoReports
    try {
      const params = { org: options.org, ...week }
      const named = { names: true }
      reports = {
        autonomy: await data.report('manager-autonomy', params, named),
        direction: await data.report('manager-direction', params, named),
        care: await data.report('manager-care', params, named),
        volume: await data.report('rep-volume', params, named),
        summary: await data.report('team-summary', params, named),
      }
    } finally {
      await data.close()
    }
    const out = process.stdout
    const section = (title: string, name: ReportName, rows: ReportRow[]) =>
      out.write(`\n${title}\n\n${formatReport(name, rows, 'table')}`)
    out.write(`\n${demoStory(reports, week).join('\n')}\n`)
    section("Team summary: each manager's three jobs and the team's volume", 'team-summary', reports.summary)
    section('Empower me (manager autonomy)', 'manager-autonomy', reports.autonomy)
    section('Direct me (manager direction)', 'manager-direction', reports.direction)
    section('Care about me (manager care)', 'manager-care', reports.care)
    section('Rep volume', 'rep-volume', reports.volume)
    out.write(`\n${(await previewDemoEmail(config, host?.clickhouse, options, week.from)).join('\n')}\n`)
    out.write(
      [
        '',
        'Where to look next:',
        `  Temporal UI, the per-org metrics workflow:  http://127.0.0.1:${config.DUGOUT_TEMPORAL_UI_PORT}/namespaces/${config.TEMPORAL_NAMESPACE}/workflows`,
        `  any report, any range:   npx dugout up && npx dugout report rep-volume --org ${options.org} --from ${options.start} --to ${to} --format csv`,
        `  the whole quarter:       npx dugout report team-summary --org ${options.org} --from ${options.start} --to ${to} --wide`,
        `  ClickHouse:              tables ${config.CLICKHOUSE_DATABASE}.events and ${config.CLICKHOUSE_DATABASE}.metric_*; set CLICKHOUSE_URL to use a ClickHouse server (BI tools connect there)`,
        `  your own CRM events:     npx dugout import events.ndjson --wait   (format: schemas/events.schema.json)`,
        '',
        `demo finished in ${((performance.now() - started) / 1000).toFixed(0)} s; running it again is safe (same events, counted once).`,
        '',
      ].join('\n'),
    )
  } finally {
    await host?.stop()
  }
}

/**
 * The demo's last lines: one manager's weekly insight email of the demo's last full week, written
 * to files as `dugout insights preview` writes it, and where they are. It needs ClickHouse: the
 * demo's own (its services run in this process), or a server's; with `dugout up` holding the
 * embedded engine, how to preview it later.
 */
async function previewDemoEmail(
  config: DugoutConfig,
  own: ClickHouse | undefined,
  options: DemoRunOptions,
  week: string,
): Promise<string[]> {
  const ch = own ?? (config.CLICKHOUSE_URL ? createClickHouse(config) : undefined)
  const command = (manager: string) =>
    `npx dugout insights preview --org ${options.org} --manager ${manager} --week ${week}`
  if (ch === undefined) {
    return [
      "A manager's weekly insight email: `dugout up` holds the embedded ClickHouse, so preview one after `dugout down`:",
      `  ${command('mgr-1')}`,
    ]
  }
  try {
    const [manager] = await weekManagers(ch, { org: options.org, week })
    if (manager === undefined) return ['No manager had a team in the last full week: no insight email to preview.']
    const preview = await previewInsightEmail(
      ch,
      { org: options.org, manager, week, out: options.emailOut },
      {
        publicUrl: config.DUGOUT_PUBLIC_URL ?? httpBase(config),
        thresholds: config.DUGOUT_INSIGHT_THRESHOLDS,
        optOutSecret: insightsSecret(config),
      },
    )
    const where = (file: string) => `  ${path.resolve(file)}`
    return [
      `${manager}'s weekly insight email of ${week} (not sent; \`dugout insights send\` sends), "${preview.subject}":`,
      where(preview.files.html),
      where(preview.files.text),
      where(preview.files.chart),
      `  another manager: ${command('<id>')} --out <dir>`,
    ]
  } finally {
    if (own === undefined) await ch.close()
  }
}

function generateOptions(command: Command, defaults: { org: string; start: string }): Command {
  return command
    .option('--org <org>', 'org id', defaults.org)
    .addOption(
      new Option('--managers <n>', 'managers (styles: micromanager, absent, coach, balanced, …)')
        .default(4)
        .argParser(wholeNumber('--managers', 1, 10_000)),
    )
    .addOption(
      new Option('--reps-per-manager <n>', 'reps in each team')
        .default(6)
        .argParser(wholeNumber('--reps-per-manager', 1, 1000)),
    )
    .addOption(new Option('--weeks <n>', 'weeks of activity').default(12).argParser(wholeNumber('--weeks', 1, 520)))
    .addOption(
      new Option('--seed <n>', 'random seed (same seed, same events)')
        .default(42)
        .argParser(wholeNumber('--seed', 0, 2 ** 31)),
    )
    .option('--start <date>', 'first Monday, YYYY-MM-DD', defaults.start)
}

export function demoCommand(config: () => DugoutConfig): Command {
  return generateOptions(
    new Command('demo').description(
      'The main job: the whole pipeline on a generated org — Kafka, Temporal, ClickHouse — and its reports.',
    ),
    { org: 'demo', start: DEMO_START },
  )
    .option('--email-out <dir>', "folder for the preview of one manager's weekly email", 'out')
    .action(async (options: DemoRunOptions) => {
      await runDemo(config(), options)
    })
}

export function generateCommand(): Command {
  return generateOptions(
    new Command('generate').description(
      'Write the NDJSON events of a realistic synthetic sales org (deterministic for a seed).',
    ),
    { org: 'demo', start: DEMO_START },
  )
    .option('-o, --output <file>', 'file to write (default: standard output)')
    .action(async (options: DemoOptions & { output?: string }) => {
      const out: NodeJS.WritableStream = options.output ? fs.createWriteStream(options.output) : process.stdout
      let buffer: string[] = []
      let count = 0
      const flush = async () => {
        if (!out.write(buffer.join(''))) await new Promise<void>((resolve) => out.once('drain', () => resolve()))
        buffer = []
      }
      for (const event of generateOrg(options)) {
        buffer.push(`${JSON.stringify(event)}\n`)
        count++
        if (buffer.length === 2000) await flush()
      }
      await flush()
      if (options.output) {
        await new Promise<void>((resolve) => (out as fs.WriteStream).end(resolve))
        say(`wrote ${count} events to ${options.output}`)
      }
    })
}
