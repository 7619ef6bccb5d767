/** `dugout report`, `dugout org`, `dugout rebuild`: reading and recomputing the metrics. */
import { Client, Connection } from '@temporalio/client'
import { Argument, Command, Option } from 'commander'
import type { DugoutConfig } from '../../schemas/config.schema.ts'
import {
  parseParams,
  RebuildParams,
  ReportAsOfParams,
  TrendParams,
  type ParamsResult,
} from '../../schemas/report-params.schema.ts'
import { ParamsError } from '../errors.ts'
import { REPORT_COLUMNS, REPORT_NAMES, type ReportName } from '../reports/report-queries.ts'
import { displayValue, formatReport, REPORT_FORMATS, type ReportFormat } from '../reports/report-format.ts'
import { lastRange, parseLast, todayIn } from '../reports/report-range.ts'
import type { ReportRow } from '../reports/report-queries.ts'
import { startRebuild, workerPolls } from '../worker/workflow-client.ts'
import type { rebuildWorkflow } from '../../workflows/rebuild-workflow.ts'
import { waitForRebuild } from './rebuild-wait.ts'
import { openDugoutData } from './service-client.ts'

const say = (line: string) => process.stderr.write(`${line}\n`)
const flag = (parameter: string) => `--${parameter}`

/**
 * The options checked with the same schema as the HTTP API and the activities, before anything
 * starts; a ParamsError names each bad option as typed (`--from`) and its rule.
 */
function checked<T>(command: string, result: ParamsResult<T>): T {
  if (!result.ok) throw new ParamsError(result.issues, `${command}: `)
  return result.value
}

export interface ReportCommandOptions {
  org: string
  from?: string
  to?: string
  last?: string
  manager?: string
  rep?: string
  metric?: string
  weeks?: string
  asOf?: string
  diff?: boolean
  format: ReportFormat
  wide?: boolean
  names?: boolean
}

/**
 * The range a report covers: `--from`/`--to`, or `--last 4w|30d`, or by default the last whole
 * week; relative ranges end before today in the org's time zone (report-range.ts).
 */
export async function reportRange(
  options: Pick<ReportCommandOptions, 'from' | 'to' | 'last'>,
  timezone: () => Promise<string>,
  now: Date,
): Promise<{ from: string; to: string }> {
  if (options.last !== undefined) {
    if (options.from !== undefined || options.to !== undefined) {
      throw new ParamsError(
        [
          {
            parameter: '--last',
            rule: 'not with --from/--to',
            message: '--last: give either --last or --from and --to',
          },
        ],
        'report: ',
      )
    }
    const span = parseLast(options.last)
    if (!span) {
      const rule = 'must be a number of whole weeks or days, e.g. 4w or 30d'
      throw new ParamsError(
        [{ parameter: '--last', rule, message: `--last: ${rule} (got ${JSON.stringify(options.last)})` }],
        'report: ',
      )
    }
    return lastRange(span, todayIn(await timezone(), now))
  }
  if (options.from === undefined && options.to === undefined)
    return lastRange({ unit: 'w', count: 1 }, todayIn(await timezone(), now))
  if (options.from === undefined || options.to === undefined) {
    const missing = options.from === undefined ? '--from' : '--to'
    throw new ParamsError(
      [
        {
          parameter: missing,
          rule: 'is required with the other',
          message: `${missing}: is required when --${missing === '--from' ? 'to' : 'from'} is given`,
        },
      ],
      'report: ',
    )
  }
  return { from: options.from, to: options.to }
}

/** The rows of one manager: their own row, or their reps' rows in rep-volume. */
export function rowsOfManager(rows: readonly ReportRow[], manager: string): ReportRow[] {
  return rows.filter((row) => row.manager_id === manager)
}

/** The values that moved between two runs of a report: one line per changed cell. */
export function reportChanges(name: ReportName, then: readonly ReportRow[], now: readonly ReportRow[]): string[] {
  const id = REPORT_COLUMNS[name][0]!
  const key = (row: ReportRow) => String(row[id])
  const before = new Map(then.map((row) => [key(row), row]))
  const after = new Map(now.map((row) => [key(row), row]))
  const lines: string[] = []
  for (const who of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const a = before.get(who)
    const b = after.get(who)
    const label = (b ?? a)![id.replace('_id', '_name')] ?? who
    if (!a || !b) {
      lines.push(`${label} (${who}): ${a ? 'no longer in the report' : 'new in the report'}`)
      continue
    }
    for (const column of REPORT_COLUMNS[name].slice(1)) {
      const x = JSON.stringify(a[column])
      const y = JSON.stringify(b[column])
      if (x !== y) {
        lines.push(
          `${label} (${who}) ${column}: ${displayValue(column, a[column])} → ${displayValue(column, b[column])}`,
        )
      }
    }
  }
  return lines
}

export function reportCommand(config: () => DugoutConfig): Command {
  return new Command('report')
    .description('Print a report of docs/metrics.md for an org over an inclusive range of days (org time zone).')
    .addArgument(new Argument('<name>', 'the report').choices([...REPORT_NAMES, 'trend']))
    .requiredOption('--org <org>', 'the org id')
    .option('--from <date>', 'first day, YYYY-MM-DD (with --to)')
    .option('--to <date>', 'last day, YYYY-MM-DD, inclusive (with --from)')
    .option('--last <span>', 'the last whole weeks or days before today, e.g. 4w or 30d (default: last week)')
    .option('--manager <id>', "one manager's row (in rep-volume: their reps); trend: the manager")
    .option('--rep <id>', 'trend: the rep')
    .option('--metric <metric>', 'trend: the metric, e.g. intervention_rate, win_rate')
    .option('--weeks <n>', 'trend: the last N whole weeks (default 8, unless --from/--to)')
    .option('--as-of <instant>', 'as the store knew it then: only events ingested by this RFC 3339 instant')
    .option('--diff', 'with --as-of: what changed since then, value by value')
    .addOption(new Option('--format <format>', 'output format').choices(REPORT_FORMATS).default('table'))
    .option('--wide', 'every column in the table (default: the key columns, to fit 100 columns)')
    .option('--names', 'JSON: add manager_name / rep_name beside the ids (table and CSV always show names)')
    .action(async (name: ReportName | 'trend', options: ReportCommandOptions) => {
      if (options.diff && options.asOf === undefined) {
        throw new ParamsError(
          [{ parameter: '--diff', rule: 'needs --as-of', message: '--diff: compares --as-of with now; give --as-of' }],
          'report: ',
        )
      }
      const data = await openDugoutData(config())
      try {
        if (name === 'trend') {
          const weeks = options.weeks ?? (options.from === undefined && options.to === undefined ? '8' : undefined)
          const params = checked(
            'report trend',
            parseParams(
              TrendParams,
              definedOnly({
                org: options.org,
                metric: options.metric,
                manager: options.manager,
                rep: options.rep,
                from: options.from,
                to: options.to,
                weeks,
                asOf: options.asOf,
              }),
              flag,
            ),
          )
          const rows = await data.trend(params)
          if (options.format === 'table')
            say(`${params.metric} of ${params.manager ?? params.rep} in ${params.org}, by week`)
          process.stdout.write(formatReport('trend', rows, options.format))
          return
        }
        const range = await reportRange(options, async () => (await data.orgSettings(options.org)).timezone, new Date())
        const params = checked(
          'report',
          parseParams(ReportAsOfParams, definedOnly({ org: options.org, ...range, asOf: options.asOf }), flag),
        )
        const names = options.format !== 'json' || options.names === true
        const only = (rows: ReportRow[]) =>
          options.manager === undefined ? rows : rowsOfManager(rows, options.manager)
        const rows = only(await data.report(name, params, { names }))
        if (options.diff) {
          const now = only(
            await data.report(name, { org: params.org, from: params.from, to: params.to }, { names: true }),
          )
          const changes = reportChanges(name, rows, now)
          say(`${name} of ${params.org}, ${params.from} to ${params.to}: as of ${params.asOf} → now`)
          process.stdout.write(changes.length ? `${changes.join('\n')}\n` : 'nothing changed\n')
          return
        }
        if (options.format === 'table') {
          say(`${name} of ${params.org}, ${params.from} to ${params.to}${params.asOf ? `, as of ${params.asOf}` : ''}`)
        }
        process.stdout.write(formatReport(name, rows, options.format, { wide: options.wide === true }))
      } finally {
        await data.close()
      }
    })
}

/** An object without its undefined values: zod's strict schemas refuse a key set to undefined. */
function definedOnly<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>
}

export function orgCommand(config: () => DugoutConfig): Command {
  const org = new Command('org').description('Org settings: the time zone that cuts days, the default currency.')
  org
    .command('show')
    .description("Show an org's settings.")
    .argument('<org>', 'the org id')
    .action(async (id: string) => {
      const data = await openDugoutData(config())
      try {
        process.stdout.write(`${JSON.stringify(await data.orgSettings(id), null, 2)}\n`)
      } finally {
        await data.close()
      }
    })
  org
    .command('set')
    .description("Change an org's settings; then `dugout rebuild --org` recomputes its metrics with them.")
    .argument('<org>', 'the org id')
    .option('--timezone <tz>', 'IANA time zone, e.g. Europe/Paris')
    .option('--currency <code>', 'ISO-4217 default currency, e.g. EUR')
    .action(async (id: string, options: { timezone?: string; currency?: string }) => {
      if (!options.timezone && !options.currency) throw new Error('org set: give --timezone and/or --currency')
      const data = await openDugoutData(config())
      try {
        const settings = await data.setOrgSettings(id, {
          ...(options.timezone ? { timezone: options.timezone } : {}),
          ...(options.currency ? { defaultCurrency: options.currency } : {}),
        })
        process.stdout.write(`${JSON.stringify(settings, null, 2)}\n`)
      } finally {
        await data.close()
      }
    })
  return org
}

export function rebuildCommand(config: () => DugoutConfig): Command {
  return new Command('rebuild')
    .description("Recompute an org's metrics from the event store (after a definition change, or a backfill).")
    .requiredOption('--org <org>', 'the org id')
    .option('--from <date>', 'first day, YYYY-MM-DD (default: the first day with events)')
    .option('--to <date>', 'last day, YYYY-MM-DD (default: the last day with events)')
    .option('--no-wait', 'start the rebuild and return')
    .action(async (options: { org: string; from?: string; to?: string; wait: boolean }) => {
      const params = checked(
        'rebuild',
        parseParams(
          RebuildParams,
          {
            org: options.org,
            ...(options.from !== undefined ? { from: options.from } : {}),
            ...(options.to !== undefined ? { to: options.to } : {}),
          },
          flag,
        ),
      )
      const c = config()
      const connection = await Connection.connect({ address: c.TEMPORAL_ADDRESS })
      try {
        const client = new Client({ connection, namespace: c.TEMPORAL_NAMESPACE })
        const started = await startRebuild(client, c, params, new Date())
        say(`rebuild started: ${started.url}`)
        if (!options.wait) return
        const startedAt = Date.now()
        const handle = client.workflow.getHandle<typeof rebuildWorkflow>(started.workflowId, started.runId)
        const final = await waitForRebuild(handle, {
          say,
          url: started.url,
          taskQueue: c.TEMPORAL_TASK_QUEUE,
          workerPolls: () => workerPolls(client, c.TEMPORAL_NAMESPACE, c.TEMPORAL_TASK_QUEUE),
        })
        say(
          `rebuild done: ${final.doneDays} days, ${final.rows} fact rows in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
        )
      } finally {
        await connection.close()
      }
    })
}
