/**
 * The metric projections: per-day facts of every metric, recomputed from the event store for the
 * days that new events touched, read by `runReport`. Plain async functions with JSON-serialisable
 * inputs and outputs, so that they can run as Temporal activities.
 *
 * Replacement is by generation (see migration 0002, `metric_days`): a recomputation writes the
 * facts of its days under a fresh generation id, then one marker per day; readers see only each
 * day's latest marker's generation. Recomputing is therefore idempotent for readers, atomic for
 * them, safe to retry after a crash at any step, and two concurrent recomputations of a day never
 * mix (the later-started one wins, and it read at least as many events as the other).
 *
 * The superseded generations are deleted later, in bulk, by `pruneSuperseded`: on chDB a
 * lightweight DELETE or ALTER … DELETE costs 0.5–0.9 s per table even when it matches nothing
 * (mutations are scheduled and awaited), several times the cost of recomputing a day, so a
 * delete-then-insert recomputation would spend most of its time deleting.
 */
import { randomUUID } from 'node:crypto'
import type { EventType } from '../../schemas/events.schema.ts'
import { FIRST_DAY, LAST_DAY, parseParams, RebuildParams } from '../../schemas/report-params.schema.ts'
import type { ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { ParamsError } from '../errors.ts'
import { dayRuns, instantBounds, normalizeDays } from './days.ts'
import {
  factCtes,
  ID128,
  MATERIALIZED_CTES,
  materializeCte,
  materializedTableParam,
  METRICS_DEFINITION_VERSION,
} from './metric-facts.ts'
import { getUsableOrgSettings, type OrgSettings } from './org-settings.ts'
import { sql, SqlFragment } from '../clickhouse/sql.ts'

export { METRICS_DEFINITION_VERSION } from './metric-facts.ts'

/** What the projection activities need: the ClickHouse handle, and a clock for `computed_at`. */
export interface ProjectionDeps {
  ch: ClickHouse
  clock?: () => Date
}

/** Days of one org, `YYYY-MM-DD` in the org's timezone. */
export interface OrgDays {
  org: string
  days: string[]
}

/** Most consecutive days one recomputation query reads. */
const MAX_RUN_DAYS = 31

const COMMON = sql`{org:String}, day, {generation:UUID}`
/** Event types whose facts depend on a deal: the deal's own events and the activities. */
const DEAL_EVENTS: readonly EventType[] = [
  'opportunity.created',
  'opportunity.updated',
  'opportunity.stage_changed',
  'opportunity.owner_changed',
  'opportunity.closed',
  'activity.logged',
]
const STAMP = sql`{version:UInt16}, {computed_at:DateTime64(3, 'UTC')}`
const FACT_CTES = factCtes(MATERIALIZED_CTES)
const OPP = ID128(sql`opp`)

/**
 * The fact tables, how each day's rows are computed, and the event types of the window that its
 * rows can come from (see the fact CTEs in metric-facts.ts): a recomputation whose window holds
 * none of them skips the table, its rows of the new generation being none either way. Each insert
 * costs its planning (15–80 ms) even when it writes nothing, which is most of a small org's cost.
 */
const FACT_INSERTS: readonly { table: string; from: readonly EventType[]; insert: SqlFragment }[] = [
  {
    table: 'metric_manager_daily',
    // mf: dt (deal events), gs, rq → rd, mp → mq, rg
    from: [...DEAL_EVENTS, 'goal.set', 'message.sent', 'meeting.held', 'recognition.given'],
    insert: sql`
      INSERT INTO {db:Identifier}.metric_manager_daily
        (org_id, day, generation, manager_id, deals_active, deals_intervened, takeovers, team_wins,
         rep_closed_wins, goals_set, rep_messages, replied_within_24h, unanswered, reply_minutes,
         one_on_ones, one_on_one_people, lunches, recognitions, definition_version, computed_at)
      WITH ${FACT_CTES}
      SELECT ${COMMON}, m,
             groupUniqArrayIf(${OPP}, opp != ''), groupUniqArrayIf(${OPP}, intervention = 1), groupUniqArrayIf(${OPP}, takeover = 1),
             sum(won), sum(rep_won), sum(goal), sum(msg), sum(within_24h), sum(no_reply),
             groupArrayIf(assumeNotNull(reply_minutes), reply_minutes IS NOT NULL),
             sum(one_on_one), groupUniqArrayArray(people), sum(lunch), sum(recognition), ${STAMP}
      FROM mf
      GROUP BY day, m`,
  },
  {
    table: 'metric_rep_daily',
    // rf: created, dt (closed, first qualified entry), activities
    from: DEAL_EVENTS,
    insert: sql`
      INSERT INTO {db:Identifier}.metric_rep_daily
        (org_id, day, generation, rep_id, opportunities_created, pipeline_created_amount,
         opportunities_qualified, wins, losses, won_amount, activities, calls, emails, meetings,
         accounts_engaged, contacts_engaged, deals_worked, definition_version, computed_at)
      WITH ${FACT_CTES}
      SELECT ${COMMON}, r,
             sum(created), sumMap(pipeline), sum(qualified), sum(win), sum(loss), sumMap(won_map),
             sum(activity), sum(call), sum(email), sum(meeting),
             groupUniqArrayIf(${ID128(sql`account`)}, account != ''), groupUniqArrayArray(arrayMap(c -> ${ID128(sql`c`)}, contacts)),
             groupUniqArrayIf(${OPP}, opp != ''),
             ${STAMP}
      FROM rf
      GROUP BY day, r`,
  },
  {
    table: 'metric_multithreaded_deals',
    // mt: deals of the window's activities
    from: ['activity.logged'],
    insert: sql`
      INSERT INTO {db:Identifier}.metric_multithreaded_deals
        (org_id, deal_id128, opportunity_id, day, generation, definition_version, computed_at)
      WITH ${FACT_CTES}
      SELECT {org:String}, deal_id128, opportunity_id, day, {generation:UUID}, ${STAMP}
      FROM mt`,
  },
  {
    table: 'metric_user_versions',
    from: ['user.upserted'],
    insert: sql`
      INSERT INTO {db:Identifier}.metric_user_versions
        (org_id, day, generation, user_id, occurred_at, event_id, role, manager_id, active, definition_version, computed_at)
      WITH ${FACT_CTES}
      SELECT ${COMMON}, user_id, occurred_at, event_id, role, manager_id, active, ${STAMP}
      FROM uvf`,
  },
  {
    table: 'metric_expectations',
    from: ['quota.set', 'goal.set'],
    insert: sql`
      INSERT INTO {db:Identifier}.metric_expectations
        (org_id, day, generation, kind, user_id, set_by, period_start, period_end, definition_version, computed_at)
      WITH ${FACT_CTES}
      SELECT ${COMMON}, kind, user_id, set_by, period_start, period_end, ${STAMP}
      FROM exf`,
  },
]

// Written only after every fact row of the generation: from here on readers see the new facts.
const INSERT_MARKERS = sql`
  INSERT INTO {db:Identifier}.metric_days (org_id, day, generation, timezone, definition_version, computed_at)
  SELECT {org:String}, arrayJoin({days:Array(Date)}), {generation:UUID}, {tz:String}, ${STAMP}`

const WINDOW_TYPES = new SqlFragment(
  `SELECT DISTINCT type FROM {db:Identifier}.{${materializedTableParam('w')}:Identifier}`,
)

const COUNT_ROWS = sql`
  SELECT sum(n) AS n FROM (
    SELECT count() AS n FROM {db:Identifier}.metric_manager_daily WHERE org_id = {org:String} AND generation = {generation:UUID}
    UNION ALL SELECT count() FROM {db:Identifier}.metric_rep_daily WHERE org_id = {org:String} AND generation = {generation:UUID}
    UNION ALL SELECT count() FROM {db:Identifier}.metric_multithreaded_deals WHERE org_id = {org:String} AND generation = {generation:UUID}
    UNION ALL SELECT count() FROM {db:Identifier}.metric_user_versions WHERE org_id = {org:String} AND generation = {generation:UUID}
    UNION ALL SELECT count() FROM {db:Identifier}.metric_expectations WHERE org_id = {org:String} AND generation = {generation:UUID}
  )`

// Rows of a generation older than the day's latest marker are never visible again (a marker with
// a later computed_at wins). Rows of a generation without a marker are those of a recomputation
// that crashed before writing its markers: gone once older than `orphan_before`, which spares
// recomputations still writing. Facts first, markers last: a crash in between leaves only
// markers of generations without rows, which nobody reads. Lightweight DELETE masks rows at once;
// merges drop them (https://clickhouse.com/docs/sql-reference/statements/delete).
const SUPERSEDED = sql`
  SELECT d.day, d.generation
  FROM {db:Identifier}.metric_days AS d
  INNER JOIN (
    SELECT day, max(computed_at) AS latest FROM {db:Identifier}.metric_days WHERE org_id = {org:String} GROUP BY day
  ) AS l ON l.day = d.day
  WHERE d.org_id = {org:String} AND d.computed_at < l.latest`

const DELETE_SUPERSEDED = sql`
  DELETE FROM {db:Identifier}.{table:Identifier}
  WHERE org_id = {org:String}
    AND ((day, generation) IN (${SUPERSEDED})
      OR (generation NOT IN (SELECT generation FROM {db:Identifier}.metric_days WHERE org_id = {org:String})
          AND computed_at < {orphan_before:DateTime64(3, 'UTC')}))`

const DELETE_SUPERSEDED_MARKERS = sql`
  DELETE FROM {db:Identifier}.metric_days
  WHERE org_id = {org:String} AND (day, generation) IN (${SUPERSEDED})`

const FACT_TABLES = FACT_INSERTS.map(({ table }) => table)

// The Memory tables of one recomputation run, in one statement.
const DROP_MATERIALIZED = new SqlFragment(
  `DROP TABLE IF EXISTS ${MATERIALIZED_CTES.map((name) => `{db:Identifier}.{${materializedTableParam(name)}:Identifier}`).join(', ')}`,
)

// Memory tables of recomputations that died before dropping them.
const STALE_TMP_TABLES = sql`
  SELECT name FROM system.tables
  WHERE database = {db:String} AND startsWith(name, 'metric_tmp_') AND metadata_modification_time < {orphan_before:DateTime64(3, 'UTC')}`

// Days touched by new events, widened to the days whose facts they can change (docs/metrics.md):
// - a message can be the reply of the messages of its thread up to 168 h earlier (at the same
//   instant too: ties are ordered by event_id), so their days;
// - a user.upserted changes the org chart as of every later instant: every later event day;
// - an opportunity.created sets its deal's owner from then on, and the account and amount that
//   the deal's events use at any time: every day with an event of the deal;
// - an owner_changed (owner of later events), a stage_changed (first qualified entry) and an
//   activity.logged with a deal (the day the deal becomes multithreaded) change facts of the
//   deal's later events: every day, from their own, with an event of the deal.
const AFFECTED_DAYS = sql`
  WITH
    touched AS (
      SELECT type, occurred_at, opportunity_id, thread_id, toDate(occurred_at, {tz:String}) AS day
      FROM {db:Identifier}.events
      WHERE org_id = {org:String}
        AND occurred_at >= {lo:DateTime64(3, 'UTC')} AND occurred_at < {hi:DateTime64(3, 'UTC')}
        AND has({days:Array(Date)}, toDate(occurred_at, {tz:String}))
    ),
    messages AS (SELECT thread_id, occurred_at FROM touched WHERE type = 'message.sent'),
    deals_since AS (
      SELECT opportunity_id, if(countIf(type = 'opportunity.created') > 0, toDate(0), min(day)) AS since
      FROM touched
      WHERE opportunity_id != ''
        AND type IN ('opportunity.created', 'opportunity.owner_changed', 'opportunity.stage_changed', 'activity.logged')
      GROUP BY opportunity_id
    )
  SELECT DISTINCT toString(day) AS day FROM (
    SELECT arrayJoin({days:Array(Date)}) AS day
    UNION ALL
    SELECT toDate(e.occurred_at, {tz:String})
    FROM (
      SELECT thread_id, occurred_at
      FROM {db:Identifier}.events
      WHERE org_id = {org:String} AND type = 'message.sent'
        AND thread_id IN (SELECT thread_id FROM messages)
        AND occurred_at >= (SELECT addHours(min(occurred_at), -168) FROM messages)
        AND occurred_at <= (SELECT max(occurred_at) FROM messages)
    ) AS e
    INNER JOIN messages AS m ON e.thread_id = m.thread_id
    WHERE e.occurred_at >= addHours(m.occurred_at, -168) AND e.occurred_at <= m.occurred_at
    UNION ALL
    SELECT toDate(occurred_at, {tz:String})
    FROM {db:Identifier}.events
    WHERE org_id = {org:String}
      AND (SELECT count() FROM touched WHERE type = 'user.upserted') > 0
      AND toDate(occurred_at, {tz:String}) >= (SELECT min(day) FROM touched WHERE type = 'user.upserted')
    UNION ALL
    SELECT e.day
    FROM (
      SELECT opportunity_id, toDate(occurred_at, {tz:String}) AS day
      FROM {db:Identifier}.events
      WHERE org_id = {org:String} AND opportunity_id IN (SELECT opportunity_id FROM deals_since)
    ) AS e
    INNER JOIN deals_since AS s ON e.opportunity_id = s.opportunity_id
    WHERE e.day >= s.since
  )
  ORDER BY day`

const EVENT_DAYS = sql`
  SELECT DISTINCT toString(toDate(occurred_at, {tz:String})) AS day
  FROM {db:Identifier}.events
  WHERE org_id = {org:String}
    AND toDate(occurred_at, {tz:String}) >= {from:Date} AND toDate(occurred_at, {tz:String}) <= {to:Date}
  ORDER BY day`

/**
 * Makes the projection activities.
 * - `recomputeDays` recomputes the facts of the given days from the event store and replaces
 *   theirs (idempotent). Returns how many days and fact rows it wrote.
 * - `affectedDays` widens the days touched by new events to every day whose facts they may change.
 * - `listEventDays` lists the days with events (optionally within `from`..`to`), for rebuilds.
 * - `pruneSuperseded` deletes the rows no reader sees any more (superseded generations, and
 *   generations without a marker older than `olderThanMinutes`, default 60); run it now and then
 *   (e.g. after a rebuild, or hourly), not after every recomputation.
 *
 * Bad input (a day that is no calendar date, a range that breaks `RebuildParams`, an org setting
 * ClickHouse cannot use) throws a BadInputError of services/errors.ts, which the worker turns into
 * a non-retryable failure; anything else is a fault, and retried.
 */
export function createProjectionActivities(deps: ProjectionDeps) {
  const { ch } = deps
  const clock = deps.clock ?? (() => new Date())

  async function recomputeDays(input: OrgDays): Promise<{ days: number; rows: number }> {
    return recompute(input, await getUsableOrgSettings(ch, input.org))
  }

  /** `recomputeDays` with the org's settings already read (each statement saved is a wait saved). */
  async function recompute(input: OrgDays, settings: OrgSettings): Promise<{ days: number; rows: number }> {
    const days = normalizeDays(input.days)
    if (days.length === 0) return { days: 0, rows: 0 }
    // computed_at is taken before any event is read: a later computed_at saw at least as much.
    const generation = randomUUID()
    const stamp = { generation, computed_at: toDateTime64(clock()), version: METRICS_DEFINITION_VERSION }
    for (const run of dayRuns(days, MAX_RUN_DAYS)) {
      const tmp = Object.fromEntries(
        MATERIALIZED_CTES.map((name) => [
          materializedTableParam(name),
          `metric_tmp_${generation.replaceAll('-', '')}_${name}`,
        ]),
      )
      const params = {
        db: ch.database,
        org: input.org,
        tz: settings.timezone,
        currency: settings.defaultCurrency,
        days: run,
        ...instantBounds(run),
        ...stamp,
        ...tmp,
      }
      try {
        for (const name of MATERIALIZED_CTES)
          await ch.client.command({ query: materializeCte(name).text, query_params: params })
        const types = await ch.client.query({ query: WINDOW_TYPES.text, query_params: params, format: 'JSONEachRow' })
        const inWindow = new Set((await types.json<{ type: string }>()).map((r) => r.type))
        for (const { insert, from } of FACT_INSERTS) {
          if (from.some((type) => inWindow.has(type)))
            await ch.client.command({ query: insert.text, query_params: params })
        }
        await ch.client.command({ query: INSERT_MARKERS.text, query_params: params })
      } finally {
        await ch.client.command({ query: DROP_MATERIALIZED.text, query_params: { db: ch.database, ...tmp } })
      }
    }
    const result = await ch.client.query({
      query: COUNT_ROWS.text,
      query_params: { db: ch.database, org: input.org, generation },
      format: 'JSONEachRow',
    })
    const [count] = await result.json<{ n: number | string }>()
    return { days: days.length, rows: Number(count?.n ?? 0) }
  }

  async function pruneSuperseded(input: { org: string; olderThanMinutes?: number }): Promise<{ tables: number }> {
    const orphanBefore = new Date(clock().getTime() - (input.olderThanMinutes ?? 60) * 60_000)
    const params = { db: ch.database, org: input.org, orphan_before: toDateTime64(orphanBefore) }
    for (const table of FACT_TABLES)
      await ch.client.command({ query: DELETE_SUPERSEDED.text, query_params: { ...params, table } })
    await ch.client.command({ query: DELETE_SUPERSEDED_MARKERS.text, query_params: params })
    const stale = await ch.client.query({
      query: STALE_TMP_TABLES.text,
      query_params: params,
      format: 'JSONEachRow',
    })
    for (const { name } of await stale.json<{ name: string }>()) {
      await ch.client.command({
        query: 'DROP TABLE IF EXISTS {db:Identifier}.{table:Identifier}',
        query_params: { db: ch.database, table: name },
      })
    }
    return { tables: FACT_TABLES.length }
  }

  async function affectedDays(input: OrgDays): Promise<string[]> {
    return affected(input, await getUsableOrgSettings(ch, input.org))
  }

  async function affected(input: OrgDays, settings: OrgSettings): Promise<string[]> {
    const days = normalizeDays(input.days)
    if (days.length === 0) return []
    const result = await ch.client.query({
      query: AFFECTED_DAYS.text,
      query_params: { db: ch.database, org: input.org, tz: settings.timezone, days, ...instantBounds(days) },
      format: 'JSONEachRow',
    })
    return (await result.json<{ day: string }>()).map((r) => r.day)
  }

  async function listEventDays(input: RebuildParams): Promise<string[]> {
    // The CLI and the HTTP API check these already; a workflow started some other way is not.
    const parsed = parseParams(RebuildParams, input)
    if (!parsed.ok) throw new ParamsError(parsed.issues, 'listEventDays: ')
    const { from = FIRST_DAY, to = LAST_DAY } = parsed.value
    const settings = await getUsableOrgSettings(ch, input.org)
    const result = await ch.client.query({
      query: EVENT_DAYS.text,
      query_params: { db: ch.database, org: input.org, tz: settings.timezone, from, to },
      format: 'JSONEachRow',
    })
    return (await result.json<{ day: string }>()).map((r) => r.day)
  }

  /**
   * `affectedDays` and then `recomputeDays` of the first `MAX_RUN_DAYS` of them, in one activity:
   * the common case of the metrics workflow (a few days touched) in one round trip through
   * Temporal instead of two. Returns every affected day, so that the caller recomputes the rest.
   */
  async function recomputeAffectedDays(input: OrgDays): Promise<{ affected: string[]; days: number; rows: number }> {
    const settings = await getUsableOrgSettings(ch, input.org)
    const days = await affected(input, settings)
    const first = await recompute({ org: input.org, days: days.slice(0, MAX_RUN_DAYS) }, settings)
    return { affected: days, ...first }
  }

  return { recomputeDays, affectedDays, recomputeAffectedDays, listEventDays, pruneSuperseded }
}

/** ClickHouse DateTime64(3) text of an instant, in UTC. */
function toDateTime64(instant: Date): string {
  return instant.toISOString().replace('T', ' ').replace('Z', '')
}

/** The projection activities, as Temporal workers register them. */
export type ProjectionActivities = ReturnType<typeof createProjectionActivities>
