import { describe, it, expect } from 'vitest'
import {
  CrmEvent,
  EVENT_TYPES,
  isEventType,
  MessageSent,
  QuotaSet,
  type EventOf,
  type EventType,
} from '../../schemas/events.schema.ts'
import { defaultLimits, formatIssues, validateEvent, type ValidationIssue } from '../../schemas/event-validation.ts'

const limits = defaultLimits(new Date('2026-03-10T12:00:00Z'))

// The example of docs/events.md, verbatim.
const EVENTS_MD_EXAMPLE = `{"event_id":"e-1","org_id":"acme","type":"user.upserted","schema_version":1,"occurred_at":"2026-03-01T09:00:00Z","source":{"system":"api"},"payload":{"user_id":"m1","display_name":"Maya Manager","email":"maya@acme.test","role":"manager","manager_id":null,"active":true}}
{"event_id":"e-2","org_id":"acme","type":"opportunity.created","schema_version":1,"occurred_at":"2026-03-02T10:00:00Z","source":{"system":"hubspot","ref":"deal-991"},"payload":{"opportunity_id":"o1","account_id":"a1","owner_id":"r1","amount":12000,"currency":"USD","stage":"Discovery","stage_category":"prospecting"}}`

function event<T extends EventType>(type: T, payload: EventOf<T>['payload']): EventOf<T> {
  return {
    event_id: `ev-${type}`,
    org_id: 'acme',
    type,
    schema_version: 1,
    occurred_at: '2026-03-02T14:05:00Z',
    source: { system: 'demo' },
    payload,
  } as EventOf<T>
}

/** One valid event of every type, checked against the TypeScript types too. */
const EXAMPLES: { [T in EventType]: EventOf<T> } = {
  'user.upserted': event('user.upserted', {
    user_id: 'r1',
    display_name: 'Rita Rep',
    role: 'rep',
    manager_id: 'm1',
    active: true,
  }),
  'quota.set': event('quota.set', {
    user_id: 'r1',
    period_start: '2026-01-01',
    period_end: '2026-03-31',
    amount: 150000,
    currency: 'EUR',
    set_by: 'm1',
  }),
  'goal.set': event('goal.set', {
    user_id: 'r1',
    goal: 'Book 20 discovery calls',
    target: 20,
    period_start: '2026-03-01',
    period_end: '2026-03-31',
    set_by: 'm1',
  }),
  'opportunity.created': event('opportunity.created', {
    opportunity_id: 'o1',
    account_id: 'a1',
    owner_id: 'r1',
    stage: 'Discovery',
    stage_category: 'prospecting',
  }),
  'opportunity.stage_changed': event('opportunity.stage_changed', {
    opportunity_id: 'o1',
    from_stage: 'Discovery',
    to_stage: 'Proposal sent',
    to_category: 'proposal',
    changed_by: 'r1',
  }),
  'opportunity.updated': event('opportunity.updated', {
    opportunity_id: 'o1',
    changed_by: 'r1',
    fields: ['close_date', 'amount'],
  }),
  'opportunity.owner_changed': event('opportunity.owner_changed', {
    opportunity_id: 'o1',
    from_owner: 'r1',
    to_owner: 'r2',
    changed_by: 'm1',
  }),
  'opportunity.closed': event('opportunity.closed', {
    opportunity_id: 'o1',
    outcome: 'won',
    amount: 11500.5,
    currency: 'USD',
    reason: 'Champion moved fast',
    closed_by: 'r1',
  }),
  'activity.logged': event('activity.logged', {
    activity_id: 'act1',
    kind: 'call',
    owner_id: 'r1',
    participant_ids: ['m1'],
    contact_ids: [],
    account_id: 'a1',
    opportunity_id: 'o1',
    duration_seconds: 0,
  }),
  'message.sent': event('message.sent', {
    message_id: 'msg1',
    thread_id: 't1',
    sender_id: 'm1',
    recipient_ids: ['r1'],
    channel: 'chat',
  }),
  'meeting.held': event('meeting.held', {
    meeting_id: 'mt1',
    kind: 'one_on_one',
    organizer_id: 'm1',
    attendee_ids: ['r1'],
    duration_minutes: 30,
  }),
  'recognition.given': event('recognition.given', {
    from_id: 'm1',
    to_ids: ['r1', 'r2'],
    note: 'Great save on the Acme renewal',
  }),
}

/** An event as untyped JSON, open to any edit. */
type LooseEvent = Record<string, unknown> & { payload: Record<string, unknown>; source: Record<string, unknown> }

/** A deep copy of the example of `type` with `edit` applied. */
function mutated(type: EventType, edit: (e: LooseEvent) => void): unknown {
  const copy = structuredClone(EXAMPLES[type]) as unknown as LooseEvent
  edit(copy)
  return copy
}

function issuesOf(value: unknown): ValidationIssue[] {
  const result = validateEvent(value, limits)
  if (result.ok) throw new Error('expected the event to be refused')
  return result.issues
}

describe('events schema: valid events', () => {
  it('accepts the examples of docs/events.md verbatim', () => {
    for (const line of EVENTS_MD_EXAMPLE.split('\n')) {
      const value: unknown = JSON.parse(line)
      expect(CrmEvent.safeParse(value).success).toBe(true)
      const result = validateEvent(value, limits)
      expect(result).toEqual({ ok: true, event: value })
    }
  })

  it.each(EVENT_TYPES)('accepts a valid %s', (type) => {
    const result = validateEvent(EXAMPLES[type], limits)
    expect(result, result.ok ? '' : formatIssues(result.issues)).toEqual({ ok: true, event: EXAMPLES[type] })
  })

  it('lists every type of the union in EVENT_TYPES', () => {
    expect(CrmEvent.options.map((o) => o.shape.type.value)).toEqual([...EVENT_TYPES])
    expect(Object.keys(EXAMPLES).sort()).toEqual([...EVENT_TYPES].sort())
    expect(isEventType('message.sent')).toBe(true)
    expect(isEventType('message.deleted')).toBe(false)
    expect(isEventType(42)).toBe(false)
  })

  it('accepts every optional field and the edge values of the contract', () => {
    const accepted: unknown[] = [
      mutated('user.upserted', (e) => {
        e.payload = {
          ...e.payload,
          email: 'rita@acme.test',
          team_id: 'west',
          timezone: 'Europe/Paris',
          manager_id: null,
          role: 'executive',
          active: false,
        }
        e.source = { system: 'salesforce', ref: '0055e000001AbCdEFG' }
      }),
      mutated('quota.set', (e) => {
        e.payload.period_start = '2024-02-29'
        e.payload.period_end = '2024-02-29'
        e.payload.amount = 0
      }),
      mutated('goal.set', (e) => {
        e.payload.goal = 'g'.repeat(200)
        e.payload.target = -2.5
      }),
      mutated('opportunity.stage_changed', (e) => (e.payload.from_stage = null)),
      mutated('opportunity.closed', (e) => {
        e.payload = { opportunity_id: 'o1', outcome: 'lost', closed_by: 'r1' }
      }),
      mutated('activity.logged', (e) => {
        e.payload = { activity_id: 'a', kind: 'note', owner_id: 'r1', participant_ids: [], contact_ids: ['c1'] }
      }),
      mutated('message.sent', (e) => {
        e.payload.channel = 'email'
        e.payload.in_reply_to = 'msg0'
      }),
      mutated('meeting.held', (e) => {
        e.payload.attendee_ids = []
        e.payload.duration_minutes = 0.5
      }),
      mutated('recognition.given', (e) => (e.payload = { from_id: 'm1', to_ids: ['r1'], note: 'n'.repeat(1000) })),
      mutated('message.sent', (e) => (e.occurred_at = '2026-03-02T15:05:00.123456+01:00')),
      mutated('message.sent', (e) => (e.occurred_at = '2026-03-02T09:35:00-05:30')),
      mutated('message.sent', (e) => {
        e.event_id = 'x'.repeat(128)
        e.org_id = `a-b_c-${'9'.repeat(58)}`
        e.payload.sender_id = 's'.repeat(128)
      }),
      ...(['hubspot', 'salesforce', 'api', 'import', 'demo'] as const).map((system) =>
        mutated('message.sent', (e) => (e.source = { system })),
      ),
    ]
    for (const value of accepted) {
      const result = validateEvent(value, limits)
      expect(result.ok, result.ok ? '' : formatIssues(result.issues)).toBe(true)
    }
  })

  it('stores strings as sent, without trimming', () => {
    const value = mutated('user.upserted', (e) => (e.payload.display_name = '  Rita Rep \t'))
    const result = validateEvent(value, limits)
    expect(result.ok && result.event.type === 'user.upserted' && result.event.payload.display_name).toBe(
      '  Rita Rep \t',
    )
  })

  it('exports one schema per type that parses only its own type', () => {
    expect(MessageSent.safeParse(EXAMPLES['message.sent']).success).toBe(true)
    expect(MessageSent.safeParse(EXAMPLES['recognition.given']).success).toBe(false)
    expect(QuotaSet.shape.payload.safeParse(EXAMPLES['quota.set'].payload).success).toBe(true)
  })
})

describe('events schema: refusals name the field and the rule', () => {
  const cases: [string, unknown, string, string][] = [
    [
      'unknown top-level field',
      mutated('message.sent', (e) => (e.received_at = 'now')),
      'received_at',
      'unknown_field',
    ],
    [
      'unknown payload field',
      mutated('message.sent', (e) => (e.payload.subject = 'hi')),
      'payload.subject',
      'unknown_field',
    ],
    ['unknown source field', mutated('message.sent', (e) => (e.source.url = 'x')), 'source.url', 'unknown_field'],
    ['missing event_id', mutated('message.sent', (e) => delete e.event_id), 'event_id', 'required'],
    ['empty event_id', mutated('message.sent', (e) => (e.event_id = '')), 'event_id', 'too_short'],
    ['event_id of 129 chars', mutated('message.sent', (e) => (e.event_id = 'x'.repeat(129))), 'event_id', 'too_long'],
    ['upper-case org_id', mutated('message.sent', (e) => (e.org_id = 'Acme')), 'org_id', 'pattern'],
    ['org_id with a space', mutated('message.sent', (e) => (e.org_id = 'acme corp')), 'org_id', 'pattern'],
    ['org_id with a dot', mutated('message.sent', (e) => (e.org_id = 'acme.test')), 'org_id', 'pattern'],
    ['org_id of 65 chars', mutated('message.sent', (e) => (e.org_id = 'a'.repeat(65))), 'org_id', 'too_long'],
    ['empty org_id', mutated('message.sent', (e) => (e.org_id = '')), 'org_id', 'too_short'],
    ['unknown type', mutated('message.sent', (e) => (e.type = 'message.deleted')), 'type', 'enum'],
    ['missing type', mutated('message.sent', (e) => delete e.type), 'type', 'required'],
    ['schema_version 2', mutated('message.sent', (e) => (e.schema_version = 2)), 'schema_version', 'enum'],
    ['schema_version "1"', mutated('message.sent', (e) => (e.schema_version = '1')), 'schema_version', 'enum'],
    [
      'occurred_at without offset',
      mutated('message.sent', (e) => (e.occurred_at = '2026-03-02T14:05:00')),
      'occurred_at',
      'format',
    ],
    ['occurred_at as a date', mutated('message.sent', (e) => (e.occurred_at = '2026-03-02')), 'occurred_at', 'format'],
    [
      'occurred_at offset without colon',
      mutated('message.sent', (e) => (e.occurred_at = '2026-03-02T14:05:00+0100')),
      'occurred_at',
      'format',
    ],
    [
      'occurred_at without seconds',
      mutated('message.sent', (e) => (e.occurred_at = '2026-03-02T14:05Z')),
      'occurred_at',
      'format',
    ],
    [
      'occurred_at on Feb 30',
      mutated('message.sent', (e) => (e.occurred_at = '2026-02-30T14:05:00Z')),
      'occurred_at',
      'format',
    ],
    [
      'occurred_at as epoch millis',
      mutated('message.sent', (e) => (e.occurred_at = 1772460300000)),
      'occurred_at',
      'type',
    ],
    ['unknown source system', mutated('message.sent', (e) => (e.source.system = 'zapier')), 'source.system', 'enum'],
    ['numeric source ref', mutated('message.sent', (e) => (e.source.ref = 991)), 'source.ref', 'type'],
    ['payload as an array', mutated('message.sent', (e) => Object.assign(e, { payload: [] })), 'payload', 'type'],
    [
      'empty recipient_ids',
      mutated('message.sent', (e) => (e.payload.recipient_ids = [])),
      'payload.recipient_ids',
      'too_short',
    ],
    [
      'empty id in recipient_ids',
      mutated('message.sent', (e) => (e.payload.recipient_ids = ['r1', ''])),
      'payload.recipient_ids[1]',
      'too_short',
    ],
    ['bad channel', mutated('message.sent', (e) => (e.payload.channel = 'sms')), 'payload.channel', 'enum'],
    ['negative quota amount', mutated('quota.set', (e) => (e.payload.amount = -1)), 'payload.amount', 'min'],
    [
      'infinite quota amount',
      mutated('quota.set', (e) => (e.payload.amount = Infinity)),
      'payload.amount',
      'not_finite',
    ],
    ['NaN quota amount', mutated('quota.set', (e) => (e.payload.amount = NaN)), 'payload.amount', 'not_finite'],
    ['amount as a string', mutated('quota.set', (e) => (e.payload.amount = '100')), 'payload.amount', 'type'],
    ['lower-case currency', mutated('quota.set', (e) => (e.payload.currency = 'usd')), 'payload.currency', 'pattern'],
    ['two-letter currency', mutated('quota.set', (e) => (e.payload.currency = 'US')), 'payload.currency', 'pattern'],
    [
      'period_start after period_end',
      mutated('quota.set', (e) => (e.payload.period_start = '2026-04-01')),
      'payload.period_end',
      'period_order',
    ],
    [
      'period_end not a calendar date',
      mutated('quota.set', (e) => (e.payload.period_end = '2026-04-31')),
      'payload.period_end',
      'format',
    ],
    [
      'period_start with a time',
      mutated('goal.set', (e) => (e.payload.period_start = '2026-03-01T00:00:00Z')),
      'payload.period_start',
      'format',
    ],
    [
      'goal period in the wrong order',
      mutated('goal.set', (e) => (e.payload.period_end = '2026-02-28')),
      'payload.period_end',
      'period_order',
    ],
    ['goal of 201 chars', mutated('goal.set', (e) => (e.payload.goal = 'g'.repeat(201))), 'payload.goal', 'too_long'],
    ['target as a string', mutated('goal.set', (e) => (e.payload.target = '20')), 'payload.target', 'type'],
    ['bad role', mutated('user.upserted', (e) => (e.payload.role = 'boss')), 'payload.role', 'enum'],
    [
      'missing manager_id',
      mutated('user.upserted', (e) => delete e.payload.manager_id),
      'payload.manager_id',
      'required',
    ],
    ['numeric manager_id', mutated('user.upserted', (e) => (e.payload.manager_id = 7)), 'payload.manager_id', 'type'],
    ['active as a string', mutated('user.upserted', (e) => (e.payload.active = 'true')), 'payload.active', 'type'],
    [
      'bad stage_category',
      mutated('opportunity.created', (e) => (e.payload.stage_category = 'closed')),
      'payload.stage_category',
      'enum',
    ],
    [
      'bad to_category',
      mutated('opportunity.stage_changed', (e) => (e.payload.to_category = 'won')),
      'payload.to_category',
      'enum',
    ],
    [
      'missing from_stage',
      mutated('opportunity.stage_changed', (e) => delete e.payload.from_stage),
      'payload.from_stage',
      'required',
    ],
    ['empty fields', mutated('opportunity.updated', (e) => (e.payload.fields = [])), 'payload.fields', 'too_short'],
    [
      'empty to_owner',
      mutated('opportunity.owner_changed', (e) => (e.payload.to_owner = '')),
      'payload.to_owner',
      'too_short',
    ],
    ['bad outcome', mutated('opportunity.closed', (e) => (e.payload.outcome = 'pending')), 'payload.outcome', 'enum'],
    ['bad activity kind', mutated('activity.logged', (e) => (e.payload.kind = 'visit')), 'payload.kind', 'enum'],
    [
      'missing contact_ids',
      mutated('activity.logged', (e) => delete e.payload.contact_ids),
      'payload.contact_ids',
      'required',
    ],
    [
      'fractional duration_seconds',
      mutated('activity.logged', (e) => (e.payload.duration_seconds = 1.5)),
      'payload.duration_seconds',
      'integer',
    ],
    [
      'negative duration_seconds',
      mutated('activity.logged', (e) => (e.payload.duration_seconds = -1)),
      'payload.duration_seconds',
      'min',
    ],
    ['bad meeting kind', mutated('meeting.held', (e) => (e.payload.kind = 'standup')), 'payload.kind', 'enum'],
    [
      'duration_minutes 0',
      mutated('meeting.held', (e) => (e.payload.duration_minutes = 0)),
      'payload.duration_minutes',
      'min',
    ],
    ['empty to_ids', mutated('recognition.given', (e) => (e.payload.to_ids = [])), 'payload.to_ids', 'too_short'],
    [
      'note of 1001 chars',
      mutated('recognition.given', (e) => (e.payload.note = 'n'.repeat(1001))),
      'payload.note',
      'too_long',
    ],
    [
      'payload of another type',
      mutated('recognition.given', (e) => (e.type = 'message.sent')),
      'payload.message_id',
      'required',
    ],
  ]

  it.each(cases)('refuses %s', (_name, value, path, rule) => {
    const issues = issuesOf(value)
    expect(issues).toContainEqual(expect.objectContaining({ path, rule }))
    for (const issue of issues) expect(issue.message.startsWith(`${issue.path}: `)).toBe(true)
  })

  it('refuses a value that is not an object at the root', () => {
    for (const value of [null, [], 'event', 42, true]) {
      expect(issuesOf(value)).toEqual([expect.objectContaining({ path: '(root)', rule: 'type' })])
    }
    expect(issuesOf(undefined)).toEqual([expect.objectContaining({ path: '(root)', rule: 'required' })])
  })

  it('reports every problem at once, envelope included when the type is unknown', () => {
    const value = {
      ...structuredClone(EXAMPLES['message.sent']),
      org_id: 'ACME',
      type: 'message.deleted',
      occurred_at: 'yesterday',
      extra: true,
    }
    const issues = issuesOf(value)
    expect(issues.map((i) => `${i.path}/${i.rule}`)).toEqual([
      'org_id/pattern',
      'type/enum',
      'occurred_at/format',
      'extra/unknown_field',
    ])
  })

  it('reports the event id and org on a refusal, even invalid ones', () => {
    const result = validateEvent(
      mutated('message.sent', (e) => ((e.org_id = 'ACME'), (e.payload.recipient_ids = []))),
      limits,
    )
    expect(result).toMatchObject({ ok: false, eventId: 'ev-message.sent', orgId: 'ACME' })
  })

  it('formats issues on one line: path, message, rule', () => {
    const issues = issuesOf(
      mutated('message.sent', (e) => {
        e.payload.recipient_ids = []
        e.occurred_at = '2026-03-02T14:05:00'
      }),
    )
    expect(formatIssues(issues)).toBe(
      'occurred_at: must be an RFC 3339 timestamp with offset, such as 2026-03-02T14:05:00Z or 2026-03-02T15:05:00+01:00 (format); ' +
        'payload.recipient_ids: must contain at least 1 id (too_short)',
    )
  })

  it('quotes path segments that are not identifiers', () => {
    const issues = issuesOf(mutated('message.sent', (e) => (e.payload['due date'] = 'x')))
    expect(issues).toContainEqual(expect.objectContaining({ path: 'payload["due date"]', rule: 'unknown_field' }))
  })
})
