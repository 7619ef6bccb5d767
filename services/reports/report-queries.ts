/**
 * The reports of docs/metrics.md, two ways that must give the same rows:
 * - `runReport` reads the metric projections (`projection-activities.ts`): per-day facts merged
 *   over the range, plus what is resolved at the end of the range (the org chart, the quotas and
 *   goals that overlap the range, whether each deal worked was multithreaded by then). Fast on
 *   any range.
 * - `runReportFromEvents` computes everything from the event store: the reference definition.
 *
 * Both aggregate the facts of `metric-facts.ts` and share the final assembly below, which takes
 * these inputs: `chart` (org chart at the last instant of `to`), `exp` (quotas and goals set by the
 * end of the range whose period overlaps it), `mfa` / `rfa` (manager / rep facts summed over the
 * range, with `multi`, the deals whose activities have 3 or more distinct contacts by the end).
 */
import { parseParams, ReportAsOfParams } from '../../schemas/report-params.schema.ts'
import type { ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { ReportParamsError } from '../errors.ts'
import { daysBetween, instantBounds } from '../projections/days.ts'
import { asOfParam, factCtes, KNOWN_BY_AS_OF, METRICS_DEFINITION_VERSION } from '../projections/metric-facts.ts'
import { getUsableOrgSettings } from '../projections/org-settings.ts'
import {
  buildManagerReport,
  buildRepReport,
  buildTeamSummary,
  REPORT_NAMES,
  type BaseReports,
  type ManagerParts,
  type RepParts,
  type ReportName,
  type ReportRow,
} from './report-definitions.ts'
import { sql, type SqlFragment } from '../clickhouse/sql.ts'

export { MAX_RANGE_DAYS } from '../../schemas/report-params.schema.ts'
export { ReportParamsError }
export { REPORT_COLUMNS, REPORT_NAMES } from './report-definitions.ts'
export type { ReportName, ReportParams, ReportRow } from './report-definitions.ts'

// ---------------------------------------------------------------------------------------------
// Shared assembly

// Each input is read once (ClickHouse evaluates a CTE at every reference): managers and their
// teams at the end of the range come from one pass over `chart`, where each user yields
// (m = itself) if a manager and (m = its manager, rep = itself) if an active rep.
const MANAGER_SELECT = sql`
  SELECT t.m AS manager_id,
         f.deals_active AS deals_active, f.deals_intervened AS deals_intervened, f.takeovers AS takeovers,
         f.team_wins AS team_wins, f.rep_closed_wins AS rep_closed_wins,
         t.team_size AS team_size, t.reps_with_quota AS reps_with_quota, f.goals_set AS goals_set,
         t.reps_with_goals AS reps_with_goals,
         f.rep_messages AS rep_messages, f.replied_within_24h AS replied_within_24h, f.unanswered AS unanswered,
         f.reply_quantiles AS reply_quantiles, f.one_on_ones AS one_on_ones,
         arrayCount(x -> has(f.one_on_one_people, x), t.team) AS reps_with_one_on_one,
         f.lunches AS lunches, f.recognitions AS recognitions
  FROM (
    SELECT p.m AS m, groupArrayIf(p.rep, p.rep != '') AS team, length(team) AS team_size,
           countIf(p.rep != '' AND e.has_quota = 1) AS reps_with_quota,
           countIf(p.rep != '' AND has(e.goal_setters, p.m)) AS reps_with_goals
    FROM (
      SELECT pair.1 AS m, pair.2 AS rep
      FROM chart
      ARRAY JOIN arrayFilter(x -> x.1 != '', [
        if(role = 'manager', (user_id, ''), ('', '')),
        if(role = 'rep' AND active = 1, (manager_id, user_id), ('', ''))]) AS pair
    ) AS p
    LEFT JOIN (
      SELECT user_id, toUInt8(countIf(kind = 'quota') > 0) AS has_quota, groupUniqArrayIf(set_by, kind = 'goal') AS goal_setters
      FROM exp
      GROUP BY user_id
    ) AS e ON e.user_id = p.rep
    GROUP BY p.m
    HAVING countIf(p.rep = '') > 0
  ) AS t
  LEFT JOIN mfa AS f ON f.m = t.m
  ORDER BY manager_id`

const REP_SELECT = sql`
  SELECT c.user_id AS rep_id, c.manager_id AS manager_id,
         f.opportunities_created AS opportunities_created, f.pipeline_created_amount AS pipeline_created_amount,
         f.opportunities_qualified AS opportunities_qualified, f.wins AS wins, f.losses AS losses,
         f.won_amount AS won_amount, f.activities AS activities, f.calls AS calls, f.emails AS emails,
         f.meetings AS meetings, f.accounts_engaged AS accounts_engaged, f.contacts_engaged AS contacts_engaged,
         length(f.deals) AS deals_worked,
         arrayCount(d -> d IN (SELECT id FROM multi), f.deals) AS multithreaded_deals
  FROM (SELECT user_id, manager_id FROM chart WHERE role = 'rep') AS c
  LEFT JOIN rfa AS f ON f.r = c.user_id
  ORDER BY rep_id`

// ---------------------------------------------------------------------------------------------
// Reference: straight from the event store, as of the instant `as_of` (asOfParam): every read of
// `events` keeps the rows ingested by then (KNOWN_BY_AS_OF). Also read by explain.ts.

/** Org chart at the last instant of `to`: per user, the latest upsert of a day <= `to` (its event_id). */
export const CHART_FROM_EVENTS = sql`
  chart AS (
    SELECT user_id, v.1 AS role, v.2 AS manager_id, v.3 AS active, v.4 AS event_id
    FROM (
      SELECT user_id, argMax(tuple(role, manager_id, active, event_id), (occurred_at, event_id)) AS v
      FROM {db:Identifier}.events
      WHERE org_id = {org:String} ${KNOWN_BY_AS_OF} AND type = 'user.upserted'
        AND occurred_at < {hi:DateTime64(3, 'UTC')} AND toDate(occurred_at, {tz:String}) <= {to:Date}
      GROUP BY user_id
    )
  )`

/** Quotas and goals set by the end of the range whose period overlaps it (a row per stored copy). */
export const EXPECTATIONS_FROM_EVENTS = sql`
  exp AS (
    SELECT if(type = 'quota.set', 'quota', 'goal') AS kind, user_id, set_by, event_id
    FROM {db:Identifier}.events
    WHERE org_id = {org:String} ${KNOWN_BY_AS_OF} AND type IN ('quota.set', 'goal.set')
      AND occurred_at < {hi:DateTime64(3, 'UTC')} AND toDate(occurred_at, {tz:String}) <= {to:Date}
      AND period_start <= {to:Date} AND period_end >= {from:Date}
  )`

/** Deals whose activities, by anyone, have 3 or more distinct contacts up to the end of the range. */
export const MULTI_FROM_EVENTS = sql`
  multi AS (
    SELECT opportunity_id AS id
    FROM {db:Identifier}.events
    WHERE org_id = {org:String} ${KNOWN_BY_AS_OF} AND type = 'activity.logged' AND opportunity_id != ''
      AND occurred_at < {hi:DateTime64(3, 'UTC')} AND toDate(occurred_at, {tz:String}) <= {to:Date}
    GROUP BY opportunity_id
    HAVING uniqExactArray(contact_ids) >= 3
  )`

const MANAGER_REPORT_FROM_EVENTS = sql`
  WITH ${factCtes([], { asOf: true })},
  mfa AS (
    SELECT m,
           uniqExactIf(opp, opp != '') AS deals_active,
           uniqExactIf(opp, intervention = 1) AS deals_intervened,
           uniqExactIf(opp, takeover = 1) AS takeovers,
           sum(won) AS team_wins, sum(rep_won) AS rep_closed_wins, sum(goal) AS goals_set,
           sum(msg) AS rep_messages, sum(within_24h) AS replied_within_24h, sum(no_reply) AS unanswered,
           quantilesExactIf(0.5, 0.9)(assumeNotNull(reply_minutes), reply_minutes IS NOT NULL) AS reply_quantiles,
           sum(one_on_one) AS one_on_ones, groupUniqArrayArray(people) AS one_on_one_people,
           sum(lunch) AS lunches, sum(recognition) AS recognitions
    FROM mf
    GROUP BY m
  ),
  ${CHART_FROM_EVENTS},
  ${EXPECTATIONS_FROM_EVENTS}
  ${MANAGER_SELECT}`

const REP_REPORT_FROM_EVENTS = sql`
  WITH ${factCtes([], { asOf: true })},
  rfa AS (
    SELECT r,
           sum(created) AS opportunities_created, sumMap(pipeline) AS pipeline_created_amount,
           sum(qualified) AS opportunities_qualified, sum(win) AS wins, sum(loss) AS losses,
           sumMap(won_map) AS won_amount, sum(activity) AS activities, sum(call) AS calls,
           sum(email) AS emails, sum(meeting) AS meetings,
           uniqExactIf(account, account != '') AS accounts_engaged, uniqExactArray(contacts) AS contacts_engaged,
           groupUniqArrayIf(opp, opp != '') AS deals
    FROM rf
    GROUP BY r
  ),
  ${MULTI_FROM_EVENTS},
  ${CHART_FROM_EVENTS}
  ${REP_SELECT}`

// ---------------------------------------------------------------------------------------------
// Fast: from the projections, as the read views of migration 0003 show them

/**
 * The generation of each day that readers see, from the view `visible_generations` (migration
 * 0003, where ClickHouse states the rule for every reader: the latest marker's generation, if it
 * was computed with the org's current timezone and the current definitions), as the scalar
 * `visible`, an array of (day, generation). A scalar subquery is evaluated once per query, before
 * any table it filters is read, so every table of a report is read as of one set of markers, and
 * the facts of each marker are complete (they are written before it).
 *
 * The per-projection views of 0003 (`manager_days`, `rep_days`, …) apply the same rule row by row;
 * BI tools and the emails read those. A report reads the tables through this one set instead:
 * joining each view to the rule measured twice as slow on the 10 M-event org (p50 91 vs 45 ms,
 * 1-week manager report), and would read each table as of its own set of markers.
 */
const VISIBLE_GENERATIONS = sql`
  (
    SELECT groupArray(tuple(day, generation))
    FROM {db:Identifier}.visible_generations
    WHERE org_id = {org:String} AND day <= {to:Date}
  ) AS visible`

const VISIBLE = sql`(day, generation) IN (SELECT arrayJoin(visible))`

const CHART_FROM_PROJECTION = sql`
  chart AS (
    SELECT user_id, v.1 AS role, v.2 AS manager_id, v.3 AS active
    FROM (
      SELECT user_id, argMax(tuple(role, manager_id, active), (occurred_at, event_id)) AS v
      FROM {db:Identifier}.metric_user_versions
      WHERE org_id = {org:String} AND day <= {to:Date} AND ${VISIBLE}
      GROUP BY user_id
    )
  )`

const MANAGER_REPORT_FROM_PROJECTION = sql`
  WITH
  ${VISIBLE_GENERATIONS},
  mfa AS (
    SELECT manager_id AS m,
           uniqExactArray(deals_active) AS deals_active,
           uniqExactArray(deals_intervened) AS deals_intervened,
           uniqExactArray(takeovers) AS takeovers,
           sum(team_wins) AS team_wins, sum(rep_closed_wins) AS rep_closed_wins, sum(goals_set) AS goals_set,
           sum(rep_messages) AS rep_messages, sum(replied_within_24h) AS replied_within_24h,
           sum(unanswered) AS unanswered,
           quantilesExactArray(0.5, 0.9)(reply_minutes) AS reply_quantiles,
           sum(one_on_ones) AS one_on_ones, groupUniqArrayArray(one_on_one_people) AS one_on_one_people,
           sum(lunches) AS lunches, sum(recognitions) AS recognitions
    FROM {db:Identifier}.metric_manager_daily
    WHERE org_id = {org:String} AND day >= {from:Date} AND day <= {to:Date} AND ${VISIBLE}
    GROUP BY m
  ),
  ${CHART_FROM_PROJECTION},
  exp AS (
    SELECT kind, user_id, set_by
    FROM {db:Identifier}.metric_expectations
    WHERE org_id = {org:String} AND day <= {to:Date} AND ${VISIBLE}
      AND period_start <= {to:Date} AND period_end >= {from:Date}
  )
  ${MANAGER_SELECT}`

// Deals are 128-bit ids here (see migration 0002). A deal worked is multithreaded if it became so
// on a day up to the end of the range; looking up each rep's distinct deals is 2-3 times faster
// than filtering every day's deals.
const REP_REPORT_FROM_PROJECTION = sql`
  WITH
  ${VISIBLE_GENERATIONS},
  multi AS (
    SELECT deal_id128 AS id
    FROM {db:Identifier}.metric_multithreaded_deals
    WHERE org_id = {org:String} AND day <= {to:Date} AND ${VISIBLE}
  ),
  rfa AS (
    SELECT rep_id AS r,
           sum(opportunities_created) AS opportunities_created,
           sumMap(pipeline_created_amount) AS pipeline_created_amount,
           sum(opportunities_qualified) AS opportunities_qualified, sum(wins) AS wins, sum(losses) AS losses,
           sumMap(won_amount) AS won_amount, sum(activities) AS activities, sum(calls) AS calls,
           sum(emails) AS emails, sum(meetings) AS meetings,
           uniqExactArray(accounts_engaged) AS accounts_engaged,
           uniqExactArray(contacts_engaged) AS contacts_engaged,
           groupUniqArrayArray(deals_worked) AS deals
    FROM {db:Identifier}.metric_rep_daily
    WHERE org_id = {org:String} AND day >= {from:Date} AND day <= {to:Date} AND ${VISIBLE}
    GROUP BY r
  ),
  ${CHART_FROM_PROJECTION}
  ${REP_SELECT}`

// ---------------------------------------------------------------------------------------------

/**
 * A report from the metric projections: rows exactly as docs/metrics.md "Reports" (one per manager,
 * resp. rep, at the end of the range; keys the report's columns in order; sorted by id). Days not
 * yet projected (no `recomputeDays` under the org's current timezone) count as empty.
 */
export async function runReport(ch: ClickHouse, name: ReportName, params: ReportAsOfParams): Promise<ReportRow[]> {
  // The projections hold the facts of now: as of an instant, only the event store can answer.
  if (params.asOf !== undefined) return runReportFromEvents(ch, name, params)
  return report(ch, name, params, PROJECTION_QUERIES)
}

/**
 * The same report computed directly from the event store: the reference definition. With
 * `params.asOf`, the report as the store knew it then: only the events ingested by that instant.
 */
export async function runReportFromEvents(
  ch: ClickHouse,
  name: ReportName,
  params: ReportAsOfParams,
): Promise<ReportRow[]> {
  return report(ch, name, params, REFERENCE_QUERIES)
}

/**
 * Checks report parameters with the schemas' `ReportAsOfParams` (as the CLI and the HTTP API do);
 * throws a ReportParamsError naming each bad one.
 */
export function validateReportParams(name: string, params: ReportAsOfParams): asserts name is ReportName {
  if (!(REPORT_NAMES as readonly string[]).includes(name)) {
    const rule = `must be one of ${REPORT_NAMES.join(', ')}`
    throw new ReportParamsError([
      { parameter: 'report', rule, message: `report: ${rule} (got ${JSON.stringify(name)})` },
    ])
  }
  const parsed = parseParams(ReportAsOfParams, params)
  if (!parsed.ok) throw new ReportParamsError(parsed.issues)
}

/** The two queries a report runs, one per grain, and where they read. */
interface GrainQueries {
  manager: SqlFragment
  rep: SqlFragment
  projected: boolean
}
const PROJECTION_QUERIES: GrainQueries = {
  manager: MANAGER_REPORT_FROM_PROJECTION,
  rep: REP_REPORT_FROM_PROJECTION,
  projected: true,
}
const REFERENCE_QUERIES: GrainQueries = {
  manager: MANAGER_REPORT_FROM_EVENTS,
  rep: REP_REPORT_FROM_EVENTS,
  projected: false,
}

// The three manager reports are three views of one query's parts (every manager metric's summed
// numerator and denominator), so team-summary runs that query once and the rep query once, and it
// cannot disagree with the base reports. The two queries may see different markers if a
// recomputation lands between them.
async function report(
  ch: ClickHouse,
  name: ReportName,
  params: ReportAsOfParams,
  queries: GrainQueries,
): Promise<ReportRow[]> {
  validateReportParams(name, params)
  const queryParams = await reportQueryParams(ch, params, queries.projected)
  const parts = async <T>(query: SqlFragment) =>
    (await ch.client.query({ query: query.text, query_params: queryParams, format: 'JSONEachRow' })).json<T>()
  if (name === 'rep-volume') return buildRepReport(await parts<RepParts>(queries.rep))
  if (name !== 'team-summary') return buildManagerReport(name, await parts<ManagerParts>(queries.manager))
  const managers = await parts<ManagerParts>(queries.manager)
  const reps = await parts<RepParts>(queries.rep)
  const reports: BaseReports = {
    'manager-autonomy': buildManagerReport('manager-autonomy', managers),
    'manager-direction': buildManagerReport('manager-direction', managers),
    'manager-care': buildManagerReport('manager-care', managers),
    'rep-volume': buildRepReport(reps),
  }
  return buildTeamSummary(reports)
}

async function reportQueryParams(
  ch: ClickHouse,
  params: ReportAsOfParams,
  projected: boolean,
): Promise<Record<string, unknown>> {
  const settings = await getUsableOrgSettings(ch, params.org)
  const queryParams: Record<string, unknown> = {
    db: ch.database,
    org: params.org,
    tz: settings.timezone,
    currency: settings.defaultCurrency,
    from: params.from,
    to: params.to,
    version: METRICS_DEFINITION_VERSION,
  }
  if (!projected) {
    const days = daysBetween(params.from, params.to)
    Object.assign(queryParams, { days, ...instantBounds(days), as_of: asOfParam(params.asOf) })
  }
  return queryParams
}
