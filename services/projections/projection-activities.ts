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
import { BadInputError, DayError, OrgSettingsError, ParamsError } from '../errors.ts'
import { addDays, instantBounds, normalizeDays } from './days.ts'
import {
  factCtes,
  ID128,
  MATERIALIZED_CTES,
  materializeCte,
  materializedTableParam,
  METRICS_DEFINITION_VERSION,
  SPAN_BOUNDS,
  SPANS,
} from './metric-facts.ts'
import { getUsableOrgSettings, getUsableOrgSettingsOf } from './org-settings.ts'
import { sql, SqlFragment } from '../clickhouse/sql.ts'

export { METRICS_DEFINITION_VERSION } from './metric-facts.ts'

/** What the projection activities need: the ClickHouse handle, and a clock for `computed_at`. */
export interface ProjectionDeps {
  ch: ClickHouse
  clock?: () => Date
  /**
   * Most events one window of the set-based recompute reads. By default `WINDOW_EVENTS`, and days
   * within 31 are one window uncounted; given, it applies to every range (tests cut small ones).
   */
  windowEvents?: number
}

/** Days of one org, `YYYY-MM-DD` in the org's timezone. */
export interface OrgDays {
  org: string
  days: string[]
}

/** Most days (from the first to the last) that one window of a recomputation reads. */
const MAX_RUN_DAYS = 31

/**
 * Most events one window of the set-based recompute reads, and most days (from the first to the
 * last) of one of its spans. A window costs about a dozen planning-heavy statements however few
 * events it reads: a year of a small org (or of fifty) is one window, while the 10 M-event org
 * (about 20k events a day) has about 40 days a window, and a rebuild's activity of 62 days two
 * windows, as when every window was 31 days (at 600k, three: 49 s instead of 41 for its rebuild).
 */
export const WINDOW_EVENTS = 800_000
const MAX_WINDOW_DAYS = 366

/**
 * Windows per `recomputeTouched` activity, the newest: a burst of new events touches one or two; a
 * backfill's year of days has the rest recomputed by `recomputePairs`, a bounded number each.
 */
const FIRST_WINDOWS = 2

const COMMON = sql`org_id, day, {generation:UUID}`
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
// The projections recompute sets of (org, day) pairs: every fact carries its org (metric-facts.ts).
const FACT_CTES = factCtes(MATERIALIZED_CTES, { scope: 'set' })
const OPP = ID128(sql`opp`)

/**
 * The fact tables, how each day's rows are computed, and the event types of the window that its
 * rows can come from (see the fact CTEs in metric-facts.ts): a recomputation whose window holds
 * none of them skips the table, its rows of the new generation being none either way. Each insert
 * costs its planning (15–80 ms) even when it writes nothing, whatever the number of orgs and days
 * it covers: one statement does the work of every org of the window.
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
      GROUP BY org_id, day, m`,
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
      GROUP BY org_id, day, r`,
  },
  {
    table: 'metric_multithreaded_deals',
    // mt: deals of the window's activities
    from: ['activity.logged'],
    insert: sql`
      INSERT INTO {db:Identifier}.metric_multithreaded_deals
        (org_id, deal_id128, opportunity_id, day, generation, definition_version, computed_at)
      WITH ${FACT_CTES}
      SELECT org_id, deal_id128, opportunity_id, day, {generation:UUID}, ${STAMP}
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

// Written only after every fact row of the generation's window: from here on readers see the new
// facts of its (org, day) pairs.
const INSERT_MARKERS = sql`
  INSERT INTO {db:Identifier}.metric_days (org_id, day, generation, timezone, definition_version, computed_at)
  SELECT p.1, p.2, {generation:UUID}, {tz:String}, ${STAMP}
  FROM (SELECT arrayJoin(arrayZip({pair_orgs:Array(String)}, {pair_days:Array(Date)})) AS p)`

const WINDOW_TYPES = new SqlFragment(
  `SELECT DISTINCT type FROM {db:Identifier}.{${materializedTableParam('w')}:Identifier}`,
)

const COUNT_ROWS = sql`
  SELECT sum(n) AS n FROM (
    SELECT count() AS n FROM {db:Identifier}.metric_manager_daily WHERE org_id IN {orgs:Array(String)} AND generation = {generation:UUID}
    UNION ALL SELECT count() FROM {db:Identifier}.metric_rep_daily WHERE org_id IN {orgs:Array(String)} AND generation = {generation:UUID}
    UNION ALL SELECT count() FROM {db:Identifier}.metric_multithreaded_deals WHERE org_id IN {orgs:Array(String)} AND generation = {generation:UUID}
    UNION ALL SELECT count() FROM {db:Identifier}.metric_user_versions WHERE org_id IN {orgs:Array(String)} AND generation = {generation:UUID}
    UNION ALL SELECT count() FROM {db:Identifier}.metric_expectations WHERE org_id IN {orgs:Array(String)} AND generation = {generation:UUID}
  )`

// Rows of a generation older than the day's latest marker are never visible again (a marker with
// a later computed_at wins). Rows of an (org, day, generation) without a marker are those of a
// recomputation that crashed before writing its markers: gone once older than `orphan_before`,
// which spares recomputations still writing. Facts first, markers last: a crash in between leaves
// only markers of generations without rows, which nobody reads. Lightweight DELETE masks rows at
// once; merges drop them (https://clickhouse.com/docs/sql-reference/statements/delete).
const SUPERSEDED = sql`
  SELECT d.org_id, d.day, d.generation
  FROM {db:Identifier}.metric_days AS d
  INNER JOIN (
    SELECT org_id, day, max(computed_at) AS latest FROM {db:Identifier}.metric_days
    WHERE org_id IN {orgs:Array(String)} GROUP BY org_id, day
  ) AS l ON l.org_id = d.org_id AND l.day = d.day
  WHERE d.org_id IN {orgs:Array(String)} AND d.computed_at < l.latest`

const DELETE_SUPERSEDED = sql`
  DELETE FROM {db:Identifier}.{table:Identifier}
  WHERE org_id IN {orgs:Array(String)}
    AND ((org_id, day, generation) IN (${SUPERSEDED})
      OR ((org_id, day, generation) NOT IN (
            SELECT org_id, day, generation FROM {db:Identifier}.metric_days WHERE org_id IN {orgs:Array(String)})
          AND computed_at < {orphan_before:DateTime64(3, 'UTC')}))`

const DELETE_SUPERSEDED_MARKERS = sql`
  DELETE FROM {db:Identifier}.metric_days
  WHERE org_id IN {orgs:Array(String)} AND (org_id, day, generation) IN (${SUPERSEDED})`

const FACT_TABLES = FACT_INSERTS.map(({ table }) => table)

// The Memory tables of one recomputation window, in one statement.
const DROP_MATERIALIZED = new SqlFragment(
  `DROP TABLE IF EXISTS ${MATERIALIZED_CTES.map((name) => `{db:Identifier}.{${materializedTableParam(name)}:Identifier}`).join(', ')}`,
)

// Memory tables of recomputations that died before dropping them.
const STALE_TMP_TABLES = sql`
  SELECT name FROM system.tables
  WHERE database = {db:String} AND startsWith(name, 'metric_tmp_') AND metadata_modification_time < {orphan_before:DateTime64(3, 'UTC')}`

// The (org, day) pairs touched by new events, widened to the pairs whose facts they can change
// (docs/metrics.md), for every org of `orgs` (of one timezone) at once:
// - a message can be the reply of the messages of its thread up to 168 h earlier (at the same
//   instant too: ties are ordered by event_id), so their days;
// - a user.upserted changes the org chart as of every later instant: every later event day;
// - an opportunity.created sets its deal's owner from then on, and the account and amount that
//   the deal's events use at any time: every day with an event of the deal;
// - an owner_changed (owner of later events), a stage_changed (first qualified entry) and an
//   activity.logged with a deal (the day the deal becomes multithreaded) change facts of the
//   deal's later events: every day, from their own, with an event of the deal.
// Events per day of a set of orgs in a range of instants, to size the windows.
const EVENTS_PER_DAY = sql`
  SELECT toString(toDate(occurred_at, {tz:String})) AS day, count() AS n
  FROM {db:Identifier}.events
  WHERE org_id IN {orgs:Array(String)}
    AND occurred_at >= {lo:DateTime64(3, 'UTC')} AND occurred_at < {hi:DateTime64(3, 'UTC')}
  GROUP BY day
  ORDER BY day`

const AFFECTED_PAIRS = sql`
  WITH
    touched AS (
      SELECT org_id, type, occurred_at, opportunity_id, thread_id, toDate(occurred_at, {tz:String}) AS day
      FROM {db:Identifier}.events
      WHERE org_id IN {orgs:Array(String)}
        AND ${SPAN_BOUNDS}
        AND (org_id, toDate(occurred_at, {tz:String})) IN (SELECT arrayJoin(arrayZip({pair_orgs:Array(String)}, {pair_days:Array(Date)})))
    ),
    messages AS (SELECT org_id, thread_id, occurred_at FROM touched WHERE type = 'message.sent'),
    upserts_since AS (SELECT org_id, min(day) AS since FROM touched WHERE type = 'user.upserted' GROUP BY org_id),
    deals_since AS (
      SELECT org_id, opportunity_id, if(countIf(type = 'opportunity.created') > 0, toDate(0), min(day)) AS since
      FROM touched
      WHERE opportunity_id != ''
        AND type IN ('opportunity.created', 'opportunity.owner_changed', 'opportunity.stage_changed', 'activity.logged')
      GROUP BY org_id, opportunity_id
    )
  SELECT DISTINCT toString(org_id) AS org, toString(day) AS day FROM (
    SELECT p.1 AS org_id, p.2 AS day FROM (SELECT arrayJoin(arrayZip({pair_orgs:Array(String)}, {pair_days:Array(Date)})) AS p)
    UNION ALL
    SELECT e.org_id, toDate(e.occurred_at, {tz:String})
    FROM (
      SELECT org_id, thread_id, occurred_at
      FROM {db:Identifier}.events
      WHERE org_id IN {orgs:Array(String)} AND type = 'message.sent'
        AND (org_id, thread_id) IN (SELECT org_id, thread_id FROM messages)
        AND occurred_at >= (SELECT addHours(min(occurred_at), -168) FROM messages)
        AND occurred_at <= (SELECT max(occurred_at) FROM messages)
    ) AS e
    INNER JOIN messages AS m ON e.org_id = m.org_id AND e.thread_id = m.thread_id
    WHERE e.occurred_at >= addHours(m.occurred_at, -168) AND e.occurred_at <= m.occurred_at
    UNION ALL
    SELECT e.org_id, e.day
    FROM (
      SELECT org_id, toDate(occurred_at, {tz:String}) AS day
      FROM {db:Identifier}.events
      WHERE org_id IN (SELECT org_id FROM upserts_since)
    ) AS e
    INNER JOIN upserts_since AS u ON e.org_id = u.org_id
    WHERE e.day >= u.since
    UNION ALL
    SELECT e.org_id, e.day
    FROM (
      SELECT org_id, opportunity_id, toDate(occurred_at, {tz:String}) AS day
      FROM {db:Identifier}.events
      WHERE org_id IN {orgs:Array(String)} AND (org_id, opportunity_id) IN (SELECT org_id, opportunity_id FROM deals_since)
    ) AS e
    INNER JOIN deals_since AS s ON e.org_id = s.org_id AND e.opportunity_id = s.opportunity_id
    WHERE e.day >= s.since
  )
  ORDER BY org, day`

const EVENT_DAYS = sql`
  SELECT DISTINCT toString(toDate(occurred_at, {tz:String})) AS day
  FROM {db:Identifier}.events
  WHERE org_id = {org:String}
    AND toDate(occurred_at, {tz:String}) >= {from:Date} AND toDate(occurred_at, {tz:String}) <= {to:Date}
  ORDER BY day`

/** An org whose days cannot be recomputed: bad input (its settings, a day), not retried. */
export interface RejectedOrg {
  org: string
  /** The BadInputError's class name (OrgSettingsError, DayError) and message. */
  type: string
  message: string
}

/** What a set-based recomputation did. */
export interface SetRecomputed {
  /** (org, day) pairs recomputed, and fact rows written. */
  days: number
  rows: number
  /** Windows (days of every org of one timezone, at most WINDOW_EVENTS events) recomputed. */
  windows: number
  rejected: RejectedOrg[]
}

/** `recomputeTouched`: the widened pairs of each org, and those left to `recomputePairs`. */
export interface TouchedRecomputed extends SetRecomputed {
  /** Affected days per org (the pairs recomputed now and those in `rest`). */
  affected: Record<string, number>
  /** Pairs still to recompute, by org, in windows of their own (`recomputePairs`). */
  rest: OrgDays[]
}

/** The orgs of one timezone of a set, with their settings and their sorted distinct days. */
interface TzGroup {
  tz: string
  orgs: { org: string; currency: string; days: string[] }[]
}

/**
 * Makes the projection activities.
 * - `recomputePairs` recomputes the facts of the given days of many orgs from the event store and
 *   replaces theirs (idempotent), set-based: each window of days (at most a year and
 *   `WINDOW_EVENTS` events) costs one round of statements for every org of a timezone at once. An org whose
 *   settings or days are bad input is left out and named in `rejected`; the others are computed.
 * - `recomputeTouched` widens the days touched by new events to every day whose facts they may
 *   change (set-based too) and recomputes the newest windows of them; returns the rest (older
 *   windows first in line: a backfill's past comes after the present).
 * - `recomputeDays`, `affectedDays`, `recomputeAffectedDays`: the same for one org (the org
 *   metrics workflow of before the metrics shards); its bad input is thrown.
 * - `listEventDays` lists the days with events (optionally within `from`..`to`), for rebuilds.
 * - `pruneSuperseded` (one org) and `pruneSupersededOf` (many) delete the rows no reader sees any
 *   more (superseded generations, and generations without a marker older than `olderThanMinutes`,
 *   default 60); run it now and then (e.g. after a rebuild, or hourly), not after every
 *   recomputation.
 *
 * Bad input (a day that is no calendar date, a range that breaks `RebuildParams`, an org setting
 * ClickHouse cannot use) throws a BadInputError of services/errors.ts, which the worker turns into
 * a non-retryable failure; anything else is a fault, and retried.
 */
export function createProjectionActivities(deps: ProjectionDeps) {
  const { ch } = deps
  const clock = deps.clock ?? (() => new Date())
  const windowEvents = deps.windowEvents ?? WINDOW_EVENTS

  /** The orgs of `touched` grouped by timezone, days checked; bad input goes to `rejected`. */
  async function group(touched: readonly OrgDays[], rejected: RejectedOrg[]): Promise<TzGroup[]> {
    const daysOf = new Map<string, Set<string>>()
    for (const { org, days } of touched) {
      const set = daysOf.get(org) ?? new Set<string>()
      for (const day of days) set.add(day)
      daysOf.set(org, set)
    }
    const settings = await getUsableOrgSettingsOf(ch, [...daysOf.keys()])
    const groups = new Map<string, TzGroup>()
    for (const [org, set] of daysOf) {
      const found = settings.get(org)
      try {
        if (found instanceof Error) throw found
        const days = normalizeDays([...set])
        if (days.length === 0 || found === undefined) continue
        const g = groups.get(found.timezone) ?? { tz: found.timezone, orgs: [] }
        g.orgs.push({ org, currency: found.defaultCurrency, days })
        groups.set(found.timezone, g)
      } catch (error) {
        if (!(error instanceof BadInputError)) throw error
        rejected.push({ org, type: error.name, message: error.message })
      }
    }
    return [...groups.values()].sort((a, b) => (a.tz < b.tz ? -1 : 1))
  }

  /**
   * The windows of a group: its days cut into spans of at most `MAX_WINDOW_DAYS` days and
   * `windowEvents` events (from the first day to the last), and up to SPANS spans (in day order) in
   * a window while it holds at most as many days and events; each window has its pairs and its
   * spans' bounds. A day of more events than that is a window of its own.
   */
  async function windows(g: TzGroup): Promise<Window[]> {
    const allDays = [...new Set(g.orgs.flatMap((o) => o.days))].sort()
    // Under the default budget, days within MAX_RUN_DAYS are one window whatever their events, as
    // every window was: a live round (today, and a few days of late events) asks nothing more of
    // ClickHouse. A budget of the caller's own applies to every range.
    const few =
      deps.windowEvents === undefined &&
      allDays.length > 0 &&
      allDays[allDays.length - 1]! <= addDays(allDays[0]!, MAX_RUN_DAYS - 1)
    const eventsIn = few ? () => 0 : await eventsPerDay(g.tz, g.orgs.map((o) => o.org), allDays)
    const spans: { days: string[]; events: number }[] = []
    for (let i = 0; i < allDays.length;) {
      const last = addDays(allDays[i]!, MAX_WINDOW_DAYS - 1)
      let j = i + 1
      while (j < allDays.length && allDays[j]! <= last && eventsIn(allDays[i]!, allDays[j]!) <= windowEvents) j++
      spans.push({ days: allDays.slice(i, j), events: eventsIn(allDays[i]!, allDays[j - 1]!) })
      i = j
    }
    // Spans share a window while it holds at most SPANS of them, MAX_WINDOW_DAYS days and
    // windowEvents events in all: a live day and a few older ones are one round.
    const batches: { spans: string[][]; days: number; events: number }[] = []
    for (const span of spans) {
      const batch = batches[batches.length - 1]
      if (
        batch &&
        batch.spans.length < SPANS &&
        batch.days + span.days.length <= MAX_WINDOW_DAYS &&
        batch.events + span.events <= windowEvents
      ) {
        batch.spans.push(span.days)
        batch.days += span.days.length
        batch.events += span.events
      } else batches.push({ spans: [span.days], days: span.days.length, events: span.events })
    }
    const out: Window[] = []
    for (const { spans: these } of batches) {
      const days = these.flat()
      const inWindow = new Set(days)
      const orgs = g.orgs
        .map((o) => ({ ...o, days: o.days.filter((d) => inWindow.has(d)) }))
        .filter((o) => o.days.length > 0)
      out.push({
        orgs,
        days,
        pairs: orgs.flatMap((o) => o.days.map((day): [string, string] => [o.org, day])),
        bounds: spanBounds(these),
      })
    }
    return out
  }

  /**
   * The events of the orgs from one day to another (both included, in their timezone), counted
   * once per day of `days`' range: what sizes the windows.
   */
  async function eventsPerDay(
    tz: string,
    orgs: string[],
    days: readonly string[],
  ): Promise<(from: string, to: string) => number> {
    if (days.length === 0) return () => 0
    const result = await ch.client.query({
      query: EVENTS_PER_DAY.text,
      query_params: { db: ch.database, tz, orgs, ...instantBounds([days[0]!, days[days.length - 1]!]) },
      format: 'JSONEachRow',
    })
    const rows = await result.json<{ day: string; n: number | string }>()
    const keys = rows.map((r) => r.day)
    const before = [0]
    for (const r of rows) before.push(before[before.length - 1]! + Number(r.n))
    // The index of the first key at or after `day`.
    const at = (day: string) => {
      let lo = 0
      let hi = keys.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (keys[mid]! < day) lo = mid + 1
        else hi = mid
      }
      return lo
    }
    return (from, to) => before[at(addDays(to, 1))]! - before[at(from)]!
  }

  /** Recomputes the windows, under one generation; returns the pairs and rows written. */
  async function recomputeWindows(
    tz: string,
    list: Window[],
  ): Promise<{ days: number; rows: number; windows: number }> {
    if (list.length === 0) return { days: 0, rows: 0, windows: 0 }
    // computed_at is taken before any event is read: a later computed_at saw at least as much.
    const generation = randomUUID()
    const stamp = { generation, computed_at: toDateTime64(clock()), version: METRICS_DEFINITION_VERSION }
    const everyOrg = new Set<string>()
    let days = 0
    for (const window of list) {
      const tmp = Object.fromEntries(
        MATERIALIZED_CTES.map((name) => [
          materializedTableParam(name),
          `metric_tmp_${generation.replaceAll('-', '')}_${name}`,
        ]),
      )
      const params = {
        db: ch.database,
        tz,
        orgs: window.orgs.map((o) => o.org),
        currencies: window.orgs.map((o) => o.currency),
        ...pairParams(window.pairs),
        ...window.bounds,
        ...stamp,
        ...tmp,
      }
      try {
        for (const name of MATERIALIZED_CTES)
          await ch.client.command({ query: materializeCte(name, 'set').text, query_params: params })
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
      for (const o of window.orgs) everyOrg.add(o.org)
      days += window.pairs.length
    }
    const result = await ch.client.query({
      query: COUNT_ROWS.text,
      query_params: { db: ch.database, orgs: [...everyOrg], generation },
      format: 'JSONEachRow',
    })
    const [count] = await result.json<{ n: number | string }>()
    return { days, rows: Number(count?.n ?? 0), windows: list.length }
  }

  async function recomputePairs(input: { touched: OrgDays[] }): Promise<SetRecomputed> {
    const rejected: RejectedOrg[] = []
    const out: SetRecomputed = { days: 0, rows: 0, windows: 0, rejected }
    for (const g of await group(input.touched, rejected)) add(out, await recomputeWindows(g.tz, await windows(g)))
    return out
  }

  /** The pairs of a group widened to every pair whose facts its new events may change. */
  async function widen(g: TzGroup): Promise<TzGroup> {
    const all = g.orgs.flatMap((o) => o.days)
    const result = await ch.client.query({
      query: AFFECTED_PAIRS.text,
      query_params: {
        db: ch.database,
        tz: g.tz,
        orgs: g.orgs.map((o) => o.org),
        ...pairParams(g.orgs.flatMap((o) => o.days.map((day): [string, string] => [o.org, day]))),
        ...spanBoundsOf(all),
      },
      format: 'JSONEachRow',
    })
    const byOrg = new Map<string, string[]>()
    for (const { org, day } of await result.json<{ org: string; day: string }>()) {
      const list = byOrg.get(org) ?? []
      list.push(day)
      byOrg.set(org, list)
    }
    return { tz: g.tz, orgs: g.orgs.map((o) => ({ ...o, days: byOrg.get(o.org) ?? o.days })) }
  }

  async function recomputeTouched(input: { touched: OrgDays[] }): Promise<TouchedRecomputed> {
    const rejected: RejectedOrg[] = []
    const out: TouchedRecomputed = { days: 0, rows: 0, windows: 0, rejected, affected: {}, rest: [] }
    for (const g of await group(input.touched, rejected)) {
      const wide = await widen(g)
      for (const o of wide.orgs) out.affected[o.org] = o.days.length
      // The newest windows first: live events show before a backfill's older days.
      const list = (await windows(wide)).reverse()
      add(out, await recomputeWindows(g.tz, list.slice(0, FIRST_WINDOWS)))
      for (const window of list.slice(FIRST_WINDOWS))
        for (const o of window.orgs) out.rest.push({ org: o.org, days: o.days })
    }
    return out
  }

  /** Throws the rejection of a one-org call as the BadInputError it was. */
  function thrown(rejected: RejectedOrg[]): void {
    const [first] = rejected
    if (first === undefined) return
    if (first.type === 'OrgSettingsError') throw new OrgSettingsError(first.message)
    throw new DayError(first.message)
  }

  async function recomputeDays(input: OrgDays): Promise<{ days: number; rows: number }> {
    // An org's bad settings are named even when it has no day to compute.
    if (input.days.length === 0) await getUsableOrgSettings(ch, input.org)
    const done = await recomputePairs({ touched: [input] })
    thrown(done.rejected)
    return { days: done.days, rows: done.rows }
  }

  async function pruneSupersededOf(input: { orgs: string[]; olderThanMinutes?: number }): Promise<{ tables: number }> {
    const orphanBefore = new Date(clock().getTime() - (input.olderThanMinutes ?? 60) * 60_000)
    const params = { db: ch.database, orgs: input.orgs, orphan_before: toDateTime64(orphanBefore) }
    if (input.orgs.length > 0) {
      for (const table of FACT_TABLES)
        await ch.client.command({ query: DELETE_SUPERSEDED.text, query_params: { ...params, table } })
      await ch.client.command({ query: DELETE_SUPERSEDED_MARKERS.text, query_params: params })
    }
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

  async function pruneSuperseded(input: { org: string; olderThanMinutes?: number }): Promise<{ tables: number }> {
    return pruneSupersededOf({
      orgs: [input.org],
      ...(input.olderThanMinutes === undefined ? {} : { olderThanMinutes: input.olderThanMinutes }),
    })
  }

  async function affectedDays(input: OrgDays): Promise<string[]> {
    const settings = await getUsableOrgSettings(ch, input.org)
    const days = normalizeDays(input.days)
    if (days.length === 0) return []
    const wide = await widen({
      tz: settings.timezone,
      orgs: [{ org: input.org, currency: settings.defaultCurrency, days }],
    })
    return wide.orgs[0]?.days ?? []
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
   * the common case of the org metrics workflow (a few days touched) in one round trip through
   * Temporal instead of two. Returns every affected day, so that the caller recomputes the rest.
   */
  async function recomputeAffectedDays(input: OrgDays): Promise<{ affected: string[]; days: number; rows: number }> {
    const days = await affectedDays(input)
    const first = await recomputeDays({ org: input.org, days: days.slice(0, MAX_RUN_DAYS) })
    return { affected: days, ...first }
  }

  return {
    recomputePairs,
    recomputeTouched,
    recomputeDays,
    affectedDays,
    recomputeAffectedDays,
    listEventDays,
    pruneSuperseded,
    pruneSupersededOf,
  }
}

/** A window of a set-based recompute: its orgs (and their days in it), days, pairs and bounds. */
interface Window {
  orgs: { org: string; currency: string; days: string[] }[]
  days: string[]
  pairs: [string, string][]
  bounds: Record<string, string>
}

/** `lo`, `hi` and each span's `lo_i`, `hi_i` (SPAN_BOUNDS); a window of fewer spans repeats its last. */
function spanBounds(spans: readonly string[][]): Record<string, string> {
  const all = spans.flat()
  const out: Record<string, string> = { ...instantBounds(all) }
  for (let i = 0; i < SPANS; i++) {
    const { lo, hi } = instantBounds(spans[Math.min(i, spans.length - 1)]!)
    out[`lo_${i}`] = lo
    out[`hi_${i}`] = hi
  }
  return out
}

/** The bounds of any days: their spans of at most MAX_RUN_DAYS, more than SPANS of them merged into the last. */
function spanBoundsOf(days: readonly string[]): Record<string, string> {
  const sorted = [...new Set(days)].sort()
  const spans: string[][] = []
  for (const day of sorted) {
    const span = spans[spans.length - 1]
    if (span && day <= addDays(span[0]!, MAX_RUN_DAYS - 1)) span.push(day)
    else if (spans.length < SPANS) spans.push([day])
    else spans[spans.length - 1]!.push(day)
  }
  return spanBounds(spans)
}

/** The (org, day) pairs as the `pair_orgs` and `pair_days` parameters of the set scope. */
function pairParams(pairs: readonly [string, string][]): { pair_orgs: string[]; pair_days: string[] } {
  return { pair_orgs: pairs.map((p) => p[0]), pair_days: pairs.map((p) => p[1]) }
}

function add(
  to: { days: number; rows: number; windows: number },
  from: { days: number; rows: number; windows: number },
) {
  to.days += from.days
  to.rows += from.rows
  to.windows += from.windows
}

/** ClickHouse DateTime64(3) text of an instant, in UTC. */
function toDateTime64(instant: Date): string {
  return instant.toISOString().replace('T', ' ').replace('Z', '')
}

/** The projection activities, as Temporal workers register them. */
export type ProjectionActivities = ReturnType<typeof createProjectionActivities>
