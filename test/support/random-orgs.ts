/**
 * Small random orgs for property tests of the metrics (2 managers, 4 reps, a few deals,
 * activities, messages, meetings, quotas and goals over nine days), and random report ranges.
 */
import fc from 'fast-check'
import { addDays } from '../../services/projections/days.ts'
import type { RawEvent } from './event-store-fixtures.ts'

export const BASE = Date.parse('2026-03-01T00:00:00Z')
export const WINDOW_DAYS = 9
/** Event times fall on a 30-minute grid, so that ties, exact 24 h and 168 h delays happen. */
const SLOT_MS = 30 * 60_000
const SLOTS = WINDOW_DAYS * 48

export const MANAGERS = ['m1', 'm2']
export const REPS = ['r1', 'r2', 'r3', 'r4']
const USERS = [...MANAGERS, ...REPS, 'x1']
const DEALS = ['o1', 'o2', 'o3', 'o4']
const CATEGORIES = ['prospecting', 'qualified', 'proposal', 'negotiation']

export interface Draft {
  type: string
  slot: number
  payload: Record<string, unknown>
}

const slot = fc.integer({ min: 0, max: SLOTS - 1 })
const user = fc.constantFrom(...USERS)
const people = fc.subarray(USERS)
const money = fc.record(
  { amount: fc.integer({ min: 0, max: 4000 }).map((n) => n / 4), currency: fc.constantFrom('USD', 'EUR') },
  { requiredKeys: [] },
)

const upsert = (user_id: string, role: string, manager_id: string | null, active: boolean) => ({
  user_id,
  display_name: user_id,
  role,
  manager_id,
  active,
})

const orgChart: fc.Arbitrary<Draft[]> = fc
  .tuple(
    fc.array(fc.constantFrom('m1', 'm2'), { minLength: 4, maxLength: 4 }),
    fc.array(
      fc.record({
        slot,
        rep: fc.constantFrom(...REPS),
        manager: fc.constantFrom('m1', 'm2', null),
        active: fc.boolean(),
      }),
      { maxLength: 3 },
    ),
  )
  .map(([managers, moves]) => [
    ...MANAGERS.map((m) => ({ type: 'user.upserted', slot: -48, payload: upsert(m, 'manager', null, true) })),
    { type: 'user.upserted', slot: -48, payload: upsert('x1', 'executive', null, true) },
    ...REPS.map((r, i) => ({ type: 'user.upserted', slot: -48, payload: upsert(r, 'rep', managers[i] ?? 'm1', true) })),
    ...moves.map((m) => ({ type: 'user.upserted', slot: m.slot, payload: upsert(m.rep, 'rep', m.manager, m.active) })),
  ])

const dealEvent = (opportunity_id: string): fc.Arbitrary<Draft> =>
  fc.oneof(
    fc.record({ slot, to: fc.constantFrom(...CATEGORIES), by: user }).map((e) => ({
      type: 'opportunity.stage_changed',
      slot: e.slot,
      payload: { opportunity_id, from_stage: null, to_stage: e.to, to_category: e.to, changed_by: e.by },
    })),
    fc.record({ slot, by: user }).map((e) => ({
      type: 'opportunity.updated',
      slot: e.slot,
      payload: { opportunity_id, changed_by: e.by, fields: ['amount'] },
    })),
    fc.record({ slot, from: user, to: user, by: user }).map((e) => ({
      type: 'opportunity.owner_changed',
      slot: e.slot,
      payload: { opportunity_id, from_owner: e.from, to_owner: e.to, changed_by: e.by },
    })),
    {
      weight: 2,
      arbitrary: fc
        .record({ slot, outcome: fc.constantFrom('won', 'won', 'lost'), by: fc.constantFrom(...USERS, ...REPS), money })
        .map((e) => ({
          type: 'opportunity.closed',
          slot: e.slot,
          payload: { opportunity_id, outcome: e.outcome, closed_by: e.by, ...e.money },
        })),
    },
  )

const deal = (opportunity_id: string): fc.Arbitrary<Draft[]> =>
  fc
    .tuple(
      fc.record({
        slot,
        owner: fc.constantFrom(...REPS, ...REPS, 'm1'),
        account: fc.constantFrom('a1', 'a2', 'a3'),
        category: fc.constantFrom(...CATEGORIES),
        money,
      }),
      fc.array(dealEvent(opportunity_id), { maxLength: 4 }),
    )
    .map(([c, rest]) => [
      {
        type: 'opportunity.created',
        slot: c.slot,
        payload: {
          opportunity_id,
          account_id: c.account,
          owner_id: c.owner,
          stage: c.category,
          stage_category: c.category,
          ...c.money,
        },
      },
      ...rest,
    ])

const activity: fc.Arbitrary<Draft> = fc
  .record({
    slot,
    kind: fc.constantFrom('call', 'email', 'meeting', 'task', 'note'),
    owner: user,
    participants: people,
    contacts: fc.subarray(['c1', 'c2', 'c3', 'c4', 'c5']),
    deal: fc.option(fc.constantFrom(...DEALS)),
    account: fc.option(fc.constantFrom('a1', 'a2', 'a9')),
  })
  .map((a) => ({
    type: 'activity.logged',
    slot: a.slot,
    payload: {
      activity_id: `act-${a.slot}`,
      kind: a.kind,
      owner_id: a.owner,
      participant_ids: a.participants.filter((p) => p !== a.owner),
      contact_ids: a.contacts,
      ...(a.deal ? { opportunity_id: a.deal } : {}),
      ...(a.account ? { account_id: a.account } : {}),
    },
  }))

// Rep messages to managers, most of them replied after a delay from 0 to 180 h, with exactly 24 h
// and 168 h often; plus stray messages. A reply at the same instant follows its question in the
// drafts, so it has the larger event_id: a reply 0 min later (docs/metrics.md, "Same instant").
const conversation: fc.Arbitrary<Draft[]> = fc
  .record({
    slot,
    thread: fc.constantFrom('t1', 't2', 't3'),
    rep: fc.constantFrom(...REPS),
    to: fc.subarray(MANAGERS, { minLength: 1 }),
    reply: fc.option(
      fc.record({
        by: fc.constantFrom(...MANAGERS),
        after: fc.oneof(fc.constantFrom(0, 48, 336, 337), fc.integer({ min: 1, max: 360 })),
      }),
      { freq: 4 },
    ),
  })
  .map((c) => [
    {
      type: 'message.sent',
      slot: c.slot,
      payload: {
        message_id: `q-${c.slot}`,
        thread_id: c.thread,
        sender_id: c.rep,
        recipient_ids: c.to,
        channel: 'chat',
      },
    },
    ...(c.reply
      ? [
          {
            type: 'message.sent',
            slot: c.slot + c.reply.after,
            payload: {
              message_id: `a-${c.slot}`,
              thread_id: c.thread,
              sender_id: c.reply.by,
              recipient_ids: [c.rep],
              channel: 'chat',
            },
          },
        ]
      : []),
  ])
const strayMessage: fc.Arbitrary<Draft> = fc
  .record({
    slot,
    thread: fc.constantFrom('t1', 't2', 't3'),
    sender: user,
    recipients: fc.subarray(USERS, { minLength: 1 }),
  })
  .map((m) => ({
    type: 'message.sent',
    slot: m.slot,
    payload: {
      message_id: `s-${m.slot}`,
      thread_id: m.thread,
      sender_id: m.sender,
      recipient_ids: m.recipients,
      channel: 'chat',
    },
  }))

const meeting: fc.Arbitrary<Draft> = fc
  .record({
    slot,
    kind: fc.constantFrom('one_on_one', 'one_on_one', 'lunch', 'team'),
    organizer: user,
    attendees: people,
  })
  .map((m) => ({
    type: 'meeting.held',
    slot: m.slot,
    payload: {
      meeting_id: `mt-${m.slot}`,
      kind: m.kind,
      organizer_id: m.organizer,
      attendee_ids: m.attendees.filter((a) => a !== m.organizer),
      duration_minutes: 30,
    },
  }))

const recognition: fc.Arbitrary<Draft> = fc
  .record({ slot, from: user, to: fc.subarray(USERS, { minLength: 1 }) })
  .map((r) => ({ type: 'recognition.given', slot: r.slot, payload: { from_id: r.from, to_ids: r.to } }))

const period = fc
  .tuple(fc.integer({ min: -5, max: WINDOW_DAYS + 3 }), fc.integer({ min: 0, max: 6 }))
  .map(([start, length]) => ({
    period_start: addDays('2026-03-01', start),
    period_end: addDays('2026-03-01', start + length),
  }))
const expectation: fc.Arbitrary<Draft> = fc
  .record({
    slot,
    goal: fc.boolean(),
    rep: fc.constantFrom(...REPS),
    by: fc.constantFrom('m1', 'm2', 'm1', 'm2', 'x1'),
    period,
  })
  .map((e) => ({
    type: e.goal ? 'goal.set' : 'quota.set',
    slot: e.slot,
    payload: e.goal
      ? { user_id: e.rep, goal: 'g', target: 3, set_by: e.by, ...e.period }
      : { user_id: e.rep, amount: 1000, currency: 'USD', set_by: e.by, ...e.period },
  }))

export interface RandomOrg {
  timezone: string
  defaultCurrency: string
  drafts: Draft[]
}

// Unbiased: fast-check's default bias favours small values and sizes, which here would mean
// almost no long reply delays and few events.
export const randomOrg: fc.Arbitrary<RandomOrg> = fc.noBias(
  fc
    .record({
      timezone: fc.constantFrom('UTC', 'Asia/Tokyo', 'America/Los_Angeles', 'Asia/Kolkata'),
      defaultCurrency: fc.constantFrom('USD', 'EUR'),
      chart: orgChart,
      deals: fc.tuple(...DEALS.map(deal)).chain((all) => fc.subarray(all, { minLength: 1 })),
      activities: fc.array(activity, { maxLength: 10 }),
      conversations: fc.array(conversation, { maxLength: 6 }),
      messages: fc.array(strayMessage, { maxLength: 3 }),
      meetings: fc.array(meeting, { maxLength: 4 }),
      recognitions: fc.array(recognition, { maxLength: 2 }),
      expectations: fc.array(expectation, { maxLength: 4 }),
    })
    .map((o) => ({
      timezone: o.timezone,
      defaultCurrency: o.defaultCurrency,
      drafts: [
        ...o.chart,
        ...o.deals.flat(),
        ...o.activities,
        ...o.conversations.flat(),
        ...o.messages,
        ...o.meetings,
        ...o.recognitions,
        ...o.expectations,
      ],
    })),
)

/** The events of a random org under the org id `org`, event ids `e-000`, `e-001`, … in draft order. */
export function randomOrgEvents(org: string, spec: RandomOrg): RawEvent[] {
  return spec.drafts.map((d, i) => ({
    event_id: `e-${String(i).padStart(3, '0')}`,
    org_id: org,
    type: d.type,
    occurred_at: new Date(BASE + d.slot * SLOT_MS).toISOString(),
    payload: d.payload,
  }))
}

/** A range covering every event of a random org, whatever its timezone. */
export const FULL = { from: '2026-02-27', to: addDays('2026-03-01', WINDOW_DAYS + 1) }
/** A random range of up to six days in and around the org's nine. */
export const range = fc
  .tuple(fc.integer({ min: -2, max: WINDOW_DAYS + 1 }), fc.integer({ min: 0, max: 5 }))
  .map(([start, length]) => ({ from: addDays('2026-03-01', start), to: addDays('2026-03-01', start + length) }))
