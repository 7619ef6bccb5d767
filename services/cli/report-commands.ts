/** `dugout report`, `dugout org`, `dugout rebuild`: reading and recomputing the metrics. */
import { Client, Connection } from '@temporalio/client'
import { Argument, Command, Option } from 'commander'
import type { DugoutConfig } from '../../schemas/config.schema.ts'
import { parseParams, RebuildParams, ReportParams, type ParamsResult } from '../../schemas/report-params.schema.ts'
import { ParamsError } from '../errors.ts'
import { REPORT_NAMES, type ReportName } from '../reports/report-queries.ts'
import { formatReport, REPORT_FORMATS, type ReportFormat } from '../reports/report-format.ts'
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

export function reportCommand(config: () => DugoutConfig): Command {
  return new Command('report')
    .description('Print a report of METRICS.md for an org over an inclusive range of days (org time zone).')
    .addArgument(new Argument('<name>', 'the report').choices(REPORT_NAMES))
    .requiredOption('--org <org>', 'the org id')
    .requiredOption('--from <date>', 'first day, YYYY-MM-DD')
    .requiredOption('--to <date>', 'last day, YYYY-MM-DD (inclusive)')
    .addOption(new Option('--format <format>', 'output format').choices(REPORT_FORMATS).default('table'))
    .action(async (name: ReportName, options: { org: string; from: string; to: string; format: ReportFormat }) => {
      const params = checked(
        'report',
        parseParams(ReportParams, { org: options.org, from: options.from, to: options.to }, flag),
      )
      const data = await openDugoutData(config())
      try {
        const rows = await data.report(name, params)
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
