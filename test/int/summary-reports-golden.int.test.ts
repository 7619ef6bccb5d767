// Golden tests of the composed reports of docs/metrics.md "Reports", team-summary and trend: a
// small org whose every number was worked out by hand from the definitions (the reasoning is in
// the comments), checked against the projections (after `recomputeDays`) and the reference (the
// event store); then, over a generated org, team-summary against the base reports it joins and
// each week of a trend against the base report of that week alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ClickHouse } from '../../services/clickhouse/clickhouse-client.ts'
import { migrate } from '../../services/clickhouse/migrations.ts'
import { generateOrg } from '../../services/demo/org-generator.ts'
import { toEventRow } from '../../services/ingest/event-rows.ts'
import { addDays } from '../../services/projections/days.ts'
import { createProjectionActivities } from '../../services/projections/projection-activities.ts'
import { REPORT_COLUMNS, type ReportRow } from '../../services/reports/report-queries.ts'
import {
  REPORT_SOURCES,
  reportFrom,
  teamSummary,
  trend,
  trendSource,
  type ReportSource,
  type TrendMetric,
  type TrendParams,
} from '../../services/reports/summary-reports.ts'
import { testClickHouse } from '../support/env.ts'
import { insertRawEvents, type RawEvent } from '../support/event-store-fixtures.ts'

// ---------------------------------------------------------------------------------------------
// Event builders (the shapes of docs/events.md)

function builder(org: string) {
  const events: RawEvent[] = []
  const add = (event_id: string, type: string, occurred_at: string, payload: Record<string, unknown>) => {
    events.push({ event_id, org_id: org, type, schema_version: 1, occurred_at, source: { system: 'api' }, payload })
  }
  return {
    events,
    user: (id: string, t: string, user_id: string, role: string, manager_id: string | null) =>
      add(id, 'user.upserted', t, { user_id, display_name: user_id.toUpperCase(), role, manager_id, active: true }),
    created: (id: string, t: string, opportunity_id: string, owner_id: string, stage_category: string) =>
      add(id, 'opportunity.created', t, {
        opportunity_id,
        account_id: `A-${opportunity_id}`,
        owner_id,
        stage: `Stage ${stage_category}`,
        stage_category,
        amount: 1000,
        currency: 'USD',
      }),
    stage: (id: string, t: string, opportunity_id: string, to_category: string, changed_by: string) =>
      add(id, 'opportunity.stage_changed', t, {
        opportunity_id,
        from_stage: null,
        to_stage: `Stage ${to_category}`,
        to_category,
        changed_by,
      }),
    updated: (id: string, t: string, opportunity_id: string, changed_by: string) =>
      add(id, 'opportunity.updated', t, { opportunity_id, changed_by, fields: ['close_date'] }),
    closed: (id: string, t: string, opportunity_id: string, outcome: 'won' | 'lost', closed_by: string) =>
      add(id, 'opportunity.closed', t, { opportunity_id, outcome, closed_by }),
    activity: (
      id: string,
      t: string,
      a: { kind: string; owner_id: string; participant_ids?: string[]; contact_ids?: string[]; account_id?: string },
      opportunity_id?: string,
    ) =>
      add(id, 'activity.logged', t, {
        activity_id: `act-${id}`,
        participant_ids: [],
        contact_ids: [],
        ...a,
        ...(opportunity_id ? { opportunity_id } : {}),
      }),
    message: (id: string, t: string, thread_id: string, sender_id: string, recipient_ids: string[]) =>
      add(id, 'message.sent', t, { message_id: `msg-${id}`, thread_id, sender_id, recipient_ids, channel: 'chat' }),
    oneOnOne: (id: string, t: string, organizer_id: string, attendee_ids: string[]) =>
      add(id, 'meeting.held', t, {
        meeting_id: `mtg-${id}`,
        kind: 'one_on_one',
        organizer_id,
        attendee_ids,
        duration_minutes: 30,
      }),
    recognition: (id: string, t: string, from_id: string, to_ids: string[]) =>
      add(id, 'recognition.given', t, { from_id, to_ids }),
    quota: (id: string, t: string, user_id: string, set_by: string) =>
      add(id, 'quota.set', t, {
        user_id,
        period_start: '2026-03-01',
        period_end: '2026-03-31',
        amount: 100000,
        currency: 'USD',
        set_by,
      }),
    goal: (id: string, t: string, user_id: string, set_by: string) =>
      add(id, 'goal.set', t, {
        user_id,
        goal: 'ten calls a day',
        target: 10,
        period_start: '2026-03-01',
        period_end: '2026-03-31',
        set_by,
      }),
  }
}

// ---------------------------------------------------------------------------------------------
// league: timezone UTC. Three weeks: W1 2026-03-02 (Mon) .. 03-08, W2 03-09 .. 03-15 (no event at
// all), W3 03-16 .. 03-22.
//
// Org chart: managers m1, m2; executive x1; reps r1, r2 (m1), r3 (m2); r4 on m1's team until it
// moves to m2 at 03-18 12:00 (W3); r5 a rep of m2 until promoted to manager at 03-17 09:00 (W3),
// with no team of its own.

function leagueEvents(org: string): RawEvent[] {
  const b = builder(org)
  const T0 = '2026-02-20T09:00:00Z'
  b.user('u-m1', T0, 'm1', 'manager', null)
  b.user('u-m2', T0, 'm2', 'manager', null)
  b.user('u-x1', T0, 'x1', 'executive', null)
  b.user('u-r1', T0, 'r1', 'rep', 'm1')
  b.user('u-r2', T0, 'r2', 'rep', 'm1')
  b.user('u-r3', T0, 'r3', 'rep', 'm2')
  b.user('u-r4', T0, 'r4', 'rep', 'm1')
  b.user('u-r5', T0, 'r5', 'rep', 'm2')
  b.user('u-r5-up', '2026-03-17T09:00:00Z', 'r5', 'manager', null)
  b.user('u-r4-move', '2026-03-18T12:00:00Z', 'r4', 'rep', 'm2')

  // W1. o1 (r1): created qualified, worked with three contacts (multithreaded), won by r1.
  b.created('o1-c', '2026-03-02T10:00:00Z', 'o1', 'r1', 'qualified')
  b.activity('a1', '2026-03-02T12:00:00Z', { kind: 'call', owner_id: 'r1', contact_ids: ['c1', 'c2', 'c3'] }, 'o1')
  b.closed('o1-w', '2026-03-04T10:00:00Z', 'o1', 'won', 'r1')
  // o2 (r2): an email with m1 taking part (m1's intervention), lost by r2.
  b.created('o2-c', '2026-03-03T10:00:00Z', 'o2', 'r2', 'prospecting')
  b.activity(
    'a2',
    '2026-03-03T12:00:00Z',
    { kind: 'email', owner_id: 'r2', participant_ids: ['m1'], contact_ids: ['c4'] },
    'o2',
  )
  b.closed('o2-l', '2026-03-05T10:00:00Z', 'o2', 'lost', 'r2')
  // o3 (r4, still m1's): created and called in W1; in W3 moved to negotiation by r4 before the
  // move (m1's team deal event, r4's first qualified entry), won by r4 after it (m2's).
  b.created('o3-c', '2026-03-03T11:00:00Z', 'o3', 'r4', 'prospecting')
  b.activity('a3', '2026-03-04T12:00:00Z', { kind: 'call', owner_id: 'r4', contact_ids: ['c5'] }, 'o3')
  // o7 (r4): created and won by r4 while on m1's team: m1's team win, yet r4's win counts for m2 in
  // team-summary (r4's manager at the end).
  b.created('o7-c', '2026-03-02T13:00:00Z', 'o7', 'r4', 'prospecting')
  b.closed('o7-w', '2026-03-06T12:00:00Z', 'o7', 'won', 'r4')
  // o4 (r3): moved to proposal by m2 (m2's intervention; r3's first qualified entry), a meeting
  // with two contacts (not multithreaded).
  b.created('o4-c', '2026-03-04T10:00:00Z', 'o4', 'r3', 'prospecting')
  b.stage('o4-s', '2026-03-05T10:00:00Z', 'o4', 'proposal', 'm2')
  b.activity('a4', '2026-03-05T11:00:00Z', { kind: 'meeting', owner_id: 'r3', contact_ids: ['c6', 'c7'] }, 'o4')
  // r5, still m2's rep: a call without a deal, and o5 (m2's team deal event).
  b.activity('a5', '2026-03-06T09:00:00Z', { kind: 'call', owner_id: 'r5', account_id: 'A5' })
  b.created('o5-c', '2026-03-06T10:00:00Z', 'o5', 'r5', 'prospecting')
  // Care: r1 -> m1 answered in 60 min; r2 -> m1 never answered. A one-on-one m1/r1; m1 recognises r2.
  b.message('t1-1', '2026-03-02T09:00:00Z', 'T1', 'r1', ['m1'])
  b.message('t1-r', '2026-03-02T10:00:00Z', 'T1', 'm1', ['r1'])
  b.message('t2-1', '2026-03-05T09:00:00Z', 'T2', 'r2', ['m1'])
  b.oneOnOne('mt-1', '2026-03-06T10:00:00Z', 'm1', ['r1'])
  b.recognition('rc-1', '2026-03-06T15:00:00Z', 'm1', ['r2'])
  // Direction: r1's quota (by x1, before the range), r3's goal by m2.
  b.quota('q-1', '2026-02-25T10:00:00Z', 'r1', 'x1')
  b.goal('g-1', '2026-03-03T10:00:00Z', 'r3', 'm2')

  // W3.
  b.activity('a6', '2026-03-16T10:00:00Z', { kind: 'email', owner_id: 'r1', contact_ids: ['c1'] }, 'o1')
  b.stage('o3-s', '2026-03-17T10:00:00Z', 'o3', 'negotiation', 'r4')
  b.closed('o3-w', '2026-03-19T10:00:00Z', 'o3', 'won', 'r4')
  // o6 (r2): created in proposal (r2's qualified entry), updated by m1 (intervention), lost by r2.
  b.created('o6-c', '2026-03-16T11:00:00Z', 'o6', 'r2', 'proposal')
  b.updated('o6-u', '2026-03-17T12:00:00Z', 'o6', 'm1')
  b.closed('o6-l', '2026-03-20T10:00:00Z', 'o6', 'lost', 'r2')
  // r1 -> m1 answered in 30 min; r4 (m2's by now) -> m2 answered exactly 24 h (1440 min) later.
  b.message('t4-1', '2026-03-16T08:00:00Z', 'T4', 'r1', ['m1'])
  b.message('t4-r', '2026-03-16T08:30:00Z', 'T4', 'm1', ['r1'])
  b.message('t3-1', '2026-03-19T09:00:00Z', 'T3', 'r4', ['m2'])
  b.message('t3-r', '2026-03-20T09:00:00Z', 'T3', 'm2', ['r4'])
  // One-on-ones: m1/r4 before the move (m1's), m2/r4 after it (m2's); m2 recognises r3 and r4 (once).
  b.oneOnOne('mt-2', '2026-03-17T10:00:00Z', 'm1', ['r4'])
  b.oneOnOne('mt-3', '2026-03-20T10:00:00Z', 'm2', ['r4'])
  b.recognition('rc-2', '2026-03-19T15:00:00Z', 'm2', ['r3', 'r4'])
  return b.events
}

const LEAGUE = { org: 'league', from: '2026-03-02', to: '2026-03-22' }

// Over the three weeks. Teams at the end (03-22): m1 r1 r2, m2 r3 r4, r5 none (a manager now,
// so r5 has no rep-volume row and its W1 work as a rep is in no team_* sum).
//
// The base reports, by hand:
// - autonomy. m1's team deal events: o1 (c, a1, w, a6), o2 (c, a2 with m1, l), o3 (c, a3, o3-s),
//   o7 (c, w), o6 (c, u by m1, l): deals_active 5, intervened o2 o6 = 2 -> 2/5; team wins o1 o7,
//   both closed by their owner -> rep_led_win_share 1. m2's: o4 (c, s by m2, a4), o5 (c, r5 still
//   m2's), o3-w (r4 m2's): 3 active, 1 intervened -> 1/3; team win o3 by its owner -> 1.
//   r5: no team deal event -> both null.
// - direction. m1: team 2, quota r1 -> 1/2, no goal by m1 -> 0. m2: team 2, no quota -> 0, goal
//   r3 -> 1/2. r5: team 0 -> null, null.
// - care. m1: t1-1 (60 min), t2-1 (unanswered), t4-1 (30 min): 2 of 3 within 24 h; delays
//   [30, 60], median index floor(0.5·2) = 1 -> 60; one-on-ones mt-1 (r1), mt-2 (r4); of the end
//   team only r1 -> 1/2; rc-1. m2: t3-1 at exactly 24 h counts as within -> 1/1, median 1440;
//   mt-3 (r4) -> 1/2; rc-2 once. r5: nothing -> null share, null median, null coverage.
// - rep-volume. r1: created o1, qualified o1, won o1, activities a1 a6, deals o1 (multithreaded).
//   r2: created o2 o6, qualified o6, lost o2 o6, activity a2, deals o2 (c4 only).
//   r3: created o4, qualified o4, activity a4, deals o4 (c6 c7). r4: created o3 o7, qualified o3,
//   won o7 o3, activity a3, deals o3 (c5).
// team_* of m1 = r1 + r2: created 1+2, qualified 1+1, wins 1+0, losses 0+2 -> 1/3, activities
// 2+1, multithreaded (1+0)/(1+1). m2 = r3 + r4: created 1+2, qualified 1+1, wins 0+2, losses 0
// -> 2/2, activities 1+1, multithreaded 0/2. Note team_wins: m1 1 and m2 2 here, where
// manager-autonomy's team_wins are 2 and 1 (r4 won o7 on m1's team, then moved).
const LEAGUE_TEAM_SUMMARY = [
  {
    manager_id: 'm1',
    team_size: 2,
    intervention_rate: 2 / 5,
    rep_led_win_share: 1,
    quota_coverage: 0.5,
    goal_coverage: 0,
    reply_within_24h_share: 2 / 3,
    median_reply_minutes: 60,
    unanswered: 1,
    one_on_one_coverage: 0.5,
    recognitions: 1,
    team_opportunities_created: 3,
    team_opportunities_qualified: 2,
    team_wins: 1,
    team_losses: 2,
    team_win_rate: 1 / 3,
    team_activities: 3,
    team_multithreaded_share: 0.5,
  },
  {
    manager_id: 'm2',
    team_size: 2,
    intervention_rate: 1 / 3,
    rep_led_win_share: 1,
    quota_coverage: 0,
    goal_coverage: 0.5,
    reply_within_24h_share: 1,
    median_reply_minutes: 1440,
    unanswered: 0,
    one_on_one_coverage: 0.5,
    recognitions: 1,
    team_opportunities_created: 3,
    team_opportunities_qualified: 2,
    team_wins: 2,
    team_losses: 0,
    team_win_rate: 1,
    team_activities: 2,
    team_multithreaded_share: 0,
  },
  {
    manager_id: 'r5',
    team_size: 0,
    intervention_rate: null,
    rep_led_win_share: null,
    quota_coverage: null,
    goal_coverage: null,
    reply_within_24h_share: null,
    median_reply_minutes: null,
    unanswered: 0,
    one_on_one_coverage: null,
    recognitions: 0,
    team_opportunities_created: 0,
    team_opportunities_qualified: 0,
    team_wins: 0,
    team_losses: 0,
    team_win_rate: null,
    team_activities: 0,
    team_multithreaded_share: null,
  },
]

// Trends over 03-04 .. 03-18, widened to W1 .. W3. A week where the person has no row of the
// metric's report gives null, as does a ratio with a zero denominator; a count with a row gives 0.
const W = ['2026-03-02', '2026-03-09', '2026-03-16']
const LEAGUE_TRENDS: { params: Omit<TrendParams, 'org'>; values: unknown[] }[] = [
  // m1's team deal events: W1 o1 o2 o3 o7, of which o2 intervened -> 1/4; W2 none -> 0/0;
  // W3 o1 (a6), o3 (o3-s, r4 still m1's), o6, of which o6 intervened -> 1/3.
  { params: { metric: 'intervention_rate', manager: 'm1' }, values: [1 / 4, null, 1 / 3] },
  // manager-autonomy's team_wins (not team-summary's Σ): W1 o1 o7 -> 2; W3 o3 is m2's -> 0.
  { params: { metric: 'team_wins', manager: 'm1' }, values: [2, 0, 0] },
  // r5 is a rep at the end of W1 and W2 (no manager row), a manager with no team at the end of W3.
  { params: { metric: 'team_size', manager: 'r5' }, values: [null, null, 0] },
  // A team-summary column. m2's team at the end of W1 and W2: r3 r5, no win or loss; at the end
  // of W3: r3 r4, r4 won o3 -> 1/1.
  { params: { metric: 'team_win_rate', manager: 'm2' }, values: [null, null, 1] },
  // m1's end-of-week teams: W1 r1 r2 r4, r2 lost o2; W3 r1 r2, r2 lost o6.
  { params: { metric: 'team_losses', manager: 'm1' }, values: [1, 0, 1] },
  // m2's rep messages: only t3-1 in W3, answered in 1440 min.
  { params: { metric: 'median_reply_minutes', manager: 'm2' }, values: [null, null, 1440] },
  // r4 won o7 in W1 and o3 in W3; in W2 r4 is a rep with nothing.
  { params: { metric: 'wins', rep: 'r4' }, values: [1, 0, 1] },
  // r5: a5 in W1; no activity in W2; a manager at the end of W3, so no rep-volume row.
  { params: { metric: 'activities', rep: 'r5' }, values: [1, 0, null] },
  // Amounts are per currency: r2 created o2 (W1) and o6 (W3), 1000 USD each.
  { params: { metric: 'pipeline_created_amount', rep: 'r2' }, values: [{ USD: 1000 }, {}, { USD: 1000 }] },
  // Someone the org does not know has no row in any week.
  { params: { metric: 'wins', rep: 'nobody' }, values: [null, null, null] },
]

// ---------------------------------------------------------------------------------------------

let ch: ClickHouse
const NOW = new Date('2026-03-25T12:00:00Z') // a Wednesday: the last 3 full weeks are W1 .. W3

async function project(org: string): Promise<void> {
  const p = createProjectionActivities({ ch })
  await p.recomputeDays({ org, days: await p.listEventDays({ org }) })
}

// A small generated org (services/demo): 2 managers × 3 reps over 3 weeks from 2026-03-02.
const GENERATED = { org: 'generated', from: '2026-03-02', to: '2026-03-22' }

beforeAll(async () => {
  ch = testClickHouse('summary_golden')
  await migrate(ch)
  await insertRawEvents(ch, leagueEvents('league'))
  const seen = new Set<string>()
  const rows = []
  for (const event of generateOrg({
    org: GENERATED.org,
    managers: 2,
    repsPerManager: 3,
    weeks: 3,
    seed: 5,
    start: GENERATED.from,
  })) {
    if (seen.has(event.event_id)) continue
    seen.add(event.event_id)
    rows.push(toEventRow(event))
  }
  await ch.client.insert({ table: `${ch.database}.events`, values: rows, format: 'JSONEachRow' })
  await project('league')
  await project(GENERATED.org)
}, 600_000)

afterAll(async () => {
  await ch?.close()
})

describe.each(REPORT_SOURCES)('team-summary and trend from %s', (source) => {
  it('league team-summary over three weeks', async () => {
    const rows = await teamSummary(ch, LEAGUE, source)
    expect(rows).toEqual(LEAGUE_TEAM_SUMMARY)
    for (const row of rows) expect(Object.keys(row)).toEqual(REPORT_COLUMNS['team-summary'])
    // The plain report of the same name is the same rows.
    expect(await reportFrom(source)(ch, 'team-summary', LEAGUE)).toEqual(rows)
  })

  it.each(LEAGUE_TRENDS.map((t) => ({ ...t, who: t.params.manager ?? t.params.rep })))(
    'league trend of $params.metric for $who',
    async ({ params, values }) => {
      const rows = await trend(ch, { org: 'league', from: '2026-03-04', to: '2026-03-18', ...params }, source, NOW)
      expect(rows).toEqual(W.map((week, i) => ({ week, [params.metric]: values[i] })))
      for (const row of rows) expect(Object.keys(row)).toEqual(['week', params.metric])
    },
  )

  it('a trend of the last N full weeks covers the same weeks as the range they make', async () => {
    const byWeeks = await trend(
      ch,
      { org: 'league', metric: 'intervention_rate', manager: 'm1', weeks: 3 },
      source,
      NOW,
    )
    expect(byWeeks).toEqual(W.map((week, i) => ({ week, intervention_rate: [1 / 4, null, 1 / 3][i] })))
    // On Sunday 03-22 the current week is not full yet: the last two full weeks are W1 and W2.
    const sunday = new Date('2026-03-22T23:00:00Z')
    expect(
      (await trend(ch, { org: 'league', metric: 'wins', rep: 'r4', weeks: 2 }, source, sunday)).map((r) => r.week),
    ).toEqual(W.slice(0, 2))
  })

  it('generated org: team-summary is the base reports joined, the team_* columns summed per manager', async () => {
    for (const range of [GENERATED, { ...GENERATED, from: '2026-03-05', to: '2026-03-11' }]) {
      const expected = await composedTeamSummary(source, range)
      expect(expected.length).toBe(2)
      expect(await teamSummary(ch, range, source)).toEqual(expected)
    }
  })

  it("generated org: each week of a trend is the metric's report over that week alone", async () => {
    const reps = await reportFrom(source)(ch, 'rep-volume', GENERATED)
    const rep = String(reps[0]?.rep_id)
    const metrics: { metric: TrendMetric; person: Pick<TrendParams, 'manager' | 'rep'> }[] = [
      // One metric of each manager report, one of team-summary only, two of rep-volume.
      ...(['intervention_rate', 'goals_set', 'median_reply_minutes', 'team_win_rate'] as const).map((metric) => ({
        metric,
        person: { manager: String(reps[0]?.manager_id) },
      })),
      ...(['won_amount', 'multithreaded_share'] as const).map((metric) => ({ metric, person: { rep } })),
    ]
    for (const { metric, person } of metrics) {
      const rows = await trend(ch, { ...GENERATED, metric, ...person }, source, NOW)
      expect(rows.map((r) => r.week)).toEqual(W)
      const { report, id } = trendSource(metric)
      for (const row of rows) {
        const week = String(row.week)
        const base = await reportFrom(source)(ch, report, { org: GENERATED.org, from: week, to: addDays(week, 6) })
        const own = base.find((r) => r[id] === (person.manager ?? person.rep))
        expect(own, `${metric} ${week}`).toBeDefined()
        expect(row[metric], `${metric} ${week}`).toEqual(own?.[metric])
      }
    }
  })
})

describe('team-summary and trend', () => {
  it('agree between the projections and the event store over the generated org', async () => {
    expect(await teamSummary(ch, GENERATED, 'projections')).toEqual(await teamSummary(ch, GENERATED, 'events'))
    const params = { ...GENERATED, metric: 'team_multithreaded_share', manager: 'm1' } as const
    const managers = (await teamSummary(ch, GENERATED, 'events')).map((r) => String(r.manager_id))
    for (const manager of managers) {
      const p = { ...params, manager }
      expect(await trend(ch, p, 'projections', NOW)).toEqual(await trend(ch, p, 'events', NOW))
    }
  })

  it('a trend refuses bad parameters, naming each', async () => {
    const bad = { org: 'league', metric: 'wins', manager: 'm1', rep: 'r1', weeks: 3 } as const
    await expect(trend(ch, bad, 'projections', NOW)).rejects.toMatchObject({
      code: 'REPORT_PARAMS_INVALID',
      issues: [
        expect.objectContaining({ parameter: 'rep', rule: expect.stringMatching(/^must not be given with manager/) }),
      ],
    })
    await expect(
      trend(ch, { org: 'league', metric: 'nope' as TrendMetric, rep: 'r1', weeks: 3 }, 'events', NOW),
    ).rejects.toMatchObject({
      code: 'REPORT_PARAMS_INVALID',
      issues: [expect.objectContaining({ parameter: 'metric' })],
    })
  })
})

// ---------------------------------------------------------------------------------------------

/**
 * team-summary as docs/metrics.md composes it, written out again here from the base reports (not
 * with `buildTeamSummary`): the manager columns of the three manager reports, and the team_*
 * columns from the rep-volume rows whose manager_id is the manager.
 */
async function composedTeamSummary(
  source: ReportSource,
  range: { org: string; from: string; to: string },
): Promise<ReportRow[]> {
  const report = reportFrom(source)
  const [autonomy, direction, care, reps] = [
    await report(ch, 'manager-autonomy', range),
    await report(ch, 'manager-direction', range),
    await report(ch, 'manager-care', range),
    await report(ch, 'rep-volume', range),
  ]
  expect(direction.map((r) => r.manager_id)).toEqual(autonomy.map((r) => r.manager_id))
  expect(care.map((r) => r.manager_id)).toEqual(autonomy.map((r) => r.manager_id))
  return autonomy.map((a, i) => {
    const d = direction[i] ?? {}
    const c = care[i] ?? {}
    const team = reps.filter((r) => r.manager_id === a.manager_id)
    const sum = (column: string) => team.reduce((s, r) => s + Number(r[column]), 0)
    const ratio = (n: number, d: number) => (d === 0 ? null : n / d)
    return {
      manager_id: a.manager_id,
      team_size: d.team_size,
      intervention_rate: a.intervention_rate,
      rep_led_win_share: a.rep_led_win_share,
      quota_coverage: d.quota_coverage,
      goal_coverage: d.goal_coverage,
      reply_within_24h_share: c.reply_within_24h_share,
      median_reply_minutes: c.median_reply_minutes,
      unanswered: c.unanswered,
      one_on_one_coverage: c.one_on_one_coverage,
      recognitions: c.recognitions,
      team_opportunities_created: sum('opportunities_created'),
      team_opportunities_qualified: sum('opportunities_qualified'),
      team_wins: sum('wins'),
      team_losses: sum('losses'),
      team_win_rate: ratio(sum('wins'), sum('wins') + sum('losses')),
      team_activities: sum('activities'),
      team_multithreaded_share: ratio(sum('multithreaded_deals'), sum('deals_worked')),
    }
  })
}
