/** `dugout report`, `dugout org`, `dugout rebuild`: reading and recomputing the metrics. */
import { Client, Connection } from '@temporalio/client'
import { Argument, Command, Option } from 'commander'
import type { DugoutConfig } from '../../schemas/config.schema.ts'
import { REPORT_NAMES, type ReportName } from '../metrics/report-queries.ts'
import { formatReport, REPORT_FORMATS, type ReportFormat } from '../reports/report-format.ts'
import { rebuildProgressQuery, rebuildWorkflow, type RebuildProgress } from '../../workflows/rebuild-workflow.ts'
import { openDugoutData } from './service-client.ts'

const say = (line: string) => process.stderr.write(`${line}\n`)
const DAY = /^\d{4}-\d{2}-\d{2}$/
const day = (flag: string) => (value: string) => {
  if (!DAY.test(value)) throw new Error(`${flag} must be a date YYYY-MM-DD (got ${JSON.stringify(value)})`)
  return value
}

export function reportCommand(config: () => DugoutConfig): Command {
  return new Command('report')
    .description('Print a report of METRICS.md for an org over an inclusive range of days (org time zone).')
    .addArgument(new Argument('<name>', 'the report').choices(REPORT_NAMES))
    .requiredOption('--org <org>', 'the org id')
    .requiredOption('--from <date>', 'first day, YYYY-MM-DD', day('--from'))
    .requiredOption('--to <date>', 'last day, YYYY-MM-DD (inclusive)', day('--to'))
    .addOption(new Option('--format <format>', 'output format').choices(REPORT_FORMATS).default('table'))
    .action(async (name: ReportName, options: { org: string; from: string; to: string; format: ReportFormat }) => {
      const data = await openDugoutData(config())
      try {
        const rows = await data.report(name, { org: options.org, from: options.from, to: options.to })
        process.stdout.write(formatReport(name, rows, options.format))
      } finally {
        await data.close()
      }
    })
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
    .option('--from <date>', 'first day (default: the first day with events)', day('--from'))
    .option('--to <date>', 'last day (default: the last day with events)', day('--to'))
    .option('--no-wait', 'start the rebuild and return')
    .action(async (options: { org: string; from?: string; to?: string; wait: boolean }) => {
      const c = config()
      const connection = await Connection.connect({ address: c.TEMPORAL_ADDRESS })
      try {
        const client = new Client({ connection, namespace: c.TEMPORAL_NAMESPACE })
        const workflowId = `rebuild:${options.org}:${new Date().toISOString()}`
        const handle = await client.workflow.start(rebuildWorkflow, {
          workflowId,
          taskQueue: c.TEMPORAL_TASK_QUEUE,
          args: [
            {
              org: options.org,
              ...(options.from ? { from: options.from } : {}),
              ...(options.to ? { to: options.to } : {}),
            },
          ],
        })
        say(
          `rebuild started: http://127.0.0.1:${c.DUGOUT_TEMPORAL_UI_PORT}/namespaces/${c.TEMPORAL_NAMESPACE}/workflows/${encodeURIComponent(workflowId)}`,
        )
        if (!options.wait) return
        const result = handle.result()
        let done: RebuildProgress | undefined
        void result.then((r) => (done = r)).catch(() => undefined)
        const started = Date.now()
        while (!done) {
          await Promise.race([result, new Promise((resolve) => setTimeout(resolve, 1000))])
          if (done) break
          const p = await handle.query(rebuildProgressQuery).catch(() => undefined)
          if (p) say(`rebuild: ${p.doneDays}/${p.totalDays} days, ${p.rows} fact rows`)
          if (!p?.doneDays && Date.now() - started > 15_000)
            say('rebuild: no progress yet (is the worker running? `dugout up`)')
        }
        const final = await result
        say(
          `rebuild done: ${final.doneDays} days, ${final.rows} fact rows in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        )
      } finally {
        await connection.close()
      }
    })
}
