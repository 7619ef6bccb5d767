/**
 * The composed reports of docs/metrics.md "Reports": `team-summary` (the three manager reports
 * joined, with the rep-volume rows of each team summed; also a plain report of `runReport`) and
 * `trend` (one metric of one manager or rep, each ISO week its own report). Both are made of the
 * base reports, so they agree with them by construction; `source` picks the projections
 * (`runReport`) or the reference computed from the event store (`runReportFromEvents`).
 */
import {
  parseParams,
  TREND_MANAGER_METRICS,
  TrendParams as TrendParamsSchema,
  type TrendMetric,
  type TrendParams,
} from '../../schemas/report-params.schema.ts'
import type { ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { ReportParamsError } from '../errors.ts'
import { addDays, dayIn, lastFullWeeks, weeksBetween, widenToWeeks } from '../projections/days.ts'
import { getUsableOrgSettings } from '../projections/org-settings.ts'
import { BASE_REPORT_NAMES, REPORT_COLUMNS, type ReportName } from './report-definitions.ts'
import { runReport, runReportFromEvents, type ReportRow } from './report-queries.ts'

export {
  MAX_TREND_WEEKS,
  TREND_MANAGER_METRICS,
  TREND_METRICS,
  TREND_REP_METRICS,
  TrendMetric,
  TrendParams,
} from '../../schemas/report-params.schema.ts'

/** Where a report is read from: the metric projections, or the event store (the reference). */
export const REPORT_SOURCES = ['projections', 'events'] as const
export type ReportSource = (typeof REPORT_SOURCES)[number]

/** `runReport` or `runReportFromEvents`. */
export function reportFrom(source: ReportSource): typeof runReport {
  return source === 'projections' ? runReport : runReportFromEvents
}

/**
 * `team-summary` over a range: one row per manager at the end of the range, sorted by
 * manager_id, columns `REPORT_COLUMNS['team-summary']`. Throws a ReportParamsError for bad params.
 */
export async function teamSummary(
  ch: ClickHouse,
  params: Parameters<typeof runReport>[2],
  source: ReportSource = 'projections',
): Promise<ReportRow[]> {
  return reportFrom(source)(ch, 'team-summary', params)
}

/** The columns of a trend of `metric`: `week`, then the metric. */
export function trendColumns(metric: TrendMetric): readonly ['week', TrendMetric] {
  return ['week', metric]
}

/**
 * The report a trend of `metric` runs each week, and its column naming the person. A manager
 * metric is read from the first manager report that has it (so `team_wins` is manager-autonomy's),
 * the `team_*` columns only team-summary has from team-summary, a rep metric from rep-volume.
 */
export function trendSource(metric: TrendMetric): { report: ReportName; id: 'manager_id' | 'rep_id' } {
  const isManager = (TREND_MANAGER_METRICS as readonly string[]).includes(metric)
  const names: readonly ReportName[] = isManager ? [...BASE_REPORT_NAMES, 'team-summary'] : ['rep-volume']
  const report = names.find((name) => REPORT_COLUMNS[name].includes(metric))
  if (report === undefined) throw new Error(`trend: no report has the column ${metric}`)
  return { report, id: isManager ? 'manager_id' : 'rep_id' }
}

/**
 * The whole ISO weeks a trend covers: `from`..`to` widened to Monday..Sunday, or the last `weeks`
 * full weeks before the week of `today` (the org's calendar day now).
 */
export function trendRange(params: TrendParams, today: string): { from: string; to: string } {
  if (params.weeks !== undefined) return lastFullWeeks(params.weeks, today)
  if (params.from === undefined || params.to === undefined) throw new Error('trend: no range (TrendParams refuses it)')
  return widenToWeeks({ from: params.from, to: params.to })
}

/**
 * `trend`: one row per ISO week of the range, oldest first, `{ week: <its Monday>, [metric]: value }`.
 * Each value is the metric's report over that week alone (`trendSource`); a week where the person
 * has no row of that report (not a manager, resp. not a rep, at that week's end; or unknown) gives
 * `null`. `now` fixes "today" for `weeks` (in the org's timezone). Throws a ReportParamsError naming
 * each bad parameter.
 */
export async function trend(
  ch: ClickHouse,
  params: TrendParams,
  source: ReportSource,
  now: Date,
): Promise<ReportRow[]> {
  const parsed = parseParams(TrendParamsSchema, params)
  if (!parsed.ok) throw new ReportParamsError(parsed.issues)
  const { org, metric } = parsed.value
  const person = parsed.value.manager ?? parsed.value.rep
  const today = dayIn(now, (await getUsableOrgSettings(ch, org)).timezone)
  const range = trendRange(parsed.value, today)
  const { report, id } = trendSource(metric)
  const rows: ReportRow[] = []
  for (const week of weeksBetween(range.from, range.to)) {
    const weekRows = await reportFrom(source)(ch, report, { org, from: week, to: addDays(week, 6) })
    const row = weekRows.find((r) => r[id] === person)
    rows.push({ week, [metric]: row === undefined ? null : row[metric] })
  }
  return rows
}
