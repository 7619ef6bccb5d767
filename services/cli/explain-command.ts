/** `dugout explain`: the events and deals behind one number of a report. */
import { Command, Option } from 'commander'
import type { DugoutConfig } from '../../schemas/config.schema.ts'
import { EXPLAIN_METRICS, ExplainParams, parseParams } from '../../schemas/report-params.schema.ts'
import { ParamsError } from '../errors.ts'
import { formatExplanation } from '../reports/explain.ts'
import { reportRange } from './report-commands.ts'
import { openDugoutData } from './service-client.ts'

interface ExplainOptions {
  org: string
  manager?: string
  rep?: string
  from?: string
  to?: string
  last?: string
  asOf?: string
  format: 'text' | 'json'
}

export function explainCommand(config: () => DugoutConfig): Command {
  return new Command('explain')
    .description(
      'The events and deals behind one count of a report (which deals counted as intervened, which messages went unanswered, …); they add up to its value.',
    )
    .argument('<metric>', `a count metric: ${EXPLAIN_METRICS.join(', ')}`)
    .requiredOption('--org <org>', 'the org id')
    .option('--manager <id>', 'the manager (a manager metric)')
    .option('--rep <id>', 'the rep (a rep-volume metric)')
    .option('--from <date>', 'first day, YYYY-MM-DD (with --to)')
    .option('--to <date>', 'last day, YYYY-MM-DD, inclusive (with --from)')
    .option('--last <span>', 'the last whole weeks or days before today, e.g. 4w or 30d (default: last week)')
    .option('--as-of <instant>', 'as the store knew it then: only events ingested by this RFC 3339 instant')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (metric: string, options: ExplainOptions) => {
      const data = await openDugoutData(config())
      try {
        const range = await reportRange(options, async () => (await data.orgSettings(options.org)).timezone, new Date())
        const input = {
          org: options.org,
          metric,
          manager: options.manager,
          rep: options.rep,
          ...range,
          asOf: options.asOf,
        }
        const parsed = parseParams(
          ExplainParams,
          Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
          (p) => (p === 'metric' ? 'metric' : `--${p === 'asOf' ? 'as-of' : p}`),
        )
        if (!parsed.ok) throw new ParamsError(parsed.issues, 'explain: ')
        const explanation = await data.explain(parsed.value)
        process.stdout.write(
          options.format === 'json' ? `${JSON.stringify(explanation, null, 2)}\n` : formatExplanation(explanation),
        )
      } finally {
        await data.close()
      }
    })
}
