/**
 * Canonical CRM events, schema version 1: the contract of `docs/events.md` in zod. Every
 * producer (CRM webhooks, HTTP API, file import, demo generator) and every consumer (ingest,
 * metrics, reports) reads events through these schemas; `schemas/event-validation.ts` adds the
 * checks that need a clock or raw bytes.
 *
 * Objects are strict at every level: a typo in a field name must fail loudly, never drop data.
 * Strings are never trimmed or normalised: what was sent is what is stored. String lengths are
 * counted in UTF-16 code units (JavaScript `length`).
 */
import { z } from 'zod'

/** The only schema version of this contract. */
export const SCHEMA_VERSION = 1

const idString = (params?: Parameters<typeof z.string>[0]) => z.string(params).min(1).max(128)

/** Any id of the contract (user, opportunity, account, …): a string of 1–128 characters. */
export const Id = idString()
export type Id = z.infer<typeof Id>

/** A list of ids; empty unless the event type says otherwise. */
export const Ids = z.array(Id)

/** A non-empty list of ids. */
export const NonEmptyIds = Ids.min(1, 'must contain at least 1 id')

// The default type message of a nullable string would only say "expected string".
const orNull = (what: string) => (issue: z.core.$ZodRawIssue) =>
  issue.code === 'invalid_type' && issue.input !== undefined ? `must be ${what} or null` : undefined

/** An id, or `null` where the contract allows "none" (`manager_id`). */
export const NullableId = idString({ error: orNull('an id (string)') }).nullable()

/** The tenant: 1–64 characters of `[a-z0-9_-]`. It is also the Kafka message key. */
export const OrgId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9_-]*$/, 'must contain only lower-case letters, digits, "_" and "-"')
export type OrgId = z.infer<typeof OrgId>

/** RFC 3339 timestamp with an offset (`Z` or `±hh:mm`); fractional seconds allowed. */
export const Timestamp = z.iso.datetime({
  offset: true,
  error: 'must be an RFC 3339 timestamp with offset, such as 2026-03-02T14:05:00Z or 2026-03-02T15:05:00+01:00',
})
export type Timestamp = z.infer<typeof Timestamp>

/** A real calendar date `YYYY-MM-DD` (so `2026-02-30` is refused). */
export const CalendarDate = z.iso.date({ error: 'must be a calendar date YYYY-MM-DD' })
export type CalendarDate = z.infer<typeof CalendarDate>

/** A finite amount ≥ 0, in the `currency` of the same payload. */
export const Amount = z.number().min(0)

/** ISO 4217 currency code. */
export const Currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code of 3 upper-case letters, such as USD')
export type Currency = z.infer<typeof Currency>

/** Systems an event can come from. */
export const SOURCE_SYSTEMS = ['hubspot', 'salesforce', 'api', 'import', 'demo'] as const
export const SourceSystem = z.enum(SOURCE_SYSTEMS)
export type SourceSystem = z.infer<typeof SourceSystem>

/** Where the event came from; `ref` is the source's own id, if any. */
export const Source = z.strictObject({
  system: SourceSystem,
  ref: z.string().optional(),
})
export type Source = z.infer<typeof Source>

/** A user's role in the org chart. */
export const USER_ROLES = ['rep', 'manager', 'executive', 'other'] as const
export const UserRole = z.enum(USER_ROLES)
export type UserRole = z.infer<typeof UserRole>

/** What metrics read of a deal's stage; the CRM's own stage name is free text next to it. */
export const STAGE_CATEGORIES = ['prospecting', 'qualified', 'proposal', 'negotiation'] as const
export const StageCategory = z.enum(STAGE_CATEGORIES)
export type StageCategory = z.infer<typeof StageCategory>

/** How a deal ended. */
export const OPPORTUNITY_OUTCOMES = ['won', 'lost'] as const
export const OpportunityOutcome = z.enum(OPPORTUNITY_OUTCOMES)
export type OpportunityOutcome = z.infer<typeof OpportunityOutcome>

/** Kinds of activity with customers. */
export const ACTIVITY_KINDS = ['call', 'email', 'meeting', 'task', 'note'] as const
export const ActivityKind = z.enum(ACTIVITY_KINDS)
export type ActivityKind = z.infer<typeof ActivityKind>

/** Channels of messages inside the team. */
export const MESSAGE_CHANNELS = ['email', 'chat'] as const
export const MessageChannel = z.enum(MESSAGE_CHANNELS)
export type MessageChannel = z.infer<typeof MessageChannel>

/** Kinds of meetings inside the team. */
export const MEETING_KINDS = ['one_on_one', 'coaching', 'team', 'lunch', 'deal_review', 'other'] as const
export const MeetingKind = z.enum(MEETING_KINDS)
export type MeetingKind = z.infer<typeof MeetingKind>

// Inclusive periods; valid `YYYY-MM-DD` strings compare in calendar order. Zod runs object
// refinements even after a field's format check failed, so malformed dates are left to that check.
const periodInOrder = (p: { period_start: string; period_end: string }) =>
  !CalendarDate.safeParse(p.period_start).success ||
  !CalendarDate.safeParse(p.period_end).success ||
  p.period_start <= p.period_end
const periodOrderError = {
  path: ['period_end'],
  message: 'must not be before period_start',
  params: { rule: 'period_order' },
}

// ---- Payloads -------------------------------------------------------------------------------

/** `user.upserted`: the user's state from `occurred_at` on; the org chart is the latest per user. */
export const UserUpsertedPayload = z.strictObject({
  user_id: Id,
  display_name: z.string(),
  email: z.string().optional(),
  role: UserRole,
  manager_id: NullableId,
  team_id: Id.optional(),
  active: z.boolean(),
  timezone: z.string().optional(),
})
export type UserUpsertedPayload = z.infer<typeof UserUpsertedPayload>

/** `quota.set`: an amount expected of a user over an inclusive period. */
export const QuotaSetPayload = z
  .strictObject({
    user_id: Id,
    period_start: CalendarDate,
    period_end: CalendarDate,
    amount: Amount,
    currency: Currency,
    set_by: Id,
  })
  .refine(periodInOrder, periodOrderError)
export type QuotaSetPayload = z.infer<typeof QuotaSetPayload>

/** `goal.set`: a free-text goal with a numeric target over an inclusive period. */
export const GoalSetPayload = z
  .strictObject({
    user_id: Id,
    goal: z.string().max(200),
    target: z.number(),
    period_start: CalendarDate,
    period_end: CalendarDate,
    set_by: Id,
  })
  .refine(periodInOrder, periodOrderError)
export type GoalSetPayload = z.infer<typeof GoalSetPayload>

/** `opportunity.created`. */
export const OpportunityCreatedPayload = z.strictObject({
  opportunity_id: Id,
  account_id: Id,
  owner_id: Id,
  name: z.string().optional(),
  amount: Amount.optional(),
  currency: Currency.optional(),
  stage: z.string(),
  stage_category: StageCategory,
})
export type OpportunityCreatedPayload = z.infer<typeof OpportunityCreatedPayload>

/** `opportunity.stage_changed`; `from_stage` is `null` when the source does not say. */
export const OpportunityStageChangedPayload = z.strictObject({
  opportunity_id: Id,
  from_stage: z.string({ error: orNull('a string') }).nullable(),
  to_stage: z.string(),
  to_category: StageCategory,
  changed_by: Id,
})
export type OpportunityStageChangedPayload = z.infer<typeof OpportunityStageChangedPayload>

/** `opportunity.updated`: `fields` names the CRM fields changed, other than stage and owner. */
export const OpportunityUpdatedPayload = z.strictObject({
  opportunity_id: Id,
  changed_by: Id,
  fields: z.array(z.string()).min(1, 'must name at least 1 changed field'),
})
export type OpportunityUpdatedPayload = z.infer<typeof OpportunityUpdatedPayload>

/** `opportunity.owner_changed`. */
export const OpportunityOwnerChangedPayload = z.strictObject({
  opportunity_id: Id,
  from_owner: Id,
  to_owner: Id,
  changed_by: Id,
})
export type OpportunityOwnerChangedPayload = z.infer<typeof OpportunityOwnerChangedPayload>

/** `opportunity.closed`. */
export const OpportunityClosedPayload = z.strictObject({
  opportunity_id: Id,
  outcome: OpportunityOutcome,
  amount: Amount.optional(),
  currency: Currency.optional(),
  reason: z.string().optional(),
  closed_by: Id,
})
export type OpportunityClosedPayload = z.infer<typeof OpportunityClosedPayload>

/**
 * `activity.logged`: `owner_id` did it, `participant_ids` are other internal users who took part,
 * `contact_ids` the customer's people.
 */
export const ActivityLoggedPayload = z.strictObject({
  activity_id: Id,
  kind: ActivityKind,
  owner_id: Id,
  participant_ids: Ids,
  contact_ids: Ids,
  account_id: Id.optional(),
  opportunity_id: Id.optional(),
  duration_seconds: z.number().int().min(0).optional(),
})
export type ActivityLoggedPayload = z.infer<typeof ActivityLoggedPayload>

/** `message.sent` inside the team. */
export const MessageSentPayload = z.strictObject({
  message_id: Id,
  thread_id: Id,
  sender_id: Id,
  recipient_ids: NonEmptyIds,
  channel: MessageChannel,
  in_reply_to: Id.optional(),
})
export type MessageSentPayload = z.infer<typeof MessageSentPayload>

/** `meeting.held`: `attendee_ids` is everyone who attended other than the organizer. */
export const MeetingHeldPayload = z.strictObject({
  meeting_id: Id,
  kind: MeetingKind,
  organizer_id: Id,
  attendee_ids: Ids,
  duration_minutes: z.number().positive(),
})
export type MeetingHeldPayload = z.infer<typeof MeetingHeldPayload>

/** `recognition.given`. */
export const RecognitionGivenPayload = z.strictObject({
  from_id: Id,
  to_ids: NonEmptyIds,
  note: z.string().max(1000).optional(),
})
export type RecognitionGivenPayload = z.infer<typeof RecognitionGivenPayload>

// ---- Events ---------------------------------------------------------------------------------

/** Every type of version 1, in the order of the contract. */
export const EVENT_TYPES = [
  'user.upserted',
  'quota.set',
  'goal.set',
  'opportunity.created',
  'opportunity.stage_changed',
  'opportunity.updated',
  'opportunity.owner_changed',
  'opportunity.closed',
  'activity.logged',
  'message.sent',
  'meeting.held',
  'recognition.given',
] as const
export type EventType = (typeof EVENT_TYPES)[number]

const EventId = Id.describe('Unique within the org: the same event_id seen twice is the same event.')
const OccurredAt = Timestamp.describe('When it happened in the CRM, not when it was received; metrics use this time.')

const eventOf = <T extends EventType, P extends z.ZodType>(type: T, payload: P) =>
  z
    .strictObject({
      event_id: EventId,
      org_id: OrgId,
      type: z.literal(type),
      schema_version: z.literal(SCHEMA_VERSION),
      occurred_at: OccurredAt,
      source: Source,
      payload,
    })
    .meta({ title: type })

/**
 * The envelope alone, with any known `type` and any object as payload. Validators use it to
 * report envelope problems of an event whose `type` is unknown; it does not validate an event.
 */
export const EventEnvelope = z.strictObject({
  event_id: EventId,
  org_id: OrgId,
  type: z.enum(EVENT_TYPES),
  schema_version: z.literal(SCHEMA_VERSION),
  occurred_at: OccurredAt,
  source: Source,
  payload: z.looseObject({}),
})
export type EventEnvelope = z.infer<typeof EventEnvelope>

export const UserUpserted = eventOf('user.upserted', UserUpsertedPayload)
export type UserUpserted = z.infer<typeof UserUpserted>
export const QuotaSet = eventOf('quota.set', QuotaSetPayload)
export type QuotaSet = z.infer<typeof QuotaSet>
export const GoalSet = eventOf('goal.set', GoalSetPayload)
export type GoalSet = z.infer<typeof GoalSet>
export const OpportunityCreated = eventOf('opportunity.created', OpportunityCreatedPayload)
export type OpportunityCreated = z.infer<typeof OpportunityCreated>
export const OpportunityStageChanged = eventOf('opportunity.stage_changed', OpportunityStageChangedPayload)
export type OpportunityStageChanged = z.infer<typeof OpportunityStageChanged>
export const OpportunityUpdated = eventOf('opportunity.updated', OpportunityUpdatedPayload)
export type OpportunityUpdated = z.infer<typeof OpportunityUpdated>
export const OpportunityOwnerChanged = eventOf('opportunity.owner_changed', OpportunityOwnerChangedPayload)
export type OpportunityOwnerChanged = z.infer<typeof OpportunityOwnerChanged>
export const OpportunityClosed = eventOf('opportunity.closed', OpportunityClosedPayload)
export type OpportunityClosed = z.infer<typeof OpportunityClosed>
export const ActivityLogged = eventOf('activity.logged', ActivityLoggedPayload)
export type ActivityLogged = z.infer<typeof ActivityLogged>
export const MessageSent = eventOf('message.sent', MessageSentPayload)
export type MessageSent = z.infer<typeof MessageSent>
export const MeetingHeld = eventOf('meeting.held', MeetingHeldPayload)
export type MeetingHeld = z.infer<typeof MeetingHeld>
export const RecognitionGiven = eventOf('recognition.given', RecognitionGivenPayload)
export type RecognitionGiven = z.infer<typeof RecognitionGiven>

/**
 * One canonical CRM event of schema version 1. Parse untrusted input through
 * `validateEvent`/`decodeEvent` (`schemas/event-validation.ts`), which add the time-window and
 * hostile-input checks; consumers `switch` exhaustively on `type`.
 */
export const CrmEvent = z.discriminatedUnion('type', [
  UserUpserted,
  QuotaSet,
  GoalSet,
  OpportunityCreated,
  OpportunityStageChanged,
  OpportunityUpdated,
  OpportunityOwnerChanged,
  OpportunityClosed,
  ActivityLogged,
  MessageSent,
  MeetingHeld,
  RecognitionGiven,
])
export type CrmEvent = z.infer<typeof CrmEvent>

/** The event of one type: `EventOf<'message.sent'>` is `MessageSent`. */
export type EventOf<T extends EventType> = Extract<CrmEvent, { type: T }>

/** The payload of one type. */
export type PayloadOf<T extends EventType> = EventOf<T>['payload']

// EVENT_TYPES is written out for a readable tuple type; this fails to compile if it and the
// union ever disagree in either direction.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
type Assert<T extends true> = T
type _EventTypesMatchUnion = Assert<Same<EventType, CrmEvent['type']>>

/** True when `value` is one of the `EVENT_TYPES`. */
export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value)
}
