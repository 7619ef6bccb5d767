/**
 * `dugout insights preview`: one manager's weekly insight email written to files (HTML, text and
 * the chart) instead of sent, to read what a manager would get.
 *
 * It reads ClickHouse directly: gathering needs the event store (the people behind explain's
 * events), which the HTTP API does not serve. With the embedded engine the data folder belongs to
 * one process, so while `dugout run` is up the command says to stop it first (`dugout down`);
 * with a ClickHouse server (CLICKHOUSE_URL) it runs beside the services.
 *
 * `dugout insights send` sends the week's emails on demand through SMTP_URL, with the same
 * idempotency as the weekly schedule (insight-sender.ts: a sent email is never sent again), and
 * `dugout insights status` lists the sent-log of a week: who got what, when. Both open ClickHouse
 * the same way as preview.
 */
import { Client, Connection } from '@temporalio/client'
import { Command } from 'commander'
import fs from 'node:fs/promises'
import path from 'node:path'
import { z } from 'zod'
import type { DugoutConfig } from '../../schemas/config.schema.ts'
import { Id, OrgId } from '../../schemas/events.schema.ts'
import type { InsightThresholds } from '../../schemas/insights.schema.ts'
import { parseParams } from '../../schemas/report-params.schema.ts'
import { createClickHouse, type ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { migrate } from '../clickhouse/migrations.ts'
import { ParamsError } from '../errors.ts'
import { addDays, isDay, weekOf } from '../projections/days.ts'
import { getUsableOrgSettings } from '../projections/org-settings.ts'
import { renderInsightEmail } from '../insights/insight-email.ts'
import { gatherInsightWeek } from '../insights/insight-input.ts'
import { findInsights } from '../insights/insight-rules.ts'
import { insightSchedulesScheduleId } from '../insights/insight-schedule.ts'
import { insightsSecret, optOutUrl } from '../insights/opt-out.ts'
import { workerPolls } from '../worker/workflow-client.ts'
import { insightSchedulesWorkflow, type InsightSchedulesChange } from '../../workflows/weekly-insights-workflow.ts'
import {
  createSmtpMailer,
  sendWeeklyInsight,
  sentInsights,
  weekManagers,
  type SendResult,
  type SenderDeps,
} from '../insights/insight-sender.ts'
import { displayNames } from '../reports/display-names.ts'
import { httpBase, servicesAnswer } from './service-client.ts'

const WEEK_RULE = 'must be a Monday (2026-03-02) or an ISO week (2026-W10)'

/**
 * The Monday of an ISO week given as `YYYY-Www` (week 1 holds the year's first Thursday, so
 * January 4th), or undefined when the year has no such week (only some years have a week 53).
 */
export function isoWeekMonday(year: number, week: number): string | undefined {
  if (week < 1 || week > 53) return undefined
  const monday = addDays(weekOf(`${String(year).padStart(4, '0')}-01-04`), 7 * (week - 1))
  // The week belongs to the year of its Thursday: week 53 of a 52-week year is week 1 of the next.
  return addDays(monday, 3).startsWith(String(year).padStart(4, '0')) ? monday : undefined
}

/** `--week`: a Monday as given, or an ISO week as its Monday. */
export const InsightWeekOption = z.string({ error: 'is required' }).transform((value, ctx) => {
  const iso = /^(\d{4})-W(\d{2})$/.exec(value)
  const monday = iso ? isoWeekMonday(Number(iso[1]), Number(iso[2])) : isDay(value) ? value : undefined
  if (monday !== undefined && weekOf(monday) === monday) return monday
  const why = iso ? ` (${iso[1]} has no week ${Number(iso[2])})` : isDay(value) ? ` (${value} is not a Monday)` : ''
  ctx.addIssue({ code: 'custom', message: `${WEEK_RULE}${why}` })
  return z.NEVER
})

/** The options of `dugout insights preview`, checked before anything is opened. */
export const PreviewOptions = z.strictObject({
  org: OrgId,
  manager: Id,
  week: InsightWeekOption,
  out: z.string().min(1).default('out'),
})
export type PreviewOptions = z.infer<typeof PreviewOptions>

/** Checks the options; a ParamsError names each bad one as typed (`--week`) and its rule. */
export function parsePreviewOptions(options: Record<string, unknown>): PreviewOptions {
  const result = parseParams(PreviewOptions, options, (p) => `--${p}`)
  if (!result.ok) throw new ParamsError(result.issues, 'insights preview: ')
  return result.value
}

/** The options of `dugout insights send`: one manager, or every manager of the week. */
export const SendOptions = z.strictObject({ org: OrgId, week: InsightWeekOption, manager: Id.optional() })
export type SendOptions = z.infer<typeof SendOptions>

/** The options of `dugout insights status`. */
export const StatusOptions = z.strictObject({ org: OrgId, week: InsightWeekOption })
export type StatusOptions = z.infer<typeof StatusOptions>

function parseOptions<T>(schema: z.ZodType<T>, command: string, options: Record<string, unknown>): T {
  const result = parseParams(schema, options, (p) => `--${p}`)
  if (!result.ok) throw new ParamsError(result.issues, `insights ${command}: `)
  return result.value
}

export const parseSendOptions = (options: Record<string, unknown>) => parseOptions(SendOptions, 'send', options)
export const parseStatusOptions = (options: Record<string, unknown>) => parseOptions(StatusOptions, 'status', options)

/** One manager's outcome of `insights send`: the sender's result, or the error of a failed send. */
export type ManagerSendOutcome = { manager: string } & (SendResult | { status: 'failed'; error: string })

/**
 * Sends the week's email of `options.manager`, or of every manager of the week (those without an
 * email come back `no_email`). A failed send does not stop the others; running the command again
 * sends only what was not sent (the sent-log).
 */
export async function sendInsights(deps: SenderDeps, options: SendOptions): Promise<ManagerSendOutcome[]> {
  const { org, week } = options
  const managers = options.manager !== undefined ? [options.manager] : await weekManagers(deps.ch, { org, week })
  const outcomes: ManagerSendOutcome[] = []
  for (const manager of managers) {
    try {
      outcomes.push({ manager, ...(await sendWeeklyInsight(deps, { org, manager, week })) })
    } catch (error) {
      outcomes.push({ manager, status: 'failed', error: error instanceof Error ? error.message : String(error) })
    }
  }
  return outcomes
}

/** One line of `insights send`: `mgr-1 sent <insights.acme.mgr-1.2026-03-02@dugout>`. */
export function sendOutcomeLine(outcome: ManagerSendOutcome): string {
  switch (outcome.status) {
    case 'sent':
    case 'already_sent':
      return `${outcome.manager} ${outcome.status} ${outcome.message_id}`
    case 'no_email':
    case 'opted_out':
      return `${outcome.manager} ${outcome.status}`
    case 'failed':
      return `${outcome.manager} failed ${outcome.error}`
  }
}

/** One row of `insights status`. */
export interface InsightStatusRow {
  manager_id: string
  manager_name: string | null
  recipient: string
  sent_at: string
  message_id: string
}

/** The sent-log of the week, with each manager's display name as of the week's end. */
export async function insightStatus(ch: ClickHouse, options: StatusOptions): Promise<InsightStatusRow[]> {
  const { timezone } = await getUsableOrgSettings(ch, options.org)
  const names = await displayNames(ch, { org: options.org, to: addDays(options.week, 6), tz: timezone })
  return (await sentInsights(ch, options)).map((row) => ({
    manager_id: row.manager_id,
    manager_name: names.get(row.manager_id) ?? null,
    recipient: row.recipient,
    sent_at: row.sent_at,
    message_id: row.message_id,
  }))
}

/** What a preview wrote. */
export interface PreviewResult {
  subject: string
  files: { html: string; text: string; chart: string }
  findings: number
}

/**
 * Gathers, finds and renders one manager's email for `week` and writes `email.html`,
 * `email.txt` and `chart.png` to `out` (created if missing); sends nothing.
 */
export async function previewInsightEmail(
  ch: ClickHouse,
  options: PreviewOptions,
  settings: { publicUrl: string; thresholds: InsightThresholds; optOutSecret: string },
): Promise<PreviewResult> {
  const data = await gatherInsightWeek(ch, options, settings.thresholds)
  const findings = findInsights(data.input, settings.thresholds)
  const email = await renderInsightEmail(data, findings, {
    publicUrl: settings.publicUrl,
    optOutUrl: optOutUrl(settings.publicUrl, settings.optOutSecret, options),
  })
  await fs.mkdir(options.out, { recursive: true })
  const files = {
    html: path.join(options.out, 'email.html'),
    text: path.join(options.out, 'email.txt'),
    chart: path.join(options.out, 'chart.png'),
  }
  await fs.writeFile(files.html, email.html)
  await fs.writeFile(files.text, email.text)
  await fs.writeFile(files.chart, email.attachments[0]!.content)
  return { subject: email.subject, files, findings: findings.length }
}

/** What `insights schedule` changed, an org a line: `acme: created Asia/Tokyo; deleted Europe/Paris`. */
export function scheduleChangeLines(changes: readonly InsightSchedulesChange[]): string[] {
  if (changes.length === 0) return ['no org has events yet: no Schedule to make']
  return changes.map((change) => {
    const parts = (['created', 'updated', 'deleted'] as const)
      .filter((kind) => change[kind].length > 0)
      .map((kind) => `${kind} ${change[kind].join(', ')}`)
    return `${change.org}: ${parts.join('; ') || 'nothing to change'}`
  })
}

/** Every insight Schedule of the namespace with its next run, a line each. */
async function scheduleLines(client: Client): Promise<string[]> {
  const lines: string[] = []
  for await (const schedule of client.schedule.list()) {
    if (!schedule.scheduleId.startsWith('insights:')) continue
    const next = schedule.info?.nextActionTimes[0]
    lines.push(`${schedule.scheduleId}\tnext ${next === undefined ? 'none' : next.toISOString()}`)
  }
  return lines.sort()
}

/** Thrown when no worker polls the task queue a command needs (the services are not running). */
export class NoWorkerError extends Error {
  readonly code = 'NO_WORKER'
}

/** Thrown when the embedded engine's folder is held by `dugout run`. */
export class ServicesRunningError extends Error {
  readonly code = 'SERVICES_RUNNING'
}

/**
 * ClickHouse for a command that reads it directly: refused while `dugout run` holds the embedded
 * engine's folder; migrated.
 */
async function openClickHouse(c: DugoutConfig, command: string): Promise<ClickHouse> {
  if (!c.CLICKHOUSE_URL && (await servicesAnswer(c))) {
    throw new ServicesRunningError(
      `insights ${command} reads the embedded ClickHouse directly, and \`dugout run\` holds its folder: ` +
        'stop the services with `dugout down` first (or use a ClickHouse server with CLICKHOUSE_URL)',
    )
  }
  const ch = createClickHouse(c)
  try {
    await migrate(ch)
    return ch
  } catch (error) {
    await ch.close()
    throw error
  }
}

export function insightsCommand(config: () => DugoutConfig): Command {
  const insights = new Command('insights').description('The weekly insight emails of the managers (docs/insights.md).')
  insights
    .command('preview')
    .description(
      "Write one manager's weekly email (email.html, email.txt, chart.png) to a folder instead of sending it.",
    )
    .requiredOption('--org <org>', 'org id')
    .requiredOption('--manager <id>', 'manager id')
    .requiredOption('--week <week>', 'the week: its Monday (2026-03-02) or its ISO week (2026-W10)')
    .option('--out <dir>', 'folder to write to', 'out')
    .action(async (raw: Record<string, unknown>) => {
      const options = parsePreviewOptions(raw)
      const c = config()
      const ch = await openClickHouse(c, 'preview')
      try {
        const result = await previewInsightEmail(ch, options, {
          publicUrl: c.DUGOUT_PUBLIC_URL ?? httpBase(c),
          thresholds: c.DUGOUT_INSIGHT_THRESHOLDS,
          optOutSecret: insightsSecret(c),
        })
        process.stdout.write(
          `subject: ${result.subject}\n${result.findings} finding${result.findings === 1 ? '' : 's'}\n` +
            `${result.files.html}\n${result.files.text}\n${result.files.chart}\n`,
        )
      } finally {
        await ch.close()
      }
    })
  insights
    .command('send')
    .description(
      "Send the week's email of one manager (--manager) or of every manager with an email, each at most once.",
    )
    .requiredOption('--org <org>', 'org id')
    .requiredOption('--week <week>', 'the week: its Monday (2026-03-02) or its ISO week (2026-W10)')
    .option('--manager <id>', 'only this manager')
    .action(async (raw: Record<string, unknown>) => {
      const options = parseSendOptions(raw)
      const c = config()
      const ch = await openClickHouse(c, 'send')
      const mailer = createSmtpMailer(c.SMTP_URL, c.MAIL_FROM)
      try {
        const outcomes = await sendInsights(
          {
            ch,
            mailer,
            clock: () => new Date(),
            publicUrl: c.DUGOUT_PUBLIC_URL ?? httpBase(c),
            thresholds: c.DUGOUT_INSIGHT_THRESHOLDS,
            optOutSecret: insightsSecret(c),
          },
          options,
        )
        for (const outcome of outcomes) process.stdout.write(`${sendOutcomeLine(outcome)}\n`)
        const failed = outcomes.filter((o) => o.status === 'failed').length
        if (failed > 0) {
          process.stderr.write(
            `${failed} not sent: run the same command again to retry them (sent emails are skipped)\n`,
          )
          process.exitCode = 1
        }
      } finally {
        mailer.close()
        await ch.close()
      }
    })
  insights
    .command('schedule')
    .description(
      "Bring every org's weekly insight Schedules in step with its managers' time zones now (the worker does it " +
        'every hour), then list them with their next run.',
    )
    .action(async () => {
      const c = config()
      const connection = await Connection.connect({ address: c.TEMPORAL_ADDRESS })
      try {
        const client = new Client({ connection, namespace: c.TEMPORAL_NAMESPACE })
        if (!(await workerPolls(client, c.TEMPORAL_NAMESPACE, c.TEMPORAL_TASK_QUEUE))) {
          throw new NoWorkerError(
            `insights schedule: no worker polls the task queue ${c.TEMPORAL_TASK_QUEUE}: start the services (dugout up) and run this again`,
          )
        }
        const changes = await client.workflow.execute(insightSchedulesWorkflow, {
          taskQueue: c.TEMPORAL_TASK_QUEUE,
          workflowId: `${insightSchedulesScheduleId(c)}:by-hand-${Date.now()}`,
          workflowExecutionTimeout: '5 minutes',
        })
        for (const line of scheduleChangeLines(changes)) process.stdout.write(`${line}\n`)
        for (const line of await scheduleLines(client)) process.stdout.write(`${line}\n`)
      } finally {
        await connection.close()
      }
    })
  insights
    .command('status')
    .description("List the week's sent emails: manager, address, when, Message-ID.")
    .requiredOption('--org <org>', 'org id')
    .requiredOption('--week <week>', 'the week: its Monday (2026-03-02) or its ISO week (2026-W10)')
    .action(async (raw: Record<string, unknown>) => {
      const options = parseStatusOptions(raw)
      const ch = await openClickHouse(config(), 'status')
      try {
        const rows = await insightStatus(ch, options)
        if (rows.length === 0)
          process.stdout.write(`no insight email sent for ${options.org}, week of ${options.week}\n`)
        for (const row of rows) {
          const who = row.manager_name === null ? row.manager_id : `${row.manager_name} (${row.manager_id})`
          process.stdout.write(`${who}\t${row.recipient}\t${row.sent_at} UTC\t${row.message_id}\n`)
        }
      } finally {
        await ch.close()
      }
    })
  return insights
}
