/**
 * The reports of docs/metrics.md ("Reports"): their names, their columns in order, and the pure
 * functions that turn the summed parts ClickHouse returns into report rows (ratios from summed
 * numerator and denominator, `null` for a zero denominator).
 */

import {
  AUTONOMY_METRICS,
  CARE_METRICS,
  DIRECTION_METRICS,
  TEAM_SUMMARY_MANAGER_METRICS,
  TEAM_VOLUME_METRICS,
  VOLUME_METRICS,
} from '../../schemas/report-columns.schema.ts'

/** The four reports of docs/metrics.md that the SQL computes; the others are composed from them. */
export const BASE_REPORT_NAMES = ['manager-autonomy', 'manager-direction', 'manager-care', 'rep-volume'] as const
/** One of `BASE_REPORT_NAMES`. */
export type BaseReportName = (typeof BASE_REPORT_NAMES)[number]

/**
 * The reports of docs/metrics.md with fixed columns, for the CLI and the HTTP API (`trend` has
 * parameters of its own: `services/reports/summary-reports.ts`).
 */
export const REPORT_NAMES = [...BASE_REPORT_NAMES, 'team-summary'] as const
/** One of `REPORT_NAMES`. */
export type ReportName = (typeof REPORT_NAMES)[number]

/** Report parameters: an org and an inclusive range of calendar dates in the org's timezone. */
export type { ReportParams } from '../../schemas/report-params.schema.ts'

/** A report row: exactly the report's columns, in order. */
export type ReportRow = Record<string, unknown>

/** Per-currency amounts, e.g. `{ USD: 15000 }`. */
export type Amounts = Record<string, number>

/** Columns of each report, exactly as docs/metrics.md lists them, in order. */
export const REPORT_COLUMNS: Record<ReportName, readonly string[]> = {
  'manager-autonomy': ['manager_id', ...AUTONOMY_METRICS],
  'manager-direction': ['manager_id', ...DIRECTION_METRICS],
  'manager-care': ['manager_id', ...CARE_METRICS],
  'rep-volume': ['rep_id', 'manager_id', ...VOLUME_METRICS],
  'team-summary': ['manager_id', ...TEAM_SUMMARY_MANAGER_METRICS, ...TEAM_VOLUME_METRICS],
}

/** The summed parts of every manager metric, one row per manager (what the SQL returns). */
export interface ManagerParts {
  manager_id: string
  deals_active: number
  deals_intervened: number
  takeovers: number
  team_wins: number
  rep_closed_wins: number
  team_size: number
  reps_with_quota: number
  goals_set: number
  reps_with_goals: number
  rep_messages: number
  replied_within_24h: number
  unanswered: number
  /** quantilesExact(0.5, 0.9) of the reply delays in minutes; meaningless when nothing was replied. */
  reply_quantiles: number[]
  one_on_ones: number
  reps_with_one_on_one: number
  lunches: number
  recognitions: number
}

/** The summed parts of every rep metric, one row per rep (what the SQL returns). */
export interface RepParts {
  rep_id: string
  /** '' when the rep has no manager. */
  manager_id: string
  opportunities_created: number
  pipeline_created_amount: Amounts
  opportunities_qualified: number
  wins: number
  losses: number
  won_amount: Amounts
  activities: number
  calls: number
  emails: number
  meetings: number
  accounts_engaged: number
  contacts_engaged: number
  deals_worked: number
  multithreaded_deals: number
}

/** `numerator / denominator`, or `null` for a zero denominator. */
export function ratio(numerator: number, denominator: number): number | null {
  return denominator === 0 ? null : numerator / denominator
}

/** Every manager metric of one manager, keyed by column name. */
export function managerMetrics(p: ManagerParts): ReportRow {
  const replied = p.rep_messages - p.unanswered
  return {
    manager_id: p.manager_id,
    deals_active: num(p.deals_active),
    deals_intervened: num(p.deals_intervened),
    intervention_rate: ratio(num(p.deals_intervened), num(p.deals_active)),
    takeovers: num(p.takeovers),
    team_wins: num(p.team_wins),
    rep_closed_wins: num(p.rep_closed_wins),
    rep_led_win_share: ratio(num(p.rep_closed_wins), num(p.team_wins)),
    team_size: num(p.team_size),
    reps_with_quota: num(p.reps_with_quota),
    quota_coverage: ratio(num(p.reps_with_quota), num(p.team_size)),
    goals_set: num(p.goals_set),
    reps_with_goals: num(p.reps_with_goals),
    goal_coverage: ratio(num(p.reps_with_goals), num(p.team_size)),
    rep_messages: num(p.rep_messages),
    replied_within_24h: num(p.replied_within_24h),
    reply_within_24h_share: ratio(num(p.replied_within_24h), num(p.rep_messages)),
    unanswered: num(p.unanswered),
    median_reply_minutes: replied > 0 ? num(p.reply_quantiles[0]) : null,
    p90_reply_minutes: replied > 0 ? num(p.reply_quantiles[1]) : null,
    one_on_ones: num(p.one_on_ones),
    reps_with_one_on_one: num(p.reps_with_one_on_one),
    one_on_one_coverage: ratio(num(p.reps_with_one_on_one), num(p.team_size)),
    lunches: num(p.lunches),
    recognitions: num(p.recognitions),
  }
}

/** Every rep metric of one rep, keyed by column name. */
export function repMetrics(p: RepParts): ReportRow {
  return {
    rep_id: p.rep_id,
    manager_id: p.manager_id === '' ? null : p.manager_id,
    opportunities_created: num(p.opportunities_created),
    pipeline_created_amount: amounts(p.pipeline_created_amount),
    opportunities_qualified: num(p.opportunities_qualified),
    wins: num(p.wins),
    losses: num(p.losses),
    win_rate: ratio(num(p.wins), num(p.wins) + num(p.losses)),
    won_amount: amounts(p.won_amount),
    activities: num(p.activities),
    calls: num(p.calls),
    emails: num(p.emails),
    meetings: num(p.meetings),
    accounts_engaged: num(p.accounts_engaged),
    contacts_engaged: num(p.contacts_engaged),
    contacts_per_account: ratio(num(p.contacts_engaged), num(p.accounts_engaged)),
    deals_worked: num(p.deals_worked),
    multithreaded_deals: num(p.multithreaded_deals),
    multithreaded_share: ratio(num(p.multithreaded_deals), num(p.deals_worked)),
  }
}

/** Keeps exactly the report's columns, in the report's order. */
export function pickColumns(name: ReportName, metrics: ReportRow): ReportRow {
  const row: ReportRow = {}
  for (const column of REPORT_COLUMNS[name]) {
    if (!(column in metrics)) throw new Error(`report ${name}: no value for column ${column}`)
    row[column] = metrics[column]
  }
  return row
}

/** Builds the rows of a manager report from the SQL's parts (already sorted by id). */
export function buildManagerReport(name: Exclude<BaseReportName, 'rep-volume'>, parts: ManagerParts[]): ReportRow[] {
  return parts.map((p) => pickColumns(name, managerMetrics(p)))
}

/** Builds the rows of the rep report from the SQL's parts (already sorted by id). */
export function buildRepReport(parts: RepParts[]): ReportRow[] {
  return parts.map((p) => pickColumns('rep-volume', repMetrics(p)))
}

/** The rows of the base reports over one range, the inputs of `buildTeamSummary`. */
export type BaseReports = Record<BaseReportName, readonly ReportRow[]>

/**
 * `team-summary` (docs/metrics.md "Reports") from the base reports over the same range: one row
 * per manager (the rows of the manager reports, sorted by id), its manager columns copied from
 * them, and the `team_*` columns summed over the `rep-volume` rows whose `manager_id` is that
 * manager: every rep at the end of the range, active or not (`team_size` counts the active ones).
 * Its `team_wins` is Σ `wins` of those reps, not manager-autonomy's `team_wins`, which counts the
 * wins of team deal events (a rep who moved teams in the range differs).
 */
export function buildTeamSummary(reports: BaseReports): ReportRow[] {
  const byManager = (name: Exclude<BaseReportName, 'rep-volume'>) =>
    new Map(reports[name].map((row) => [row['manager_id'], row]))
  const direction = byManager('manager-direction')
  const care = byManager('manager-care')
  const teams = new Map<unknown, ReportRow[]>()
  for (const rep of reports['rep-volume']) {
    if (rep['manager_id'] === null) continue
    teams.set(rep['manager_id'], [...(teams.get(rep['manager_id']) ?? []), rep])
  }
  return reports['manager-autonomy'].map((autonomy) => {
    const id = autonomy['manager_id']
    const d = direction.get(id)
    const c = care.get(id)
    // The three manager reports come from one query shape over the same org chart.
    if (d === undefined || c === undefined) throw new Error(`team-summary: manager ${String(id)} lacks a report row`)
    const team = teams.get(id) ?? []
    const sum = (column: string) => team.reduce((total, rep) => total + num(rep[column] as number), 0)
    const wins = sum('wins')
    const losses = sum('losses')
    return pickColumns('team-summary', {
      ...autonomy,
      ...d,
      ...c,
      team_opportunities_created: sum('opportunities_created'),
      team_opportunities_qualified: sum('opportunities_qualified'),
      team_wins: wins,
      team_losses: losses,
      team_win_rate: ratio(wins, wins + losses),
      team_activities: sum('activities'),
      team_multithreaded_share: ratio(sum('multithreaded_deals'), sum('deals_worked')),
    })
  })
}

// ClickHouse returns numbers as JSON numbers (output_format_json_quote_64bit_integers = 0), but a
// server configured otherwise quotes 64-bit integers: accept both.
function num(value: number | string | undefined): number {
  return typeof value === 'number' ? value : Number(value ?? 0)
}

/** Per-currency amounts as a plain object, currencies sorted. */
function amounts(map: Amounts | undefined): Amounts {
  const out: Amounts = {}
  for (const key of Object.keys(map ?? {}).sort()) out[key] = num(map?.[key])
  return out
}
