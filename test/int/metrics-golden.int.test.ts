// Golden tests of docs/metrics.md: small orgs whose every number was worked out by hand from the
// definitions (the reasoning is in the comments), checked against the projections (`runReport`
// after `recomputeDays`) and the reference (`runReportFromEvents`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ClickHouse } from '../../services/clickhouse/clickhouse-client.ts'
import { migrate } from '../../services/clickhouse/migrations.ts'
import { getOrgSettings, OrgSettingsError, setOrgSettings } from '../../services/projections/org-settings.ts'
import { createProjectionActivities } from '../../services/projections/projection-activities.ts'
import {
  REPORT_COLUMNS,
  runReport,
  runReportFromEvents,
  type ReportName,
} from '../../services/reports/report-queries.ts'
import { testClickHouse } from '../support/env.ts'
import { insertRawEvents, type RawEvent } from '../support/event-store-fixtures.ts'

// ---------------------------------------------------------------------------------------------
// Event builders

function builder(org: string) {
  const events: RawEvent[] = []
  const add = (event_id: string, type: string, occurred_at: string, payload: Record<string, unknown>): RawEvent => {
    const event = { event_id, org_id: org, type, schema_version: 1, occurred_at, source: { system: 'api' }, payload }
    events.push(event)
    return event
  }
  return {
    events,
    user: (id: string, t: string, user_id: string, role: string, manager_id: string | null, active = true) =>
      add(id, 'user.upserted', t, { user_id, display_name: user_id.toUpperCase(), role, manager_id, active }),
    created: (
      id: string,
      t: string,
      opportunity_id: string,
      owner_id: string,
      account_id: string,
      stage_category: string,
      money: { amount?: number; currency?: string } = {},
    ) =>
      add(id, 'opportunity.created', t, {
        opportunity_id,
        account_id,
        owner_id,
        stage: `Stage ${stage_category}`,
        stage_category,
        ...money,
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
    ownerChanged: (
      id: string,
      t: string,
      opportunity_id: string,
      from_owner: string,
      to_owner: string,
      changed_by: string,
    ) => add(id, 'opportunity.owner_changed', t, { opportunity_id, from_owner, to_owner, changed_by }),
    closed: (
      id: string,
      t: string,
      opportunity_id: string,
      outcome: 'won' | 'lost',
      closed_by: string,
      money: { amount?: number; currency?: string } = {},
    ) => add(id, 'opportunity.closed', t, { opportunity_id, outcome, closed_by, ...money }),
    activity: (
      id: string,
      t: string,
      a: {
        kind: string
        owner_id: string
        participant_ids?: string[]
        contact_ids?: string[]
        account_id?: string
        opportunity_id?: string
      },
    ) => add(id, 'activity.logged', t, { activity_id: `act-${id}`, participant_ids: [], contact_ids: [], ...a }),
    message: (id: string, t: string, thread_id: string, sender_id: string, recipient_ids: string[]) =>
      add(id, 'message.sent', t, { message_id: `msg-${id}`, thread_id, sender_id, recipient_ids, channel: 'chat' }),
    meeting: (id: string, t: string, kind: string, organizer_id: string, attendee_ids: string[]) =>
      add(id, 'meeting.held', t, { meeting_id: `mtg-${id}`, kind, organizer_id, attendee_ids, duration_minutes: 30 }),
    recognition: (id: string, t: string, from_id: string, to_ids: string[]) =>
      add(id, 'recognition.given', t, { from_id, to_ids }),
    quota: (id: string, t: string, user_id: string, period_start: string, period_end: string, set_by: string) =>
      add(id, 'quota.set', t, { user_id, period_start, period_end, amount: 100000, currency: 'USD', set_by }),
    goal: (id: string, t: string, user_id: string, period_start: string, period_end: string, set_by: string) =>
      add(id, 'goal.set', t, { user_id, goal: 'ten calls a day', target: 10, period_start, period_end, set_by }),
  }
}

// ---------------------------------------------------------------------------------------------
// acme: timezone UTC, default currency EUR. Range 2026-03-02 (Mon) .. 2026-03-08 (Sun).
//
// Org chart: managers m1, m2; executive x1; reps r1, r2, r6 (m1), r3 (m2), r5 (m2, inactive);
// r4 on m1's team until 2026-03-05 12:00, then on m2's. r2 has two upserts at the same instant
// (m2 with event u-r2-a, m1 with u-r2-b): the larger event_id wins, so r2 is on m1's team.

function acmeEvents(org: string): RawEvent[] {
  const b = builder(org)
  const T0 = '2026-02-20T09:00:00Z'
  b.user('u-m1', T0, 'm1', 'manager', null)
  b.user('u-m2', T0, 'm2', 'manager', null)
  b.user('u-x1', T0, 'x1', 'executive', null)
  b.user('u-r1', T0, 'r1', 'rep', 'm1')
  b.user('u-r2-a', T0, 'r2', 'rep', 'm2')
  b.user('u-r2-b', T0, 'r2', 'rep', 'm1')
  b.user('u-r3', T0, 'r3', 'rep', 'm2')
  b.user('u-r4', T0, 'r4', 'rep', 'm1')
  b.user('u-r5', T0, 'r5', 'rep', 'm2', false)
  b.user('u-r6', T0, 'r6', 'rep', 'm1')
  b.user('u-r4-move', '2026-03-05T12:00:00Z', 'r4', 'rep', 'm2')

  // Deals.
  // o1 (r1, account A1): created before the range; first qualified entry in range (r1);
  // a later re-entry does not count again; won by its owner r1 with its own amount.
  b.created('o1-c', '2026-02-25T10:00:00Z', 'o1', 'r1', 'A1', 'prospecting', { amount: 10000, currency: 'USD' })
  b.stage('o1-s1', '2026-03-03T10:00:00Z', 'o1', 'qualified', 'r1')
  b.stage('o1-s2', '2026-03-05T10:00:00Z', 'o1', 'prospecting', 'r1')
  b.stage('o1-s3', '2026-03-05T15:00:00Z', 'o1', 'proposal', 'r1')
  b.closed('o1-w', '2026-03-06T10:00:00Z', 'o1', 'won', 'r1', { amount: 12000, currency: 'USD' })
  // o2 (r2, A2): created qualified in range, amount without currency (-> EUR, the org default);
  // closed won by the manager m1 without an amount (-> the created amount, for the owner r2).
  b.created('o2-c', '2026-03-02T09:00:00Z', 'o2', 'r2', 'A2', 'qualified', { amount: 5000 })
  b.closed('o2-w', '2026-03-05T10:00:00Z', 'o2', 'won', 'm1')
  // o3 (r4, A3): created while r4 is on m1's team; moved to proposal by m1 (intervention, first
  // qualified entry, owner r4); after r4 moved, its events are m2's team deal events.
  b.created('o3-c', '2026-03-02T11:00:00Z', 'o3', 'r4', 'A3', 'prospecting', { amount: 7000, currency: 'EUR' })
  b.stage('o3-s1', '2026-03-04T10:00:00Z', 'o3', 'proposal', 'm1')
  b.updated('o3-u', '2026-03-06T10:00:00Z', 'o3', 'r4')
  // o4 (r3, A4): taken over by m2 (owner_changed r3 -> m2 by m2), then lost by m2 as owner.
  b.created('o4-c', '2026-02-26T10:00:00Z', 'o4', 'r3', 'A4', 'negotiation', { amount: 20000, currency: 'USD' })
  b.ownerChanged('o4-o', '2026-03-03T12:00:00Z', 'o4', 'r3', 'm2', 'm2')
  b.closed('o4-l', '2026-03-04T10:00:00Z', 'o4', 'lost', 'm2')
  // o5 (r1, A5): handed from r1 to r3 by x1 at 03-04 09:00, then lost by r3.
  b.created('o5-c', '2026-03-02T12:00:00Z', 'o5', 'r1', 'A5', 'prospecting', { amount: 1000, currency: 'USD' })
  b.ownerChanged('o5-o', '2026-03-04T09:00:00Z', 'o5', 'r1', 'r3', 'x1')
  b.closed('o5-l', '2026-03-05T10:00:00Z', 'o5', 'lost', 'r3')
  // o6 (r2): qualified only after the range.
  b.created('o6-c', '2026-03-05T12:00:00Z', 'o6', 'r2', 'A6', 'prospecting', { amount: 300, currency: 'USD' })
  b.stage('o6-s1', '2026-03-10T10:00:00Z', 'o6', 'qualified', 'r2')
  // o7 (r1): no amount (counts 0 in USD). o8 (r1): created qualified, in EUR.
  b.created('o7-c', '2026-03-06T12:00:00Z', 'o7', 'r1', 'A7', 'prospecting', { currency: 'USD' })
  b.created('o8-c', '2026-03-07T12:00:00Z', 'o8', 'r1', 'A8', 'qualified', { amount: 2500.25, currency: 'EUR' })

  // Activities.
  b.activity('act-1', '2026-03-04T08:00:00Z', {
    kind: 'call',
    owner_id: 'r1',
    participant_ids: ['m1'],
    contact_ids: ['c1', 'c2'],
    opportunity_id: 'o1',
  })
  // Same instant as o5's owner change: the change is not strictly before, the owner is still r1.
  b.activity('act-2', '2026-03-04T09:00:00Z', {
    kind: 'meeting',
    owner_id: 'r1',
    contact_ids: ['c3'],
    opportunity_id: 'o5',
  })
  b.activity('act-3', '2026-03-05T09:00:00Z', {
    kind: 'email',
    owner_id: 'r2',
    participant_ids: ['r1'],
    contact_ids: ['c1', 'c4'],
    account_id: 'A1',
    opportunity_id: 'o1',
  })
  b.activity('act-4', '2026-03-07T09:00:00Z', {
    kind: 'email',
    owner_id: 'r4',
    contact_ids: ['c5'],
    opportunity_id: 'o3',
  })
  b.activity('act-5', '2026-03-06T09:00:00Z', { kind: 'task', owner_id: 'r1', account_id: 'A9' })
  b.activity('act-6', '2026-02-27T09:00:00Z', {
    kind: 'call',
    owner_id: 'r6',
    contact_ids: ['c6'],
    opportunity_id: 'o1',
  })
  b.activity('act-7', '2026-03-10T09:00:00Z', {
    kind: 'call',
    owner_id: 'r2',
    contact_ids: ['c7', 'c8', 'c9'],
    opportunity_id: 'o2',
  })
  b.activity('act-8', '2026-03-03T09:00:00Z', {
    kind: 'note',
    owner_id: 'r2',
    contact_ids: ['c7', 'c8'],
    opportunity_id: 'o2',
  })

  // Messages.
  b.message('t1-0', '2026-03-01T10:00:00Z', 'T1', 'r1', ['m1']) // before the range
  b.message('t1-1', '2026-03-02T09:00:00Z', 'T1', 'r1', ['m1'])
  b.message('t1-2', '2026-03-02T10:00:00Z', 'T1', 'r1', ['m1'])
  b.message('t1-r', '2026-03-02T11:00:00Z', 'T1', 'm1', ['r1']) // answers t1-1 (120 min) and t1-2 (60 min)
  b.message('t2-1', '2026-03-03T08:00:00Z', 'T2', 'r2', ['m1'])
  b.message('t2-r', '2026-03-04T20:00:00Z', 'T2', 'm1', ['r2']) // 36 h = 2160 min
  b.message('t3-1', '2026-03-08T22:00:00Z', 'T3', 'r1', ['m1'])
  b.message('t3-r', '2026-03-09T08:00:00Z', 'T3', 'm1', ['r1']) // after the range, 600 min
  b.message('t4-0', '2026-03-05T09:00:00Z', 'T4', 'm1', ['r2']) // before the rep message: no reply
  b.message('t4-1', '2026-03-05T10:00:00Z', 'T4', 'r2', ['m1'])
  b.message('t4-r', '2026-03-12T11:00:00Z', 'T4', 'm1', ['r2']) // 169 h: unanswered
  b.message('t5-1', '2026-03-06T12:00:00Z', 'T5', 'r1', ['m1', 'r2'])
  b.message('t5-x', '2026-03-06T12:05:00Z', 'T5', 'r2', ['r1']) // not by m1
  b.message('t5-r', '2026-03-13T12:00:00Z', 'T5', 'm1', ['r1']) // exactly 168 h = 10080 min
  b.message('t6-1', '2026-03-04T10:00:00Z', 'T6', 'r1', ['r2']) // not to m1
  b.message('t7-1', '2026-03-06T08:00:00Z', 'T7', 'r4', ['m1']) // r4 is m2's by now
  b.message('t8-1', '2026-03-06T09:00:00Z', 'T8', 'r4', ['m2'])
  b.message('t8-r', '2026-03-06T09:30:00Z', 'T8', 'm2', ['r4']) // 30 min
  b.message('t9-1', '2026-03-07T10:00:00Z', 'T9', 'r3', ['m2'])
  b.message('t9-r', '2026-03-07T10:30:30Z', 'T9', 'm2', ['r3']) // 30.5 min

  // Meetings.
  b.meeting('mt-1', '2026-03-03T10:00:00Z', 'one_on_one', 'm1', ['r1'])
  b.meeting('mt-2', '2026-03-04T10:00:00Z', 'one_on_one', 'r2', ['m1'])
  b.meeting('mt-3', '2026-03-04T11:00:00Z', 'one_on_one', 'm1', ['r4']) // r4 still m1's
  b.meeting('mt-4', '2026-03-06T10:00:00Z', 'one_on_one', 'm1', ['r4']) // r4 is m2's: nobody's
  b.meeting('mt-5', '2026-03-06T11:00:00Z', 'one_on_one', 'm2', ['r4'])
  b.meeting('mt-6', '2026-03-05T12:00:00Z', 'lunch', 'm1', ['r1', 'r2'])
  b.meeting('mt-7', '2026-03-05T13:00:00Z', 'one_on_one', 'r1', ['r2']) // no manager
  b.meeting('mt-8', '2026-03-06T13:00:00Z', 'coaching', 'm1', ['r1'])

  // Recognition.
  b.recognition('rc-1', '2026-03-04T15:00:00Z', 'm1', ['r1', 'r2']) // once
  b.recognition('rc-2', '2026-03-05T15:00:00Z', 'm1', ['r3'])
  b.recognition('rc-3', '2026-03-07T15:00:00Z', 'm1', ['r4'])
  b.recognition('rc-4', '2026-03-06T15:00:00Z', 'm2', ['r4', 'r3'])

  // Quotas and goals.
  b.quota('q-1', '2026-02-28T10:00:00Z', 'r1', '2026-03-01', '2026-03-31', 'x1')
  b.quota('q-2', '2026-02-28T10:00:00Z', 'r2', '2026-02-01', '2026-02-28', 'x1') // no overlap
  b.quota('q-3', '2026-03-10T10:00:00Z', 'r6', '2026-03-01', '2026-03-31', 'x1') // set after the end
  b.quota('q-4', '2026-03-02T10:00:00Z', 'r3', '2026-03-08', '2026-03-15', 'x1') // overlaps on 03-08
  b.goal('g-1', '2026-03-03T10:00:00Z', 'r1', '2026-03-01', '2026-03-31', 'm1')
  b.goal('g-2', '2026-03-03T11:00:00Z', 'r2', '2026-03-01', '2026-03-31', 'x1') // not by m1
  b.goal('g-3', '2026-03-04T10:00:00Z', 'r4', '2026-03-01', '2026-03-31', 'm1') // r4 still m1's
  b.goal('g-4', '2026-02-27T10:00:00Z', 'r3', '2026-03-01', '2026-03-31', 'm2') // before the range
  b.goal('g-5', '2026-03-06T10:00:00Z', 'r4', '2026-03-01', '2026-03-31', 'm2')
  return b.events
}

const ACME_RANGE = { from: '2026-03-02', to: '2026-03-08' }

const ACME_EXPECTED: Record<ReportName, Record<string, unknown>[]> = {
  // m1's team deal events: o1 (s1, act-1, s2, s3, won), o2 (created, won by m1), o3 (created, s1 by
  // m1; r4 still m1's), o5 (created, owner change [owner r1], act-2), o6, o7, o8 (created).
  // Interventions by m1: o1 (act-1 with m1), o2 (closed by m1), o3 (stage by m1).
  // m2's: o4 (owner change, owner r3), o5 (lost by r3), o3 (update, act-4 after r4 moved);
  // o4's loss is not a team deal event (owner m2). Intervention and takeover by m2: o4.
  'manager-autonomy': [
    {
      manager_id: 'm1',
      deals_active: 7,
      deals_intervened: 3,
      intervention_rate: 3 / 7,
      takeovers: 1,
      team_wins: 2,
      rep_closed_wins: 1,
      rep_led_win_share: 0.5,
    },
    {
      manager_id: 'm2',
      deals_active: 3,
      deals_intervened: 1,
      intervention_rate: 1 / 3,
      takeovers: 1,
      team_wins: 0,
      rep_closed_wins: 0,
      rep_led_win_share: null,
    },
  ],
  // m1's team at the end: r1, r2, r6. Quota: r1 (q-2 no overlap, q-3 too late). Goals set in the
  // range by m1 for its team at the time: g-1 (r1), g-3 (r4); of the end team, r1 has one.
  // m2's team at the end: r3, r4 (r5 inactive). Quota: r3. Goals: g-5 in range; r3 (g-4), r4 (g-5).
  'manager-direction': [
    {
      manager_id: 'm1',
      team_size: 3,
      reps_with_quota: 1,
      quota_coverage: 1 / 3,
      goals_set: 2,
      reps_with_goals: 1,
      goal_coverage: 1 / 3,
    },
    {
      manager_id: 'm2',
      team_size: 2,
      reps_with_quota: 1,
      quota_coverage: 0.5,
      goals_set: 1,
      reps_with_goals: 2,
      goal_coverage: 1,
    },
  ],
  // m1: t1-1, t1-2, t2-1, t3-1, t4-1, t5-1 = 6; delays 120, 60, 2160, 600, unanswered, 10080;
  // sorted [60, 120, 600, 2160, 10080]: median index floor(2.5) = 2 -> 600, p90 index 4 -> 10080.
  // One-on-ones mt-1, mt-2, mt-3; their people of m1's end team: r1, r2. Lunch mt-6. rc-1.
  // m2: t8-1 (30), t9-1 (30.5): median index 1, p90 index 1 -> 30.5. mt-5 (r4). rc-4.
  'manager-care': [
    {
      manager_id: 'm1',
      rep_messages: 6,
      replied_within_24h: 3,
      reply_within_24h_share: 0.5,
      unanswered: 1,
      median_reply_minutes: 600,
      p90_reply_minutes: 10080,
      one_on_ones: 3,
      reps_with_one_on_one: 2,
      one_on_one_coverage: 2 / 3,
      lunches: 1,
      recognitions: 1,
    },
    {
      manager_id: 'm2',
      rep_messages: 2,
      replied_within_24h: 2,
      reply_within_24h_share: 1,
      unanswered: 0,
      median_reply_minutes: 30.5,
      p90_reply_minutes: 30.5,
      one_on_ones: 1,
      reps_with_one_on_one: 1,
      one_on_one_coverage: 0.5,
      lunches: 0,
      recognitions: 1,
    },
  ],
  // r1: created o5, o7, o8; qualified o1 (s1), o8; won o1 (12000 USD). Activities act-1 (call),
  // act-2 (meeting), act-5 (task); took part in act-3. Accounts A1 (act-1 via o1, act-3), A5 (act-2
  // via o5), A9; contacts c1 c2 c3 c4; deals o1 (contacts up to the end c1 c2 c4 c6: multithreaded),
  // o5 (c3).
  // r2: created o2 (5000 -> EUR), o6; qualified o2; won o2 (closed by m1, created amount).
  // Activities act-3 (email), act-8 (note): accounts A1, A2; contacts c1 c4 c7 c8; deals o1
  // (multithreaded), o2 (c7 c8 by the end; act-7 comes after).
  // r3: lost o5 (owner r3 after the change). r4: created o3, qualified o3 (s1 by m1, owner r4),
  // act-4 (email, A3 via o3, c5, o3).
  'rep-volume': [
    {
      rep_id: 'r1',
      manager_id: 'm1',
      opportunities_created: 3,
      pipeline_created_amount: { EUR: 2500.25, USD: 1000 },
      opportunities_qualified: 2,
      wins: 1,
      losses: 0,
      win_rate: 1,
      won_amount: { USD: 12000 },
      activities: 3,
      calls: 1,
      emails: 0,
      meetings: 1,
      accounts_engaged: 3,
      contacts_engaged: 4,
      contacts_per_account: 4 / 3,
      deals_worked: 2,
      multithreaded_deals: 1,
      multithreaded_share: 0.5,
    },
    {
      rep_id: 'r2',
      manager_id: 'm1',
      opportunities_created: 2,
      pipeline_created_amount: { EUR: 5000, USD: 300 },
      opportunities_qualified: 1,
      wins: 1,
      losses: 0,
      win_rate: 1,
      won_amount: { EUR: 5000 },
      activities: 2,
      calls: 0,
      emails: 1,
      meetings: 0,
      accounts_engaged: 2,
      contacts_engaged: 4,
      contacts_per_account: 2,
      deals_worked: 2,
      multithreaded_deals: 1,
      multithreaded_share: 0.5,
    },
    {
      rep_id: 'r3',
      manager_id: 'm2',
      opportunities_created: 0,
      pipeline_created_amount: {},
      opportunities_qualified: 0,
      wins: 0,
      losses: 1,
      win_rate: 0,
      won_amount: {},
      activities: 0,
      calls: 0,
      emails: 0,
      meetings: 0,
      accounts_engaged: 0,
      contacts_engaged: 0,
      contacts_per_account: null,
      deals_worked: 0,
      multithreaded_deals: 0,
      multithreaded_share: null,
    },
    {
      rep_id: 'r4',
      manager_id: 'm2',
      opportunities_created: 1,
      pipeline_created_amount: { EUR: 7000 },
      opportunities_qualified: 1,
      wins: 0,
      losses: 0,
      win_rate: null,
      won_amount: {},
      activities: 1,
      calls: 0,
      emails: 1,
      meetings: 0,
      accounts_engaged: 1,
      contacts_engaged: 1,
      contacts_per_account: 1,
      deals_worked: 1,
      multithreaded_deals: 0,
      multithreaded_share: 0,
    },
    emptyRep('r5', 'm2'),
    emptyRep('r6', 'm1'),
  ],
  // The manager columns are those above; team_* sum the rep-volume rows of each end team (r4 moved
  // to m2, r5 is inactive but has a row): m1 r1 r2 r6, m2 r3 r4 r5.
  'team-summary': [
    {
      manager_id: 'm1',
      team_size: 3,
      intervention_rate: 3 / 7,
      rep_led_win_share: 0.5,
      quota_coverage: 1 / 3,
      goal_coverage: 1 / 3,
      reply_within_24h_share: 0.5,
      median_reply_minutes: 600,
      unanswered: 1,
      one_on_one_coverage: 2 / 3,
      recognitions: 1,
      team_opportunities_created: 5,
      team_opportunities_qualified: 3,
      team_wins: 2,
      team_losses: 0,
      team_win_rate: 1,
      team_activities: 5,
      team_multithreaded_share: 2 / 4,
    },
    {
      manager_id: 'm2',
      team_size: 2,
      intervention_rate: 1 / 3,
      rep_led_win_share: null,
      quota_coverage: 0.5,
      goal_coverage: 1,
      reply_within_24h_share: 1,
      median_reply_minutes: 30.5,
      unanswered: 0,
      one_on_one_coverage: 0.5,
      recognitions: 1,
      team_opportunities_created: 1,
      team_opportunities_qualified: 1,
      team_wins: 0,
      team_losses: 1,
      team_win_rate: 0,
      team_activities: 1,
      team_multithreaded_share: 0 / 1,
    },
  ],
}

// One day, 2026-03-04: m1's team deal events are act-1 (o1, with m1), o3-s1 (by m1), o5-o and
// act-2 (o5); o4's loss is m2's own deal. m2 has no team deal event that day.
const ACME_ONE_DAY_AUTONOMY = [
  {
    manager_id: 'm1',
    deals_active: 3,
    deals_intervened: 2,
    intervention_rate: 2 / 3,
    takeovers: 0,
    team_wins: 0,
    rep_closed_wins: 0,
    rep_led_win_share: null,
  },
  {
    manager_id: 'm2',
    deals_active: 0,
    deals_intervened: 0,
    intervention_rate: null,
    takeovers: 0,
    team_wins: 0,
    rep_closed_wins: 0,
    rep_led_win_share: null,
  },
]

function emptyRep(rep_id: string, manager_id: string | null): Record<string, unknown> {
  return {
    rep_id,
    manager_id,
    opportunities_created: 0,
    pipeline_created_amount: {},
    opportunities_qualified: 0,
    wins: 0,
    losses: 0,
    win_rate: null,
    won_amount: {},
    activities: 0,
    calls: 0,
    emails: 0,
    meetings: 0,
    accounts_engaged: 0,
    contacts_engaged: 0,
    contacts_per_account: null,
    deals_worked: 0,
    multithreaded_deals: 0,
    multithreaded_share: null,
  }
}

// ---------------------------------------------------------------------------------------------
// Timezones. Each org: m1, m2 managers, r1 rep of m1; four opportunities created by r1 with
// amounts 1, 10, 100, 1000 USD around the range's edges; r1 moves to m2 near the end.

function tzEvents(org: string, instants: { created: [string, string, string, string]; move: string }): RawEvent[] {
  const b = builder(org)
  b.user('u-m1', '2026-02-01T00:00:00Z', 'm1', 'manager', null)
  b.user('u-m2', '2026-02-01T00:00:00Z', 'm2', 'manager', null)
  b.user('u-r1', '2026-02-01T00:00:00Z', 'r1', 'rep', 'm1')
  b.user('u-r1-move', instants.move, 'r1', 'rep', 'm2')
  const amounts = [1, 10, 100, 1000]
  instants.created.forEach((t, i) =>
    b.created(`c-${i}`, t, `o${i}`, 'r1', 'A1', 'prospecting', { amount: amounts[i], currency: 'USD' }),
  )
  return b.events
}

// Asia/Tokyo (UTC+9): 03-01 23:30Z is 03-02 08:30 (in); 03-08 14:59:59.999Z is 03-08 23:59:59.999
// (in); 03-08 15:30Z is 03-09 (out); 03-01 14:59:59Z is 03-01 (out): {USD: 1 + 10}. The move at
// 03-08 15:10Z is 03-09 in Tokyo: after the end, r1 is still m1's.
const TOKYO = tzEvents('tokyo', {
  created: ['2026-03-01T23:30:00Z', '2026-03-08T14:59:59.999Z', '2026-03-08T15:30:00Z', '2026-03-01T14:59:59Z'],
  move: '2026-03-08T15:10:00Z',
})
// America/Los_Angeles (PST, UTC-8; PDT, UTC-7 from 03-08 02:00): 03-02 07:30Z is 03-01 23:30
// (out); 03-09 06:30Z is 03-08 23:30 PDT (in); 03-02 08:30Z is 03-02 00:30 (in); 03-09 07:30Z is
// 03-09 00:30 (out): {USD: 10 + 100}. The move at 03-09 06:00Z is 03-08 23:00: r1 is m2's.
const LOS_ANGELES = tzEvents('la', {
  created: ['2026-03-02T07:30:00Z', '2026-03-09T06:30:00Z', '2026-03-02T08:30:00Z', '2026-03-09T07:30:00Z'],
  move: '2026-03-09T06:00:00Z',
})

// ---------------------------------------------------------------------------------------------
// ties: events at the same instant, and deal events before the deal's creation (docs/metrics.md,
// "Same instant" and "Owner of a deal at an event"). Timezone UTC, range 2026-03-02 .. 03-08.
// Of two events at the same instant, the larger event_id is the later one wherever "latest",
// "before" or "after" is used. The org chart as of t is every upsert with occurred_at <= t: an
// upsert at an event's own instant applies to it, whichever event_id is larger.
//
// Org chart: managers m1, m2; executive x1; reps r2, r4, r5, r6 (m1), r3 (m2); r1 on m1's team
// until it moves to m2 at 03-03 10:00 (u-r1-move).

function tiesEvents(org: string): RawEvent[] {
  const b = builder(org)
  const T0 = '2026-02-20T09:00:00Z'
  b.user('u-m1', T0, 'm1', 'manager', null)
  b.user('u-m2', T0, 'm2', 'manager', null)
  b.user('u-x1', T0, 'x1', 'executive', null)
  for (const r of ['r1', 'r2', 'r4', 'r5', 'r6']) b.user(`u-${r}`, T0, r, 'rep', 'm1')
  b.user('u-r3', T0, 'r3', 'rep', 'm2')

  // An upsert and events at its instant, with smaller (a-) and larger (z-) event_ids: r1 is m2's
  // for all four, so m2's two recognitions count and m1's do not.
  const T1 = '2026-03-03T10:00:00Z'
  b.user('u-r1-move', T1, 'r1', 'rep', 'm2')
  b.recognition('a-rc-m1', T1, 'm1', ['r1'])
  b.recognition('z-rc-m1', T1, 'm1', ['r1'])
  b.recognition('a-rc-m2', T1, 'm2', ['r1'])
  b.recognition('z-rc-m2', T1, 'm2', ['r1'])

  // oA (r2): handed to r3 (m2's) by x1 at 03-04 10:00 (oA-o). Two activities at that instant:
  // oA-n < oA-o is before the change (owner r2: m1's, an intervention by its owner_id m1); oA-p >
  // oA-o is after it (owner r3: m2's, an intervention by m2).
  const T2 = '2026-03-04T10:00:00Z'
  b.created('oA-c', '2026-03-02T09:00:00Z', 'oA', 'r2', 'AA', 'prospecting', { amount: 500, currency: 'USD' })
  b.ownerChanged('oA-o', T2, 'oA', 'r2', 'r3', 'x1')
  b.activity('oA-n', T2, { kind: 'call', owner_id: 'm1', opportunity_id: 'oA' })
  b.activity('oA-p', T2, { kind: 'call', owner_id: 'm2', opportunity_id: 'oA' })
  // oC (r2): handed to r3 by x1 at 03-05 10:00 and won by r3 at that instant, oC-w > oC-o: the win
  // is r3's (m2's team win, closed by its owner), with the created amount.
  const T3 = '2026-03-05T10:00:00Z'
  b.created('oC-c', '2026-03-02T10:00:00Z', 'oC', 'r2', 'AC', 'prospecting', { amount: 1000, currency: 'USD' })
  b.ownerChanged('oC-o', T3, 'oC', 'r2', 'r3', 'x1')
  b.closed('oC-w', T3, 'oC', 'won', 'r3')

  // A reply at the rep message's instant: ta-r > ta-m is after it (0 min). In T-B, tb-a < tb-m is
  // before the rep message, so not its reply; tb-z an hour later is (60 min).
  b.message('ta-m', '2026-03-06T09:00:00Z', 'TA', 'r5', ['m1'])
  b.message('ta-r', '2026-03-06T09:00:00Z', 'TA', 'm1', ['r5'])
  b.message('tb-m', '2026-03-06T12:00:00Z', 'TB', 'r5', ['m1'])
  b.message('tb-a', '2026-03-06T12:00:00Z', 'TB', 'm1', ['r5'])
  b.message('tb-z', '2026-03-06T13:00:00Z', 'TB', 'm1', ['r5'])

  // Deal events before their deal's opportunity.created have no owner: no team deal event, no
  // intervention, no first qualified entry of anyone's (r6 created all four deals, in range).
  // oD: moved to qualified by m1 an hour before its creation; that was its first qualified entry.
  b.stage('oD-s', '2026-03-07T09:00:00Z', 'oD', 'qualified', 'm1')
  b.created('oD-c', '2026-03-07T10:00:00Z', 'oD', 'r6', 'AD', 'prospecting', { amount: 10, currency: 'USD' })
  // oE: the same at the creation's instant, oE-a < oE-c: before it.
  b.stage('oE-a', '2026-03-07T12:00:00Z', 'oE', 'qualified', 'm1')
  b.created('oE-c', '2026-03-07T12:00:00Z', 'oE', 'r6', 'AE', 'prospecting', { amount: 20, currency: 'USD' })
  // oG: oG-s > oG-c: after it, owner r6: an intervention by m1 and r6's first qualified entry.
  b.created('oG-c', '2026-03-07T13:00:00Z', 'oG', 'r6', 'AG', 'prospecting', { amount: 40, currency: 'USD' })
  b.stage('oG-s', '2026-03-07T13:00:00Z', 'oG', 'qualified', 'm1')
  // oF: an owner change (r4 -> r6, by m1) and an activity of m1 before the creation: no owner
  // (neither from_owner nor to_owner), so neither is an intervention on m1's team.
  b.ownerChanged('oF-o', '2026-03-07T14:00:00Z', 'oF', 'r4', 'r6', 'm1')
  b.activity('oF-a', '2026-03-07T15:00:00Z', { kind: 'call', owner_id: 'm1', opportunity_id: 'oF' })
  b.created('oF-c', '2026-03-07T16:00:00Z', 'oF', 'r6', 'AF', 'prospecting', { amount: 80, currency: 'USD' })
  return b.events
}

const TIES_RANGE = { from: '2026-03-02', to: '2026-03-08' }

const TIES_EXPECTED: Record<ReportName, Record<string, unknown>[]> = {
  // m1's team deal events: oA (oA-c, oA-o [owner r2], oA-n), oC (oC-c, oC-o), oD-c, oE-c, oG (both),
  // oF-c; interventions: oA (oA-n), oG (oG-s). m2's: oA-p (intervention), oC-w (won by its owner).
  'manager-autonomy': [
    {
      manager_id: 'm1',
      deals_active: 6,
      deals_intervened: 2,
      intervention_rate: 2 / 6,
      takeovers: 0,
      team_wins: 0,
      rep_closed_wins: 0,
      rep_led_win_share: null,
    },
    {
      manager_id: 'm2',
      deals_active: 2,
      deals_intervened: 1,
      intervention_rate: 0.5,
      takeovers: 0,
      team_wins: 1,
      rep_closed_wins: 1,
      rep_led_win_share: 1,
    },
  ],
  // Teams at the end: m1 r2 r4 r5 r6, m2 r1 r3.
  'manager-direction': [
    {
      manager_id: 'm1',
      team_size: 4,
      reps_with_quota: 0,
      quota_coverage: 0,
      goals_set: 0,
      reps_with_goals: 0,
      goal_coverage: 0,
    },
    {
      manager_id: 'm2',
      team_size: 2,
      reps_with_quota: 0,
      quota_coverage: 0,
      goals_set: 0,
      reps_with_goals: 0,
      goal_coverage: 0,
    },
  ],
  // m1: ta-m (0 min), tb-m (60 min): sorted [0, 60], median index 1 and p90 index 1 -> 60.
  'manager-care': [
    {
      manager_id: 'm1',
      rep_messages: 2,
      replied_within_24h: 2,
      reply_within_24h_share: 1,
      unanswered: 0,
      median_reply_minutes: 60,
      p90_reply_minutes: 60,
      one_on_ones: 0,
      reps_with_one_on_one: 0,
      one_on_one_coverage: 0,
      lunches: 0,
      recognitions: 0,
    },
    {
      manager_id: 'm2',
      rep_messages: 0,
      replied_within_24h: 0,
      reply_within_24h_share: null,
      unanswered: 0,
      median_reply_minutes: null,
      p90_reply_minutes: null,
      one_on_ones: 0,
      reps_with_one_on_one: 0,
      one_on_one_coverage: 0,
      lunches: 0,
      recognitions: 2,
    },
  ],
  // r2 created oA, oC; r3 won oC (created amount); r6 created oD oE oG oF, qualified only oG.
  'rep-volume': [
    emptyRep('r1', 'm2'),
    { ...emptyRep('r2', 'm1'), opportunities_created: 2, pipeline_created_amount: { USD: 1500 } },
    { ...emptyRep('r3', 'm2'), wins: 1, win_rate: 1, won_amount: { USD: 1000 } },
    emptyRep('r4', 'm1'),
    emptyRep('r5', 'm1'),
    {
      ...emptyRep('r6', 'm1'),
      opportunities_created: 4,
      pipeline_created_amount: { USD: 150 },
      opportunities_qualified: 1,
    },
  ],
  // Teams at the end: m1 r2 r4 r5 r6, m2 r1 r3; their deals were worked by managers only.
  'team-summary': [
    {
      manager_id: 'm1',
      team_size: 4,
      intervention_rate: 2 / 6,
      rep_led_win_share: null,
      quota_coverage: 0,
      goal_coverage: 0,
      reply_within_24h_share: 1,
      median_reply_minutes: 60,
      unanswered: 0,
      one_on_one_coverage: 0,
      recognitions: 0,
      team_opportunities_created: 6,
      team_opportunities_qualified: 1,
      team_wins: 0,
      team_losses: 0,
      team_win_rate: null,
      team_activities: 0,
      team_multithreaded_share: null,
    },
    {
      manager_id: 'm2',
      team_size: 2,
      intervention_rate: 0.5,
      rep_led_win_share: 1,
      quota_coverage: 0,
      goal_coverage: 0,
      reply_within_24h_share: null,
      median_reply_minutes: null,
      unanswered: 0,
      one_on_one_coverage: 0,
      recognitions: 2,
      team_opportunities_created: 0,
      team_opportunities_qualified: 0,
      team_wins: 1,
      team_losses: 0,
      team_win_rate: 1,
      team_activities: 0,
      team_multithreaded_share: null,
    },
  ],
}

// ---------------------------------------------------------------------------------------------

let ch: ClickHouse
const projections = () => createProjectionActivities({ ch })

async function project(org: string): Promise<void> {
  const p = projections()
  await p.recomputeDays({ org, days: await p.listEventDays({ org }) })
}

const REPORTS = [
  ['projections', runReport],
  ['events', runReportFromEvents],
] as const

beforeAll(async () => {
  ch = testClickHouse('metrics_golden')
  await migrate(ch)
  const acme = acmeEvents('acme')
  // Another org with the very same event ids and user ids, plus one more deal for r1: none of it
  // may show in acme's reports.
  const globex = acmeEvents('globex')
  const extra = builder('globex')
  extra.created('g-extra', '2026-03-03T10:00:00Z', 'o9', 'r1', 'A1', 'qualified', { amount: 1, currency: 'USD' })
  // Duplicates: some acme events stored twice (same event_id), in separate batches.
  const duplicated = acme.filter((e) =>
    ['o1-w', 't1-1', 'act-1', 'mt-1', 'g-1', 'u-r4-move', 'o4-o'].includes(e.event_id),
  )
  await setOrgSettings(ch, 'acme', { defaultCurrency: 'EUR' })
  await setOrgSettings(ch, 'tokyo', { timezone: 'Asia/Tokyo' })
  await setOrgSettings(ch, 'la', { timezone: 'America/Los_Angeles' })
  await insertRawEvents(ch, acme)
  await insertRawEvents(ch, [...globex, ...extra.events])
  await insertRawEvents(ch, duplicated)
  await insertRawEvents(ch, [...TOKYO, ...LOS_ANGELES])
  await insertRawEvents(ch, tiesEvents('ties'))
  for (const org of ['acme', 'globex', 'tokyo', 'la', 'ties']) await project(org)
})

afterAll(async () => {
  await ch?.close()
})

describe.each(REPORTS)('golden reports from %s', (_source, report) => {
  it.each(Object.keys(ACME_EXPECTED) as ReportName[])('acme %s over a week', async (name) => {
    const rows = await report(ch, name, { org: 'acme', ...ACME_RANGE })
    expect(rows).toEqual(ACME_EXPECTED[name])
    for (const row of rows) expect(Object.keys(row)).toEqual(REPORT_COLUMNS[name])
  })

  it('acme manager-autonomy over one day', async () => {
    expect(await report(ch, 'manager-autonomy', { org: 'acme', from: '2026-03-04', to: '2026-03-04' })).toEqual(
      ACME_ONE_DAY_AUTONOMY,
    )
  })

  it('globex shares ids with acme but only its own events count', async () => {
    const rows = await report(ch, 'rep-volume', { org: 'globex', ...ACME_RANGE })
    const r1 = rows.find((r) => r.rep_id === 'r1')
    // acme's r1 plus globex's own o9; o2's amount has no currency and globex's default is USD.
    expect(r1).toMatchObject({
      opportunities_created: 4,
      pipeline_created_amount: { EUR: 2500.25, USD: 1001 },
      opportunities_qualified: 3,
    })
    expect(rows.find((r) => r.rep_id === 'r2')).toMatchObject({ pipeline_created_amount: { USD: 5300 } })
  })

  it('Asia/Tokyo cuts days at Tokyo midnight', async () => {
    const [r1] = await report(ch, 'rep-volume', { org: 'tokyo', ...ACME_RANGE })
    expect(r1).toMatchObject({
      rep_id: 'r1',
      manager_id: 'm1',
      opportunities_created: 2,
      pipeline_created_amount: { USD: 11 },
    })
    const direction = await report(ch, 'manager-direction', { org: 'tokyo', ...ACME_RANGE })
    expect(direction.map((r) => [r.manager_id, r.team_size])).toEqual([
      ['m1', 1],
      ['m2', 0],
    ])
  })

  it('America/Los_Angeles cuts days at Los Angeles midnight, across the DST change', async () => {
    const [r1] = await report(ch, 'rep-volume', { org: 'la', ...ACME_RANGE })
    expect(r1).toMatchObject({
      rep_id: 'r1',
      manager_id: 'm2',
      opportunities_created: 2,
      pipeline_created_amount: { USD: 110 },
    })
  })

  it.each(Object.keys(TIES_EXPECTED) as ReportName[])(
    'ties on occurred_at and deal events before the creation: %s',
    async (name) => {
      expect(await report(ch, name, { org: 'ties', ...TIES_RANGE })).toEqual(TIES_EXPECTED[name])
    },
  )

  it('an org without events has no rows', async () => {
    expect(await report(ch, 'manager-care', { org: 'nobody', ...ACME_RANGE })).toEqual([])
  })
})

describe('projection activities', () => {
  it('lists event days in the org timezone', async () => {
    // Tokyo: 03-01 23:30Z -> 03-02, 03-08 14:59:59.999Z -> 03-08, 03-08 15:10Z and 15:30Z -> 03-09,
    // 03-01 14:59:59Z -> 03-01, the upserts of 02-01 00:00Z -> 02-01.
    expect(await projections().listEventDays({ org: 'tokyo' })).toEqual([
      '2026-02-01',
      '2026-03-01',
      '2026-03-02',
      '2026-03-08',
      '2026-03-09',
    ])
    expect(await projections().listEventDays({ org: 'tokyo', from: '2026-03-02', to: '2026-03-08' })).toEqual([
      '2026-03-02',
      '2026-03-08',
    ])
  })

  it('widens the days of replies, org chart changes and ownership events', async () => {
    const p = projections()
    // A message may answer the messages of its thread of the 168 h before it: their days.
    // 03-12 holds only t4-r, 169 h after t4-1 (and 170 h after t4-0): none within reach.
    expect(await p.affectedDays({ org: 'acme', days: ['2026-03-12'] })).toEqual(['2026-03-12'])
    // 03-13 holds only t5-r, exactly 168 h after t5-1 (03-06) and less after t5-x (03-06).
    expect(await p.affectedDays({ org: 'acme', days: ['2026-03-13'] })).toEqual(['2026-03-06', '2026-03-13'])
    // 03-04 holds t2-r, which answers t2-1 of 03-03.
    expect(await p.affectedDays({ org: 'acme', days: ['2026-03-04'] })).toContain('2026-03-03')
    // 2026-02-28 holds only quotas: just that day.
    expect(await p.affectedDays({ org: 'acme', days: ['2026-02-28'] })).toEqual(['2026-02-28'])
    // 2026-02-27: act-6 (o1's contacts) and g-4: the days from there with an event of o1.
    expect(await p.affectedDays({ org: 'acme', days: ['2026-02-27'] })).toEqual([
      '2026-02-27',
      '2026-03-03',
      '2026-03-04',
      '2026-03-05',
      '2026-03-06',
    ])
    // 2026-02-26: o4 created: every day with an event of o4.
    expect(await p.affectedDays({ org: 'acme', days: ['2026-02-26'] })).toEqual([
      '2026-02-26',
      '2026-03-03',
      '2026-03-04',
    ])
    // Tokyo 03-09 holds r1's move: every later day with events (03-09 is the last).
    expect(await p.affectedDays({ org: 'tokyo', days: ['2026-03-09'] })).toEqual(['2026-03-09'])
    // Tokyo 02-01 holds the first upserts: every event day from there.
    expect(await p.affectedDays({ org: 'tokyo', days: ['2026-02-01'] })).toEqual([
      '2026-02-01',
      '2026-03-01',
      '2026-03-02',
      '2026-03-08',
      '2026-03-09',
    ])
  })

  it('recomputing days again replaces their rows and changes no report', async () => {
    const p = projections()
    const before = await runReport(ch, 'manager-care', { org: 'acme', ...ACME_RANGE })
    const days = await p.listEventDays({ org: 'acme' })
    const first = await p.recomputeDays({ org: 'acme', days })
    const second = await p.recomputeDays({ org: 'acme', days })
    expect(second).toEqual(first)
    expect(first.days).toBe(days.length)
    expect(await runReport(ch, 'manager-care', { org: 'acme', ...ACME_RANGE })).toEqual(before)
    const generations = async () => {
      const result = await ch.client.query({
        query:
          'SELECT count() AS rows, uniqExact(generation) AS generations FROM {db:Identifier}.metric_rep_daily WHERE org_id = {org:String}',
        query_params: { db: ch.database, org: 'acme' },
        format: 'JSONEachRow',
      })
      return (await result.json<{ rows: number; generations: number }>())[0]
    }
    expect((await generations())?.generations).toBe(3)
    await p.pruneSuperseded({ org: 'acme' })
    // Only the latest generation's rows remain, and the reports did not change.
    expect(await generations()).toEqual({ rows: expect.any(Number), generations: 1 })
    expect(await runReport(ch, 'manager-care', { org: 'acme', ...ACME_RANGE })).toEqual(before)
    for (const name of Object.keys(ACME_EXPECTED) as ReportName[]) {
      expect(await runReport(ch, name, { org: 'acme', ...ACME_RANGE })).toEqual(ACME_EXPECTED[name])
    }
  })
})

describe('org settings', () => {
  it('defaults to UTC and USD, updates one setting at a time, and refuses what ClickHouse cannot use', async () => {
    expect(await getOrgSettings(ch, 'settings-org')).toEqual({ timezone: 'UTC', defaultCurrency: 'USD' })
    await setOrgSettings(ch, 'settings-org', { timezone: 'Europe/Paris' })
    await setOrgSettings(ch, 'settings-org', { defaultCurrency: 'JPY' })
    expect(await getOrgSettings(ch, 'settings-org')).toEqual({ timezone: 'Europe/Paris', defaultCurrency: 'JPY' })
    await expect(setOrgSettings(ch, 'settings-org', { timezone: 'Mars/Olympus' })).rejects.toThrow(OrgSettingsError)
    await expect(setOrgSettings(ch, 'settings-org', { defaultCurrency: 'usd' })).rejects.toThrow(/defaultCurrency/)
    expect(await getOrgSettings(ch, 'settings-org')).toEqual({ timezone: 'Europe/Paris', defaultCurrency: 'JPY' })
    // Settings are per org.
    expect(await getOrgSettings(ch, 'settings-other')).toEqual({ timezone: 'UTC', defaultCurrency: 'USD' })
  })
})
