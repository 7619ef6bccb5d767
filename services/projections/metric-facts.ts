/**
 * The metrics of docs/metrics.md as ClickHouse SQL: the per-event facts from which every metric is
 * aggregated. One definition serves both readers:
 * - the projections (`projection-activities.ts`) group the facts of the days being recomputed by
 *   (day, manager | rep) into parts that merge exactly over any range (sums, per-currency maps,
 *   sets of ids, lists of reply delays);
 * - the reference reports (`runReportFromEvents`) aggregate the same facts over a whole range.
 *
 * Every query takes these parameters:
 * - `db` Identifier, `org` String: the database and the one org read (every read filters org_id);
 * - `tz` String: the org's timezone, which cuts days; `currency` String: its default currency;
 * - `days` Array(Date): the days (in `tz`) whose events are classified, the *window*;
 * - `lo`, `hi` DateTime64(3, 'UTC'): instants bracketing the window with a day of margin, only to
 *   prune partitions (a day in any timezone lies within [its UTC date - 14 h, +12 h]).
 *
 * Conventions that make the numbers exact and deterministic:
 * - Duplicates: the store may hold an event twice (same org_id, event_id and the same body, which
 *   ingest guarantees). Counted events are taken `LIMIT 1 BY event_id`; lookups that only take a
 *   max, min or distinct set are insensitive to duplicates.
 * - Ties in time: "latest", "first", "before" and "after" order events by (occurred_at, event_id),
 *   so of two events at the same instant the larger event_id counts as the later one
 *   (docs/metrics.md, "Same instant"). The org chart as of t is not one of them: it holds the
 *   upserts with occurred_at <= t, whatever their event_id, so an upsert at an event's own
 *   instant applies to it (docs/events.md, `user.upserted`: "effective from occurred_at").
 * - Owner of a deal at an event: the owner of the latest of the deal's ownership events
 *   (`opportunity.created`, `owner_changed`) strictly before the event in (occurred_at, event_id)
 *   order, a created event being owned by its own `owner_id`; for an `owner_changed` event itself
 *   the owner is its `from_owner`, as docs/metrics.md states. An event before the deal's first
 *   `opportunity.created` has no owner ('').
 * - Attributes of a deal (account, amount, currency) are those of its `opportunity.created` (the
 *   latest, if it was sent more than once), whenever it occurred.
 * - Amounts are parsed to Decimal128(6) from their shortest decimal form, so sums are exact and
 *   independent of the order ClickHouse adds them in (digits beyond the 6th decimal are dropped).
 */
import { sql, SqlFragment } from '../clickhouse/sql.ts'

/**
 * Version of the definitions below. Stored with every projected row; a projection computed under
 * another version is not read (recompute the org's days after changing it).
 */
export const METRICS_DEFINITION_VERSION = 1

/**
 * A 128-bit id of a string: the projections store distinct sets as arrays of these (see
 * migration 0002); uniqExact itself counts strings by their 128-bit hashes.
 */
export const ID128 = (expression: SqlFragment): SqlFragment => sql`reinterpretAsUInt128(sipHash128(${expression}))`

/** Categories that count as qualified (docs/metrics.md, `opportunities_qualified`). */
const QUALIFIED = sql`('qualified', 'proposal', 'negotiation')`
const ZERO = sql`toDecimal128(0, 6)`
const NO_MONEY = sql`CAST(map(), 'Map(String, Decimal128(6))')`

/**
 * A read of `events` as of an instant: only the rows ingested by `{as_of}`. Every copy of an event
 * carries the same body, so the event is known as of t when any copy was ingested by t: filtering
 * rows before deduplicating (`LIMIT 1 BY`, max, min, distinct) counts it from its first ingestion.
 */
export const KNOWN_BY_AS_OF = sql`AND ingested_at <= {as_of:DateTime64(3, 'UTC')}`
const EVERY_STORED = sql``

/**
 * Which orgs the facts cover:
 * - `org` (the readers, and the SQL they always ran): the one org of the `org` parameter, its
 *   `tz`, `currency` and window `days`;
 * - `set` (the projections' set-based recompute): every org of `orgs` (Array(String)) whose
 *   timezone is `tz`, with `currencies` (Array(String), the default currency of each, in the same
 *   order) and the window's (org, day) pairs as two arrays of the same length, `pair_orgs`
 *   (Array(String)) and `pair_days` (Array(Date)).
 *   Every fact then carries its `org_id`, and every join and lookup matches it.
 */
export type FactScope = 'org' | 'set'

/** The pieces of SQL by which the two scopes differ. */
interface Scope {
  /** Restricts each read of `events`: KNOWN_BY_AS_OF, or nothing. */
  k: SqlFragment
  /** The org filter of a read of `events`. */
  org: SqlFragment
  /** `org_id, ` in the set scope, before a column list, a GROUP BY or a LIMIT BY. */
  c: SqlFragment
  /** `<alias>.org_id AS org_id, ` in the set scope. */
  ca: (alias: string) => SqlFragment
  /** ` AND <a>.org_id = <b>.org_id` in the set scope: a join of the same org's rows. */
  on: (a: string, b: string) => SqlFragment
  /** The key of an IN lookup: `(org_id, <column>)` in the set scope. */
  key: (column: string) => SqlFragment
  /** Whether a day (an expression) is in the window. */
  inWindow: (day: SqlFragment) => SqlFragment
  /** Instants bracketing the window's days, to prune partitions: one span, or up to SPANS. */
  bounds: SqlFragment
  /** The default currency of the row's org. */
  currency: SqlFragment
}

const NONE = sql``

/**
 * Spans (runs of at most 31 days) one window of the set scope may join: a window is then one round
 * of statements for live days and a backfill's older ones alike. Span i is bracketed by the
 * parameters `lo_i`, `hi_i` (DateTime64(3, 'UTC')); a window of fewer spans repeats its last. The
 * other reads take `lo` (the earliest) and `hi` (the latest).
 */
export const SPANS = 4
export const SPAN_BOUNDS = new SqlFragment(
  `(${Array.from(
    { length: SPANS },
    (_, i) => `(occurred_at >= {lo_${i}:DateTime64(3, 'UTC')} AND occurred_at < {hi_${i}:DateTime64(3, 'UTC')})`,
  ).join(' OR ')})`,
)
const SCOPES: Record<FactScope, Omit<Scope, 'k'>> = {
  org: {
    org: sql`org_id = {org:String}`,
    c: NONE,
    ca: () => NONE,
    on: () => NONE,
    key: (column) => new SqlFragment(column),
    inWindow: (day) => sql`has({days:Array(Date)}, ${day})`,
    bounds: sql`occurred_at >= {lo:DateTime64(3, 'UTC')} AND occurred_at < {hi:DateTime64(3, 'UTC')}`,
    currency: sql`{currency:String}`,
  },
  set: {
    org: sql`org_id IN {orgs:Array(String)}`,
    c: sql`org_id, `,
    ca: (alias) => new SqlFragment(`${alias}.org_id AS org_id, `),
    on: (a, b) => new SqlFragment(` AND ${a}.org_id = ${b}.org_id`),
    key: (column) => new SqlFragment(`(org_id, ${column})`),
    inWindow: (day) =>
      sql`(org_id, ${day}) IN (SELECT arrayJoin(arrayZip({pair_orgs:Array(String)}, {pair_days:Array(Date)})))`,
    bounds: SPAN_BOUNDS,
    currency: sql`transform(org_id, {orgs:Array(String)}, {currencies:Array(String)}, '')`,
  },
}

interface Cte {
  name: string
  body: (s: Scope) => SqlFragment
}

function cte(name: string, body: (s: Scope) => SqlFragment): Cte {
  return { name, body }
}

// The window: the org's events on the requested days, each event once.
const W = cte(
  'w',
  (s) => sql`
  SELECT ${s.c}event_id, type, occurred_at, toDate(occurred_at, {tz:String}) AS day,
         opportunity_id, account_id, owner_id, stage_category, to_category, changed_by, from_owner,
         to_owner, closed_by, outcome,
         if(amount IS NULL, NULL, toDecimal128OrNull(toString(assumeNotNull(amount)), 6)) AS amount_dec,
         if(currency = '', ${s.currency}, toString(currency)) AS currency_or_default,
         user_id, role, manager_id, active, set_by, period_start, period_end, kind,
         participant_ids, contact_ids, thread_id, sender_id, recipient_ids, organizer_id,
         attendee_ids, from_id, to_ids
  FROM {db:Identifier}.events
  WHERE ${s.org} ${s.k}
    AND ${s.bounds}
    AND ${s.inWindow(sql`toDate(occurred_at, {tz:String})`)}
  LIMIT 1 BY ${s.c}event_id`,
)

// The org chart's history, one version per (user, instant): of upserts at the same instant the
// larger event_id wins, so the ASOF joins below (latest version with occurred_at <= t) are
// deterministic. "On m's team at t" = ASOF version has role rep, active and manager_id m.
const UV = cte(
  'uv',
  (s) => sql`
  SELECT ${s.c}user_id, occurred_at,
         argMax(role, event_id) AS role, argMax(manager_id, event_id) AS manager_id,
         argMax(active, event_id) AS active
  FROM {db:Identifier}.events
  WHERE ${s.org} ${s.k} AND type = 'user.upserted' AND occurred_at < {hi:DateTime64(3, 'UTC')}
  GROUP BY ${s.c}user_id, occurred_at`,
)

// Ownership history of the window's deals: per deal, its ownership events sorted by
// (occurred_at, event_id), each as (occurred_at, event_id, is a creation, owner it sets). An array
// rather than an ASOF join: ASOF compares one column, and a tie on occurred_at must be broken by
// event_id (docs/metrics.md, "Same instant"). A deal has a handful of these.
const OW = cte(
  'ow',
  (s) => sql`
  SELECT ${s.c}opportunity_id,
         arraySort(groupUniqArray(tuple(occurred_at, event_id, type = 'opportunity.created',
                                        if(type = 'opportunity.created', owner_id, to_owner)))) AS history
  FROM {db:Identifier}.events
  WHERE ${s.org} ${s.k}
    AND type IN ('opportunity.created', 'opportunity.owner_changed')
    AND occurred_at < {hi:DateTime64(3, 'UTC')}
    AND ${s.key('opportunity_id')} IN (SELECT ${s.c}opportunity_id FROM w WHERE opportunity_id != '')
  GROUP BY ${s.c}opportunity_id`,
)

// Attributes of the window's deals, from their opportunity.created.
const OA = cte(
  'oa',
  (s) => sql`
  SELECT ${s.c}opportunity_id, a.1 AS account, a.2 AS amount_dec, a.3 AS currency_or_default
  FROM (
    SELECT ${s.c}opportunity_id,
           argMax(tuple(account_id,
                        if(amount IS NULL, NULL, toDecimal128OrNull(toString(assumeNotNull(amount)), 6)),
                        if(currency = '', ${s.currency}, toString(currency))),
                  (occurred_at, event_id)) AS a
    FROM {db:Identifier}.events
    WHERE ${s.org} ${s.k} AND type = 'opportunity.created'
      AND ${s.key('opportunity_id')} IN (SELECT ${s.c}opportunity_id FROM w WHERE opportunity_id != '')
    GROUP BY ${s.c}opportunity_id
  )`,
)

// Deal events of the window (opportunity.*, activity.logged with a deal) with the deal's owner
// at the event, then m = the owner's manager if the owner is a rep on m's team at the event.
// The ownership events up to x are those with (occurred_at, event_id) <= x's: x itself only if it
// is a creation (an owner_changed takes its from_owner). None of them a creation: x occurred
// before the deal was created and has no owner (docs/metrics.md, "Owner of a deal at an event").
const DE = cte(
  'de',
  (s) => sql`
  SELECT x.*,
         if(arrayExists(h -> h.3 AND (h.1, h.2) <= (x.occurred_at, x.event_id), o.history),
            if(x.type = 'opportunity.owner_changed', x.from_owner,
               arrayLast(h -> (h.1, h.2) <= (x.occurred_at, x.event_id), o.history).4),
            '') AS deal_owner
  FROM (SELECT * FROM w WHERE startsWith(type, 'opportunity.') OR (type = 'activity.logged' AND opportunity_id != '')) AS x
  LEFT JOIN ow AS o ON x.opportunity_id = o.opportunity_id${s.on('x', 'o')}`,
)

const DT = cte(
  'dt',
  (s) => sql`
  SELECT de.*, if(u.role = 'rep' AND u.active = 1, u.manager_id, '') AS m
  FROM de
  ASOF LEFT JOIN uv AS u ON de.deal_owner = u.user_id${s.on('de', 'u')} AND de.occurred_at >= u.occurred_at`,
)

// goal.set by m for a rep on m's team at the event.
const GS = cte(
  'gs',
  (s) => sql`
  SELECT ${s.ca('x')}x.day AS day, x.set_by AS m, x.event_id AS event_id
  FROM (SELECT ${s.c}day, occurred_at, event_id, user_id, set_by FROM w WHERE type = 'goal.set') AS x
  ASOF LEFT JOIN uv AS u ON x.user_id = u.user_id${s.on('x', 'u')} AND x.occurred_at >= u.occurred_at
  WHERE u.role = 'rep' AND u.active = 1 AND u.manager_id = x.set_by AND x.set_by != ''`,
)

// Rep messages to m: sender a rep on m's team at the event, m among the recipients.
const RQ = cte(
  'rq',
  (s) => sql`
  SELECT ${s.ca('x')}x.day AS day, x.occurred_at AS occurred_at, x.event_id AS event_id, x.thread_id AS thread_id, u.manager_id AS m
  FROM (SELECT ${s.c}day, occurred_at, event_id, thread_id, sender_id, recipient_ids FROM w WHERE type = 'message.sent') AS x
  ASOF LEFT JOIN uv AS u ON x.sender_id = u.user_id${s.on('x', 'u')} AND x.occurred_at >= u.occurred_at
  WHERE u.role = 'rep' AND u.active = 1 AND u.manager_id != '' AND has(x.recipient_ids, u.manager_id)`,
)

// Messages that may reply to them: same thread, up to 168 h after the window; per sender and
// instant, the largest event_id (what decides a tie with a rep message at that instant).
const MR = cte(
  'mr',
  (s) => sql`
  SELECT ${s.c}thread_id, sender_id, occurred_at, max(event_id) AS last_event_id, groupUniqArray(event_id) AS event_ids
  FROM {db:Identifier}.events
  WHERE ${s.org} ${s.k} AND type = 'message.sent'
    AND occurred_at >= {lo:DateTime64(3, 'UTC')} AND occurred_at <= addHours({hi:DateTime64(3, 'UTC')}, 168)
    AND ${s.key('thread_id')} IN (SELECT ${s.c}thread_id FROM rq)
  GROUP BY ${s.c}thread_id, sender_id, occurred_at`,
)

// The reply: the earliest message by m in the thread strictly after, kept if within 168 h.
// "After" breaks a tie on occurred_at by event_id (docs/metrics.md, "Same instant"): a message by
// m at the same instant with a larger event_id is the reply, 0 ms later (join s); else the
// earliest at a later instant (ASOF <). The earliest-after rule makes one reply answer every
// earlier unanswered message. `reply_event_id` names the reply for explain ('' when none).
const RD = cte(
  'rd',
  (s) => sql`
  SELECT ${s.ca('rq')}rq.day AS day, rq.m AS m, rq.event_id AS event_id,
         multiIf(s.last_event_id > rq.event_id, toInt64(0),
                 r.occurred_at > rq.occurred_at, toUnixTimestamp64Milli(r.occurred_at) - toUnixTimestamp64Milli(rq.occurred_at),
                 NULL) AS delay_ms,
         delay_ms IS NOT NULL AND delay_ms <= 168 * 3600000 AS replied,
         multiIf(NOT replied, '',
                 s.last_event_id > rq.event_id, arrayMin(arrayFilter(e -> e > rq.event_id, s.event_ids)),
                 arrayMin(r.event_ids)) AS reply_event_id
  FROM rq
  ASOF LEFT JOIN mr AS r ON rq.thread_id = r.thread_id AND rq.m = r.sender_id${s.on('rq', 'r')} AND rq.occurred_at < r.occurred_at
  LEFT JOIN mr AS s ON rq.thread_id = s.thread_id AND rq.m = s.sender_id${s.on('rq', 's')} AND rq.occurred_at = s.occurred_at`,
)

// One-on-ones and lunches: for each participant who is a rep on some m's team at the event,
// that m counts the meeting if m took part too (once per meeting and m).
const MP = cte(
  'mp',
  (s) => sql`
  SELECT ${s.ca('x')}x.event_id AS event_id, x.day AS day, x.kind AS kind, x.people AS people,
         if(u.role = 'rep' AND u.active = 1, u.manager_id, '') AS m
  FROM (
    SELECT ${s.c}event_id, day, occurred_at, kind, arrayDistinct(arrayConcat([organizer_id], attendee_ids)) AS people, p
    FROM w
    ARRAY JOIN arrayDistinct(arrayConcat([organizer_id], attendee_ids)) AS p
    WHERE type = 'meeting.held' AND kind IN ('one_on_one', 'lunch')
  ) AS x
  ASOF LEFT JOIN uv AS u ON x.p = u.user_id${s.on('x', 'u')} AND x.occurred_at >= u.occurred_at`,
)

const MQ = cte(
  'mq',
  (s) => sql`
  SELECT DISTINCT ${s.c}event_id, day, kind, people, m
  FROM mp
  WHERE m != '' AND has(people, m)`,
)

// recognition.given from m to at least one rep on m's team at the event (once per event).
const RG = cte(
  'rg',
  (s) => sql`
  SELECT DISTINCT ${s.ca('x')}x.event_id AS event_id, x.day AS day, x.from_id AS m
  FROM (SELECT ${s.c}event_id, day, occurred_at, from_id, t FROM w ARRAY JOIN to_ids AS t WHERE type = 'recognition.given') AS x
  ASOF LEFT JOIN uv AS u ON x.t = u.user_id${s.on('x', 'u')} AND x.occurred_at >= u.occurred_at
  WHERE u.role = 'rep' AND u.active = 1 AND u.manager_id = x.from_id AND x.from_id != ''`,
)

// Manager facts: one row per (fact, m), columns neutral where the fact says nothing; `event_id`
// is the event the fact comes from (what explain lists).
const MF = cte(
  'mf',
  (s) => sql`
  SELECT ${s.c}day, m, opportunity_id AS opp,
         toUInt8((type IN ('opportunity.stage_changed', 'opportunity.updated', 'opportunity.owner_changed') AND changed_by = m)
           OR (type = 'opportunity.closed' AND closed_by = m)
           OR (type = 'activity.logged' AND (owner_id = m OR has(participant_ids, m)))) AS intervention,
         toUInt8((type = 'opportunity.owner_changed' AND to_owner = m) OR (type = 'opportunity.closed' AND closed_by = m)) AS takeover,
         toUInt8(type = 'opportunity.closed' AND outcome = 'won') AS won,
         toUInt8(type = 'opportunity.closed' AND outcome = 'won' AND closed_by = deal_owner) AS rep_won,
         toUInt8(0) AS goal, toUInt8(0) AS msg, toUInt8(0) AS within_24h, toUInt8(0) AS no_reply,
         CAST(NULL, 'Nullable(Float64)') AS reply_minutes,
         toUInt8(0) AS one_on_one, toUInt8(0) AS lunch, CAST([], 'Array(String)') AS people, toUInt8(0) AS recognition,
         event_id
  FROM dt WHERE m != ''
  UNION ALL
  SELECT ${s.c}day, m, '', 0, 0, 0, 0, 1, 0, 0, 0, NULL, 0, 0, [], 0, event_id FROM gs
  UNION ALL
  SELECT ${s.c}day, m, '', 0, 0, 0, 0, 0, 1, toUInt8(replied AND delay_ms <= 24 * 3600000), toUInt8(NOT replied),
         if(replied, delay_ms / 60000, NULL), 0, 0, [], 0, event_id
  FROM rd
  UNION ALL
  SELECT ${s.c}day, m, '', 0, 0, 0, 0, 0, 0, 0, 0, NULL,
         toUInt8(kind = 'one_on_one'), toUInt8(kind = 'lunch'), if(kind = 'one_on_one', people, []), 0, event_id
  FROM mq
  UNION ALL
  SELECT ${s.c}day, m, '', 0, 0, 0, 0, 0, 0, 0, 0, NULL, 0, 0, [], 1, event_id FROM rg`,
)

// First entry of a deal into a qualified category, over all time: the window's entries that are
// their deal's first count for the deal's owner at that event.
const FE = cte(
  'fe',
  (s) => sql`
  SELECT ${s.c}argMin(event_id, (occurred_at, event_id)) AS first_event_id
  FROM {db:Identifier}.events
  WHERE ${s.org} ${s.k}
    AND ((type = 'opportunity.created' AND stage_category IN ${QUALIFIED})
         OR (type = 'opportunity.stage_changed' AND to_category IN ${QUALIFIED}))
    AND occurred_at < {hi:DateTime64(3, 'UTC')}
    AND ${s.key('opportunity_id')} IN (
      SELECT ${s.c}opportunity_id FROM w
      WHERE (type = 'opportunity.created' AND stage_category IN ${QUALIFIED})
         OR (type = 'opportunity.stage_changed' AND to_category IN ${QUALIFIED}))
  GROUP BY ${s.c}opportunity_id`,
)

// Activities of the window, with their account (own, else their deal's).
const AC = cte(
  'ac',
  (s) => sql`
  SELECT a.*, if(a.account_id != '', a.account_id, oa.account) AS account
  FROM (SELECT * FROM w WHERE type = 'activity.logged') AS a
  LEFT JOIN oa ON a.opportunity_id = oa.opportunity_id${s.on('a', 'oa')}`,
)

// Rep facts: one row per (fact, user r), `event_id` the event it comes from; the report keeps
// the users who are reps.
const RF = cte(
  'rf',
  (s) => sql`
  SELECT ${s.c}day, owner_id AS r, toUInt8(1) AS created,
         map(currency_or_default, ifNull(amount_dec, ${ZERO})) AS pipeline,
         toUInt8(0) AS qualified, toUInt8(0) AS win, toUInt8(0) AS loss, ${NO_MONEY} AS won_map,
         toUInt8(0) AS activity, toUInt8(0) AS call, toUInt8(0) AS email, toUInt8(0) AS meeting,
         '' AS account, CAST([], 'Array(String)') AS contacts, '' AS opp, event_id
  FROM w WHERE type = 'opportunity.created' AND owner_id != ''
  UNION ALL
  SELECT ${s.ca('c')}c.day, c.deal_owner, 0, ${NO_MONEY}, 0, toUInt8(c.outcome = 'won'), toUInt8(c.outcome = 'lost'),
         multiIf(c.outcome != 'won', ${NO_MONEY},
                 c.amount_dec IS NOT NULL, map(c.currency_or_default, assumeNotNull(c.amount_dec)),
                 oa.amount_dec IS NOT NULL, map(oa.currency_or_default, assumeNotNull(oa.amount_dec)),
                 map(c.currency_or_default, ${ZERO})),
         0, 0, 0, 0, '', [], '', c.event_id
  FROM (SELECT * FROM dt WHERE type = 'opportunity.closed' AND deal_owner != '') AS c
  LEFT JOIN oa ON c.opportunity_id = oa.opportunity_id${s.on('c', 'oa')}
  UNION ALL
  SELECT ${s.c}day, deal_owner, 0, ${NO_MONEY}, 1, 0, 0, ${NO_MONEY}, 0, 0, 0, 0, '', [], '', event_id
  FROM dt WHERE deal_owner != '' AND ${s.key('event_id')} IN (SELECT ${s.c}first_event_id FROM fe)
  UNION ALL
  SELECT ${s.c}day, owner_id, 0, ${NO_MONEY}, 0, 0, 0, ${NO_MONEY},
         1, toUInt8(kind = 'call'), toUInt8(kind = 'email'), toUInt8(kind = 'meeting'), '', [], '', event_id
  FROM w WHERE type = 'activity.logged' AND owner_id != ''
  UNION ALL
  SELECT ${s.c}day, p, 0, ${NO_MONEY}, 0, 0, 0, ${NO_MONEY}, 0, 0, 0, 0, account, contact_ids, opportunity_id, event_id
  FROM ac ARRAY JOIN arrayDistinct(arrayFilter(x -> x != '', arrayConcat([owner_id], participant_ids))) AS p`,
)

// Deals of the window's activities that reached 3 distinct contacts on one of the window's days:
// per (deal, contact) the day the contact first appeared in the deal's activities (by anyone);
// the deal's 3rd smallest such day is when it became multithreaded. Later events cannot change
// the days up to that one, so events from `hi` on are not read.
const MT = cte(
  'mt',
  (s) => sql`
  SELECT ${s.c}opportunity_id, ${ID128(sql`opportunity_id`)} AS deal_id128, arraySort(groupArray(first_day))[3] AS day
  FROM (
    SELECT ${s.c}opportunity_id, contact, toDate(min(occurred_at), {tz:String}) AS first_day
    FROM {db:Identifier}.events
    ARRAY JOIN contact_ids AS contact
    WHERE ${s.org} ${s.k} AND type = 'activity.logged' AND occurred_at < {hi:DateTime64(3, 'UTC')}
      AND ${s.key('opportunity_id')} IN (SELECT ${s.c}opportunity_id FROM w WHERE type = 'activity.logged' AND opportunity_id != '')
    GROUP BY ${s.c}opportunity_id, contact
  )
  GROUP BY ${s.c}opportunity_id
  HAVING count() >= 3 AND ${s.inWindow(sql`day`)}`,
)

const UVF = cte(
  'uvf',
  (s) => sql`
  SELECT ${s.c}day, user_id, occurred_at, event_id, role, manager_id, active FROM w WHERE type = 'user.upserted'`,
)

const EXF = cte(
  'exf',
  (s) => sql`
  SELECT ${s.c}day, if(type = 'quota.set', 'quota', 'goal') AS kind, user_id, set_by,
         assumeNotNull(period_start) AS period_start, assumeNotNull(period_end) AS period_end
  FROM w WHERE type IN ('quota.set', 'goal.set') AND period_start IS NOT NULL AND period_end IS NOT NULL`,
)

/** Every fact CTE, in dependency order. */
const FACT_CTE_LIST: readonly Cte[] = [W, UV, OW, OA, DE, DT, GS, RQ, MR, RD, MP, MQ, RG, MF, FE, AC, RF, MT, UVF, EXF]

/**
 * CTEs that a recomputation materializes, in this order, as Memory tables before writing the
 * facts: each is read by several fact queries, and the window (a scan of the events of whole
 * month partitions, the store being ordered by event_id) would otherwise be read a dozen times.
 */
export const MATERIALIZED_CTES = ['w', 'uv', 'oa', 'dt'] as const
export type MaterializedCte = (typeof MATERIALIZED_CTES)[number]

/** The query parameter naming the Memory table that holds a materialized CTE. */
export function materializedTableParam(name: MaterializedCte): string {
  return `tmp_${name}`
}

/**
 * The fact CTEs (`mf` manager facts, `rf` rep facts, `mt` multithreaded deals, `uvf` org chart
 * versions, `exf` expectations, and what they derive from), as the body of a WITH clause. The
 * `materialized` ones read their Memory table (parameter `tmp_<name>` Identifier) instead.
 * `asOf`: every read of `events` keeps only the rows ingested by the parameter `as_of`
 * (DateTime64(3, 'UTC')), the facts as the store knew them then (KNOWN_BY_AS_OF).
 */
export function factCtes(
  materialized: readonly MaterializedCte[] = [],
  options: { asOf?: boolean; scope?: FactScope } = {},
): SqlFragment {
  const scope: Scope = { ...SCOPES[options.scope ?? 'org'], k: options.asOf ? KNOWN_BY_AS_OF : EVERY_STORED }
  const parts = FACT_CTE_LIST.map(({ name, body }) =>
    (materialized as readonly string[]).includes(name)
      ? new SqlFragment(
          `${name} AS (SELECT * FROM {db:Identifier}.{${materializedTableParam(name as MaterializedCte)}:Identifier})`,
        )
      : new SqlFragment(`${name} AS (${body(scope).text}\n)`),
  )
  return new SqlFragment(parts.map((p) => p.text).join(',\n'))
}

/** Creates the Memory table of `name` from the CTEs, reading those materialized before it. */
export function materializeCte(name: MaterializedCte, scope: FactScope = 'org'): SqlFragment {
  const before = MATERIALIZED_CTES.slice(0, MATERIALIZED_CTES.indexOf(name))
  return sql`
    CREATE TABLE {db:Identifier}.${new SqlFragment(`{${materializedTableParam(name)}:Identifier}`)} ENGINE = Memory AS
    WITH ${factCtes(before, { scope })}
    SELECT * FROM ${new SqlFragment(name)}`
}

/**
 * The `as_of` parameter of `factCtes(…, { asOf: true })`: an RFC 3339 instant (`AsOf` of the
 * schemas) as DateTime64(3) text in UTC, or, without one, the last instant DateTime64 holds, so
 * that every stored event counts.
 */
export function asOfParam(asOf?: string): string {
  if (asOf === undefined) return '2299-12-31 23:59:59.999'
  return new Date(asOf.toUpperCase()).toISOString().replace('T', ' ').replace('Z', '')
}
