/**
 * The SQL of explain (explain.ts): for each count metric of docs/metrics.md, the rows behind the
 * count, as (item, event_id, why). They are selected from the same fact CTEs and reference CTEs
 * the reports aggregate (`factCtes` of metric-facts.ts, `chart`, `exp` and `multi` of
 * report-queries.ts), with the same conditions, so that the distinct items number what the report
 * counts: a distinct count (`uniqExact`, `length` of a set) has one item per distinct thing, a
 * count of facts (`sum` of a flag) one item per fact, each fact being one event.
 *
 * Parameters: those of the reference report (`db`, `org`, `tz`, `currency`, `days`, `lo`, `hi`,
 * `from`, `to`, `as_of`), and `subject` String, the manager or the rep.
 */
import type { ExplainMetric } from '../../schemas/report-params.schema.ts'
import { factCtes, KNOWN_BY_AS_OF } from '../projections/metric-facts.ts'
import { sql, type SqlFragment } from '../clickhouse/sql.ts'
import { CHART_FROM_EVENTS, EXPECTATIONS_FROM_EVENTS, MULTI_FROM_EVENTS } from './report-queries.ts'

/** What an item of a metric is: the thing counted distinctly, or `event` for a count of events. */
export type ExplainUnit = 'deal' | 'event' | 'rep' | 'account' | 'contact'

const MANAGER_FACTS = sql`(SELECT * FROM mf WHERE m = {subject:String})`
const REP_FACTS = sql`(SELECT * FROM rf WHERE r = {subject:String})`
// The subject's team at the end of the range, as MANAGER_SELECT of report-queries.ts forms it.
const TEAM = sql`(SELECT user_id AS rep, event_id FROM chart WHERE role = 'rep' AND active = 1 AND manager_id = {subject:String})`
const ON_TEAM = sql`concat('rep on the team of ', {subject:String}, ' at the end of the range')`

/** A manager fact of a team deal event (mf rows that come from `dt`), with the event's details `d`. */
function dealFacts(item: SqlFragment, flag: SqlFragment, why: SqlFragment): SqlFragment {
  return sql`
    SELECT ${item} AS item, f.event_id AS event_id, ${why} AS why
    FROM ${MANAGER_FACTS} AS f
    INNER JOIN dt AS d ON d.event_id = f.event_id
    WHERE ${flag}`
}

/** A rep fact, with its event `a` of the window. */
function repFacts(item: SqlFragment, flag: SqlFragment, why: SqlFragment): SqlFragment {
  return sql`
    SELECT ${item} AS item, f.event_id AS event_id, ${why} AS why
    FROM ${REP_FACTS} AS f
    INNER JOIN w AS a ON a.event_id = f.event_id
    WHERE ${flag}`
}

/** A rep message to the subject (rd, through mf), and its reply if it has one. */
function messages(flag: SqlFragment, why: SqlFragment): SqlFragment {
  return sql`
    SELECT item, ev.1 AS event_id, ev.2 AS why
    FROM (
      SELECT f.event_id AS item,
             [(f.event_id, ${why}),
              (r.reply_event_id, concat('reply by ', f.m, ', ', toString(r.delay_ms / 60000), ' min later'))] AS evs
      FROM ${MANAGER_FACTS} AS f
      INNER JOIN rd AS r ON r.event_id = f.event_id AND r.m = f.m
      WHERE ${flag}
    )
    ARRAY JOIN evs AS ev
    WHERE ev.1 != ''`
}

/** The subject's team reps who have a matching expectation (`exp`), with it and their upsert. */
function teamWithExpectation(condition: SqlFragment, why: SqlFragment): SqlFragment {
  return sql`
    SELECT t.rep AS item, e.event_id AS event_id, ${why} AS why
    FROM ${TEAM} AS t
    INNER JOIN exp AS e ON e.user_id = t.rep
    WHERE ${condition}
    UNION ALL
    SELECT rep, event_id, ${ON_TEAM} FROM ${TEAM} WHERE rep IN (SELECT user_id FROM exp AS e WHERE ${condition})`
}

const OWNED_OR_TOOK_PART = sql`concat(if(a.owner_id = f.r, 'owned ', 'took part in '), a.kind)`
const DEAL_OWNER = sql`concat(' (deal owner ', d.deal_owner, ')')`

/** Per count metric: what an item is, and the rows (item, event_id, why) behind the count. */
export const EXPLAIN_ITEMS: Record<ExplainMetric, { unit: ExplainUnit; items: SqlFragment }> = {
  deals_active: {
    unit: 'deal',
    items: dealFacts(sql`f.opp`, sql`f.opp != ''`, sql`concat('team deal event', ${DEAL_OWNER})`),
  },
  deals_intervened: {
    unit: 'deal',
    items: dealFacts(
      sql`f.opp`,
      sql`f.intervention = 1`,
      sql`concat(multiIf(d.type = 'activity.logged' AND d.owner_id = f.m, concat('activity owned by ', f.m),
                         d.type = 'activity.logged', concat(f.m, ' among the participants'),
                         d.type = 'opportunity.closed', concat('closed_by ', f.m),
                         concat(replaceOne(d.type, 'opportunity.', ''), ' changed_by ', f.m)), ${DEAL_OWNER})`,
    ),
  },
  takeovers: {
    unit: 'deal',
    items: dealFacts(
      sql`f.opp`,
      sql`f.takeover = 1`,
      sql`if(d.type = 'opportunity.owner_changed', concat('owner changed from ', d.from_owner, ' to ', f.m),
             concat('closed_by ', f.m, ' on a team deal', ${DEAL_OWNER}))`,
    ),
  },
  team_wins: {
    unit: 'event',
    items: dealFacts(sql`f.event_id`, sql`f.won = 1`, sql`concat('won ', d.opportunity_id, ${DEAL_OWNER})`),
  },
  rep_closed_wins: {
    unit: 'event',
    items: dealFacts(
      sql`f.event_id`,
      sql`f.rep_won = 1`,
      sql`concat('won ', d.opportunity_id, ', closed_by the deal owner ', d.deal_owner)`,
    ),
  },
  team_size: { unit: 'rep', items: sql`SELECT rep AS item, event_id, ${ON_TEAM} AS why FROM ${TEAM}` },
  reps_with_quota: {
    unit: 'rep',
    items: teamWithExpectation(sql`e.kind = 'quota'`, sql`'quota.set whose period overlaps the range'`),
  },
  goals_set: {
    unit: 'event',
    items: sql`
      SELECT f.event_id AS item, f.event_id AS event_id, concat('goal.set by ', f.m, ' for ', a.user_id, ', a rep on the team') AS why
      FROM ${MANAGER_FACTS} AS f
      INNER JOIN w AS a ON a.event_id = f.event_id
      WHERE f.goal = 1`,
  },
  reps_with_goals: {
    unit: 'rep',
    items: teamWithExpectation(
      sql`e.kind = 'goal' AND e.set_by = {subject:String}`,
      sql`concat('goal.set by ', {subject:String}, ' whose period overlaps the range')`,
    ),
  },
  rep_messages: { unit: 'event', items: messages(sql`f.msg = 1`, sql`concat('rep message to ', f.m)`) },
  replied_within_24h: {
    unit: 'event',
    items: messages(sql`f.within_24h = 1`, sql`concat('rep message to ', f.m, ', replied within 24 h')`),
  },
  unanswered: {
    unit: 'event',
    items: messages(sql`f.no_reply = 1`, sql`concat('rep message to ', f.m, ', no reply within 168 h')`),
  },
  one_on_ones: {
    unit: 'event',
    items: sql`
      SELECT f.event_id AS item, f.event_id AS event_id, concat('one_on_one of ', arrayStringConcat(q.people, ', ')) AS why
      FROM ${MANAGER_FACTS} AS f
      INNER JOIN mq AS q ON q.event_id = f.event_id AND q.m = f.m
      WHERE f.one_on_one = 1`,
  },
  reps_with_one_on_one: {
    unit: 'rep',
    items: sql`
      SELECT p AS item, event_id, concat('one_on_one with ', {subject:String}) AS why
      FROM (SELECT event_id, people FROM ${MANAGER_FACTS} WHERE one_on_one = 1)
      ARRAY JOIN people AS p
      WHERE p IN (SELECT rep FROM ${TEAM})
      UNION ALL
      SELECT rep, event_id, ${ON_TEAM} FROM ${TEAM}
      WHERE rep IN (SELECT arrayJoin(people) FROM ${MANAGER_FACTS} WHERE one_on_one = 1)`,
  },
  lunches: {
    unit: 'event',
    items: sql`
      SELECT f.event_id AS item, f.event_id AS event_id, concat('lunch of ', arrayStringConcat(q.people, ', ')) AS why
      FROM ${MANAGER_FACTS} AS f
      INNER JOIN mq AS q ON q.event_id = f.event_id AND q.m = f.m
      WHERE f.lunch = 1`,
  },
  recognitions: {
    unit: 'event',
    items: sql`
      SELECT f.event_id AS item, f.event_id AS event_id, concat('recognition from ', f.m, ' to ', arrayStringConcat(a.to_ids, ', ')) AS why
      FROM ${MANAGER_FACTS} AS f
      INNER JOIN w AS a ON a.event_id = f.event_id
      WHERE f.recognition = 1`,
  },
  opportunities_created: {
    unit: 'event',
    items: repFacts(
      sql`f.event_id`,
      sql`f.created = 1`,
      sql`concat('created ', a.opportunity_id, ' with owner ', f.r)`,
    ),
  },
  opportunities_qualified: {
    unit: 'deal',
    items: sql`
      SELECT d.opportunity_id AS item, f.event_id AS event_id,
             concat('first entry into ', if(d.type = 'opportunity.created', d.stage_category, d.to_category),
                    ', deal owner ', f.r) AS why
      FROM ${REP_FACTS} AS f
      INNER JOIN dt AS d ON d.event_id = f.event_id
      WHERE f.qualified = 1`,
  },
  wins: {
    unit: 'event',
    items: repFacts(sql`f.event_id`, sql`f.win = 1`, sql`concat('won ', a.opportunity_id, ', deal owner ', f.r)`),
  },
  losses: {
    unit: 'event',
    items: repFacts(sql`f.event_id`, sql`f.loss = 1`, sql`concat('lost ', a.opportunity_id, ', deal owner ', f.r)`),
  },
  activities: {
    unit: 'event',
    items: repFacts(sql`f.event_id`, sql`f.activity = 1`, sql`concat(a.kind, ' owned by ', f.r)`),
  },
  calls: { unit: 'event', items: repFacts(sql`f.event_id`, sql`f.call = 1`, sql`concat('call owned by ', f.r)`) },
  emails: { unit: 'event', items: repFacts(sql`f.event_id`, sql`f.email = 1`, sql`concat('email owned by ', f.r)`) },
  meetings: {
    unit: 'event',
    items: repFacts(sql`f.event_id`, sql`f.meeting = 1`, sql`concat('meeting owned by ', f.r)`),
  },
  accounts_engaged: {
    unit: 'account',
    items: repFacts(
      sql`f.account`,
      sql`f.account != ''`,
      sql`concat(${OWNED_OR_TOOK_PART}, if(a.account_id = '', concat(', account of deal ', a.opportunity_id), ''))`,
    ),
  },
  contacts_engaged: {
    unit: 'contact',
    items: sql`
      SELECT c AS item, f.event_id AS event_id, ${OWNED_OR_TOOK_PART} AS why
      FROM (SELECT r, event_id, c FROM ${REP_FACTS} ARRAY JOIN contacts AS c) AS f
      INNER JOIN w AS a ON a.event_id = f.event_id`,
  },
  deals_worked: {
    unit: 'deal',
    items: repFacts(sql`f.opp`, sql`f.opp != ''`, OWNED_OR_TOOK_PART),
  },
  // The deal's activities by anyone up to the end of the range, as `multi` reads them: their
  // contacts are what make it multithreaded.
  multithreaded_deals: {
    unit: 'deal',
    items: sql`
      SELECT f.opp AS item, f.event_id AS event_id, ${OWNED_OR_TOOK_PART} AS why
      FROM ${REP_FACTS} AS f
      INNER JOIN w AS a ON a.event_id = f.event_id
      WHERE f.opp IN (SELECT id FROM multi)
      UNION ALL
      SELECT opportunity_id, event_id, concat('contacts ', arrayStringConcat(contact_ids, ', '))
      FROM {db:Identifier}.events
      WHERE org_id = {org:String} ${KNOWN_BY_AS_OF} AND type = 'activity.logged' AND notEmpty(contact_ids)
        AND occurred_at < {hi:DateTime64(3, 'UTC')} AND toDate(occurred_at, {tz:String}) <= {to:Date}
        AND opportunity_id IN (SELECT opp FROM ${REP_FACTS} WHERE opp IN (SELECT id FROM multi))
      LIMIT 1 BY event_id`,
  },
}

/**
 * The rows behind `metric` for the subject: each item's events with their type, time and the
 * source's ref (read back from the store, as of `as_of`), sorted by item then time.
 */
export function explainQuery(metric: ExplainMetric): SqlFragment {
  return sql`
    WITH ${factCtes([], { asOf: true })},
    ${CHART_FROM_EVENTS},
    ${EXPECTATIONS_FROM_EVENTS},
    ${MULTI_FROM_EVENTS},
    items AS (${EXPLAIN_ITEMS[metric].items})
    SELECT i.item AS item, i.event_id AS event_id, i.why AS why,
           e.type AS type, e.occurred_at AS occurred_at, e.source_ref AS source_ref
    FROM (SELECT DISTINCT item, event_id, why FROM items) AS i
    LEFT JOIN (
      SELECT event_id, any(toString(type)) AS type, toString(min(occurred_at)) AS occurred_at, any(source_ref) AS source_ref
      FROM {db:Identifier}.events
      WHERE org_id = {org:String} ${KNOWN_BY_AS_OF} AND event_id IN (SELECT event_id FROM items)
      GROUP BY event_id
    ) AS e ON e.event_id = i.event_id
    ORDER BY item, occurred_at, event_id, why`
}

/** The subject's role at the end of the range (no row: unknown then). */
export const SUBJECT_ROLE = sql`
  WITH ${CHART_FROM_EVENTS}
  SELECT toString(role) AS role FROM chart WHERE user_id = {subject:String}`
