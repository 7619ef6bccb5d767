/**
 * Salesforce Change Data Capture messages → canonical events, as a pure function of (messages,
 * org mapping, limits). A message is the JSON a CometD / Pub/Sub bridge relays:
 * `{ data: { schema, payload: { ChangeEventHeader, ...fields }, event: { replayId } }, channel }`.
 *
 * Decisions (also in the README, "Sending events"):
 * - One canonical event per record of `recordIds` (Salesforce merges identical changes of several
 *   records into one message). `event_id` is a hash of (entity, transactionKey, sequenceNumber,
 *   record id, facet), where the facet tells apart the events one change can give (an update of
 *   stage and owner is a `stage_changed` and an `owner_changed`): a replayed message maps to the
 *   same ids.
 * - `occurred_at` is `commitTimestamp`; `changed_by`/`closed_by` is the mapped `commitUser`, else
 *   the mapping's `integrationUserId` (automation users), else the record is dead-lettered.
 * - Opportunity: CREATE → `opportunity.created` (created directly in a closing stage: created in
 *   `defaultStage`, plus `opportunity.closed`); UPDATE of StageName → `stage_changed` (into a
 *   closing stage, or IsClosed becoming true: `closed`, outcome from the mapping, else IsWon);
 *   OwnerId → `owner_changed` with `from_owner` "unknown" (CDC sends new values only); any other
 *   field except system and stage-derived ones → `opportunity.updated { fields }`.
 * - Task CREATE → `activity.logged` (TaskSubtype Call → call, Email/ListEmail → email, else task);
 *   Event CREATE → `activity.logged` kind meeting. Contacts: WhoId when it is a contact or lead.
 * - EventRelation CREATE (invitees): folded into the `activity.logged` of its Event when the Event's
 *   CREATE is in the same delivery (internal users → `participant_ids`, contacts and leads →
 *   `contact_ids`); an invitee added later is dead-lettered (`not_mapped`), because an activity is
 *   logged once.
 * - User CREATE/UPDATE touching ManagerId, IsActive, UserRoleId, Name, Email or TimeZoneSidKey →
 *   `user.upserted`. It is a whole state, and CDC sends changed fields only, so the User channel
 *   must be enriched with Name, Email, IsActive, ManagerId and UserRoleId; a record missing one is
 *   dead-lettered (`missing_field`).
 * - GAP_* and GAP_OVERFLOW: Salesforce lost the change itself. One dead letter per message, rule
 *   `resync_required`, with the entity and record ids in headers, so a resync job can read the
 *   records again.
 * - Everything else (deletions, undeletes, edits of activities, other entities) is dead-lettered
 *   with rule `not_mapped`: never dropped silently.
 */
import { z } from 'zod'
import type { SalesforceMapping, StageMapping } from '../../schemas/collector-config.schema.ts'
import type { ValidationLimits } from '../../schemas/event-validation.ts'
import type { ActivityKind, Id, UserRole } from '../../schemas/events.schema.ts'
import {
  byIndex,
  candidate,
  deadOutcome,
  issue,
  parseDelivery,
  settle,
  stableEventId,
  type CollectorIssue,
  type MappedDelivery,
  type WebhookOutcome,
} from './collector-outcomes.ts'
import { UNKNOWN_OWNER } from './hubspot-mapper.ts'

/** The header every change event carries. Loose: Salesforce adds fields across API versions. */
export const ChangeEventHeader = z.looseObject({
  entityName: z.string().min(1),
  recordIds: z.array(z.string().min(1)),
  changeType: z.string().min(1),
  changeOrigin: z.string().optional(),
  transactionKey: z.string().min(1),
  sequenceNumber: z.number().int(),
  commitTimestamp: z.number().int().min(0).max(8.64e15),
  commitNumber: z.number().optional(),
  commitUser: z.string().min(1),
  changedFields: z.array(z.string()).default([]),
  nulledFields: z.array(z.string()).default([]),
  diffFields: z.array(z.string()).default([]),
})
export type ChangeEventHeader = z.infer<typeof ChangeEventHeader>

/** One CDC message as the bridge relays it. */
export const SalesforceChangeEvent = z.looseObject({
  data: z.looseObject({
    schema: z.string().optional(),
    payload: z.looseObject({ ChangeEventHeader }),
    event: z.looseObject({ replayId: z.union([z.number(), z.string()]) }).optional(),
  }),
  channel: z.string().optional(),
})
export type SalesforceChangeEvent = z.infer<typeof SalesforceChangeEvent>

/** Headers of a `resync_required` dead letter. */
export const RESYNC_HEADERS = {
  entity: 'dugout-resync-entity',
  recordIds: 'dugout-resync-record-ids',
  changeType: 'dugout-resync-change-type',
} as const

// Fields Salesforce maintains itself: their change says nothing about who worked the deal.
const SYSTEM_FIELDS = new Set([
  'LastModifiedDate',
  'LastModifiedById',
  'SystemModstamp',
  'LastActivityDate',
  'LastViewedDate',
  'LastReferencedDate',
  'LastStageChangeDate',
  'LastAmountChangedHistoryId',
  'LastCloseDateChangedHistoryId',
  'Fiscal',
  'FiscalYear',
  'FiscalQuarter',
  'HasOpenActivity',
  'HasOverdueTask',
])
// Fields that follow the stage: part of a stage change or a close, not an update of their own.
const STAGE_FIELDS = new Set([
  'StageName',
  'IsClosed',
  'IsWon',
  'Probability',
  'ForecastCategory',
  'ForecastCategoryName',
  'ExpectedRevenue',
])
const USER_FIELDS = new Set([
  'ManagerId',
  'IsActive',
  'UserRoleId',
  'Name',
  'FirstName',
  'LastName',
  'Email',
  'TimeZoneSidKey',
])
const ENRICH_HINT = 'enrich the User change event channel with Name, Email, IsActive, ManagerId and UserRoleId'

type Facet = 'created' | 'closed' | 'stage' | 'owner' | 'updated' | 'activity' | 'user'

interface Message {
  index: number
  raw: string
  header: ChangeEventHeader
  fields: Record<string, unknown>
}

export interface SalesforceContext {
  org: string
  /** The org's Salesforce mapping; undefined when the mapping file has none. */
  mapping: SalesforceMapping | undefined
  limits: ValidationLimits
}

/** The stable `event_id` of the event of one facet of one record of a change. */
export function salesforceEventId(header: ChangeEventHeader, recordId: string, facet: Facet): string {
  return stableEventId('salesforce', [header.entityName, header.transactionKey, header.sequenceNumber, recordId, facet])
}

/** Maps one delivery (one message, or an array of them) for `ctx.org`. */
export function mapSalesforceDelivery(elements: readonly unknown[], ctx: SalesforceContext): MappedDelivery {
  // (transactionKey, sequenceNumber) identifies a change event; a bridge may relay one twice.
  const { parsed, outcomes, duplicates } = parseDelivery(elements, SalesforceChangeEvent, ({ data }) => {
    const header = data.payload.ChangeEventHeader
    return `${header.transactionKey}\u001f${header.sequenceNumber}\u001f${header.entityName}`
  })
  const messages: Message[] = parsed.map(({ index, raw, value }) => {
    const { ChangeEventHeader: header, ...fields } = value.data.payload
    return { index, raw, header, fields }
  })

  const relations = relationsByEvent(messages)
  const folded = new Set([...relations.values()].flat())
  for (const message of messages) {
    if (message.header.changeType.startsWith('GAP_')) {
      outcomes.push(resync(message))
    } else if (ctx.mapping === undefined) {
      const text = `org "${ctx.org}" has no Salesforce mapping in DUGOUT_CRM_MAPPINGS`
      outcomes.push(deadOutcome(message.index, message.raw, [issue('(root)', 'no_mapping', text)]))
    } else {
      const mapper = new MessageMapper(ctx.org, ctx.mapping, ctx.limits, message)
      outcomes.push(...mapper.map(relations, folded))
    }
  }
  return { outcomes: byIndex(outcomes), duplicates }
}

function resync(message: Message): WebhookOutcome {
  const { entityName, recordIds, changeType } = message.header
  const records = recordIds.length > 0 ? recordIds.join(', ') : 'records of the transaction'
  const text = `Salesforce sent ${changeType} for ${entityName} ${records}: the change itself is lost; read these records again`
  return deadOutcome(message.index, message.raw, [issue('ChangeEventHeader.changeType', 'resync_required', text)], {
    headers: {
      [RESYNC_HEADERS.entity]: entityName,
      [RESYNC_HEADERS.recordIds]: recordIds.join(','),
      [RESYNC_HEADERS.changeType]: changeType,
    },
  })
}

/** EventRelation creations of the delivery, by the Event they belong to, when that Event's creation is also here. */
function relationsByEvent(messages: readonly Message[]): Map<string, Message[]> {
  const created = new Set(
    messages
      .filter((m) => m.header.entityName === 'Event' && m.header.changeType === 'CREATE')
      .flatMap((m) => m.header.recordIds),
  )
  const byEvent = new Map<string, Message[]>()
  for (const message of messages) {
    const eventId = message.fields['EventId']
    if (message.header.entityName !== 'EventRelation' || message.header.changeType !== 'CREATE') continue
    if (typeof eventId !== 'string' || !created.has(eventId)) continue
    byEvent.set(eventId, [...(byEvent.get(eventId) ?? []), message])
  }
  return byEvent
}

const isClosing = (entry: StageMapping | undefined): entry is Extract<StageMapping, { outcome: unknown }> =>
  entry !== undefined && 'outcome' in entry

class MessageMapper {
  private readonly header: ChangeEventHeader
  private readonly changed: Set<string>

  constructor(
    private readonly org: string,
    private readonly mapping: SalesforceMapping,
    private readonly limits: ValidationLimits,
    private readonly message: Message,
  ) {
    this.header = message.header
    this.changed = new Set(message.header.changedFields.map((f) => f.split('.')[0]!))
  }

  map(relations: ReadonlyMap<string, Message[]>, folded: ReadonlySet<Message>): WebhookOutcome[] {
    const { entityName, changeType, recordIds } = this.header
    const perRecord = (f: (recordId: string) => WebhookOutcome[]) => recordIds.flatMap(f)
    switch (`${entityName}:${changeType}`) {
      case 'Opportunity:CREATE':
        return perRecord((id) => this.opportunityCreated(id))
      case 'Opportunity:UPDATE':
        return perRecord((id) => this.opportunityUpdated(id))
      case 'Task:CREATE':
        return perRecord((id) => [this.activity(id, taskKind(this.string('TaskSubtype')), [])])
      case 'Event:CREATE':
        if (this.message.fields['IsChild'] === true) {
          return [this.notMapped("an invitee's child event repeats its group event, which is logged once")]
        }
        return perRecord((id) => [this.activity(id, 'meeting', relations.get(id) ?? [])])
      case 'EventRelation:CREATE':
        if (folded.has(this.message)) return []
        return [
          this.notMapped('an invitee added after its Event was created: activity.logged is sent once per activity'),
        ]
      case 'User:CREATE':
        return perRecord((id) => [this.userUpserted(id)])
      case 'User:UPDATE':
        if ([...this.changed].some((f) => USER_FIELDS.has(f))) return perRecord((id) => [this.userUpserted(id)])
        return [this.notMapped('a User change outside ManagerId, IsActive, UserRoleId, Name, Email and TimeZoneSidKey')]
      default:
        return [this.notMapped(`a ${changeType} of ${entityName} has no canonical event`)]
    }
  }

  private opportunityCreated(recordId: string): WebhookOutcome[] {
    const stageName = this.string('StageName')
    const entry = stageName === undefined ? undefined : this.mapping.stages[stageName]
    const closing = isClosing(entry) || this.message.fields['IsClosed'] === true
    const outcomes = [
      this.settle(recordId, 'created', (issues) => {
        const owner = this.owner(issues)
        const stageKey = closing ? this.mapping.defaultStage : stageName
        const stage = stageKey === undefined ? undefined : this.mapping.stages[stageKey]
        if (stageName === undefined) issues.push(issue('StageName', 'missing_field', 'is not in the change event'))
        else if (entry === undefined)
          issues.push(issue('StageName', 'unmapped_stage', `"${stageName}" is not in the mapping`))
        else if (closing && stageKey === undefined) {
          issues.push(
            issue(
              'StageName',
              'unmapped_stage',
              `"${stageName}" is closed and the mapping has no defaultStage to create it in`,
            ),
          )
        }
        if (issues.length > 0 || owner === undefined || stage === undefined || !('category' in stage)) return undefined
        const amount = this.number('Amount')
        return candidate('opportunity.created', this.envelope(recordId, 'created'), {
          opportunity_id: recordId,
          account_id: this.string('AccountId') ?? this.mapping.unassignedAccountId,
          owner_id: owner,
          name: this.string('Name'),
          amount,
          currency: amount === undefined ? undefined : (this.string('CurrencyIsoCode') ?? this.mapping.defaultCurrency),
          stage: stage.stage ?? stageKey!,
          stage_category: stage.category,
        })
      }),
    ]
    if (closing && entry !== undefined) outcomes.push(this.closed(recordId, entry))
    return outcomes
  }

  private opportunityUpdated(recordId: string): WebhookOutcome[] {
    const outcomes: WebhookOutcome[] = []
    const stageName = this.string('StageName')
    const entry = stageName === undefined ? undefined : this.mapping.stages[stageName]
    const stageChanged = this.changed.has('StageName')
    const closedNow = this.changed.has('IsClosed') && this.message.fields['IsClosed'] === true
    if (closedNow || (stageChanged && isClosing(entry))) {
      outcomes.push(this.closed(recordId, entry))
    } else if (stageChanged) {
      outcomes.push(
        this.settle(recordId, 'stage', (issues) => {
          const actor = this.actor(issues)
          if (stageName === undefined)
            issues.push(issue('StageName', 'missing_field', 'is in changedFields but has no value'))
          else if (entry === undefined)
            issues.push(issue('StageName', 'unmapped_stage', `"${stageName}" is not in the mapping`))
          if (issues.length > 0 || actor === undefined || entry === undefined || isClosing(entry)) return undefined
          return candidate('opportunity.stage_changed', this.envelope(recordId, 'stage'), {
            opportunity_id: recordId,
            from_stage: null,
            to_stage: entry.stage ?? stageName!,
            to_category: entry.category,
            changed_by: actor,
          })
        }),
      )
    }
    if (this.changed.has('OwnerId')) {
      outcomes.push(
        this.settle(recordId, 'owner', (issues) => {
          const actor = this.actor(issues)
          const owner = this.owner(issues)
          if (actor === undefined || owner === undefined) return undefined
          return candidate('opportunity.owner_changed', this.envelope(recordId, 'owner'), {
            opportunity_id: recordId,
            from_owner: UNKNOWN_OWNER,
            to_owner: owner,
            changed_by: actor,
          })
        }),
      )
    }
    const fields = [...this.changed].filter((f) => f !== 'OwnerId' && !SYSTEM_FIELDS.has(f) && !STAGE_FIELDS.has(f))
    if (fields.length > 0) {
      outcomes.push(
        this.settle(recordId, 'updated', (issues) => {
          const actor = this.actor(issues)
          if (actor === undefined) return undefined
          return candidate('opportunity.updated', this.envelope(recordId, 'updated'), {
            opportunity_id: recordId,
            changed_by: actor,
            fields,
          })
        }),
      )
    }
    if (outcomes.length === 0) {
      outcomes.push(this.notMapped('an Opportunity update of system fields only', recordId))
    }
    return outcomes
  }

  private closed(recordId: string, entry: StageMapping | undefined): WebhookOutcome {
    return this.settle(recordId, 'closed', (issues) => {
      const actor = this.actor(issues)
      if (actor === undefined) return undefined
      const amount = this.number('Amount')
      const won = isClosing(entry) ? entry.outcome === 'won' : this.message.fields['IsWon'] === true
      return candidate('opportunity.closed', this.envelope(recordId, 'closed'), {
        opportunity_id: recordId,
        outcome: won ? 'won' : 'lost',
        amount,
        currency: amount === undefined ? undefined : (this.string('CurrencyIsoCode') ?? this.mapping.defaultCurrency),
        closed_by: actor,
      })
    })
  }

  private activity(recordId: string, kind: ActivityKind, relations: readonly Message[]): WebhookOutcome {
    const raw =
      relations.length === 0 ? this.message.raw : `[${[this.message, ...relations].map((m) => m.raw).join(',')}]`
    return this.settle(
      recordId,
      'activity',
      (issues) => {
        const owner = this.owner(issues)
        const participants: string[] = []
        const contacts = new Set<string>()
        const who = this.string('WhoId')
        if (who !== undefined && isPerson(who)) contacts.add(who)
        for (const relation of relations) {
          const related = relation.fields['RelationId']
          if (typeof related !== 'string' || relation.fields['IsWhat'] === true) continue
          if (isPerson(related)) contacts.add(related)
          else if (related.startsWith('005')) {
            const user = this.mapping.users[related]
            if (user === undefined) {
              issues.push(
                issue(
                  'EventRelation.RelationId',
                  'unmapped_user',
                  `Salesforce user "${related}" is not in the mapping`,
                ),
              )
            } else if (user !== owner && !participants.includes(user)) participants.push(user)
          }
        }
        if (issues.length > 0 || owner === undefined) return undefined
        const what = this.string('WhatId')
        const durationMinutes = this.number('DurationInMinutes')
        const callSeconds = this.number('CallDurationInSeconds')
        return candidate('activity.logged', this.envelope(recordId, 'activity'), {
          activity_id: recordId,
          kind,
          owner_id: owner,
          participant_ids: participants,
          contact_ids: [...contacts],
          account_id: this.string('AccountId'),
          opportunity_id: what?.startsWith('006') ? what : undefined,
          duration_seconds: callSeconds ?? (durationMinutes === undefined ? undefined : durationMinutes * 60),
        })
      },
      raw,
    )
  }

  /** The Dugout user of the record's `OwnerId`. */
  private owner(issues: CollectorIssue[]): Id | undefined {
    const salesforceId = this.string('OwnerId')
    if (salesforceId === undefined) {
      issues.push(issue('OwnerId', 'missing_field', 'is not in the change event'))
      return undefined
    }
    const id = this.mapping.users[salesforceId]
    if (id === undefined)
      issues.push(issue('OwnerId', 'unmapped_user', `Salesforce user "${salesforceId}" is not in the mapping`))
    return id
  }

  private userUpserted(recordId: string): WebhookOutcome {
    return this.settle(recordId, 'user', (found) => {
      const userId = this.mapping.users[recordId]
      if (userId === undefined) {
        found.push(
          issue('ChangeEventHeader.recordIds', 'unmapped_user', `Salesforce user "${recordId}" is not in the mapping`),
        )
      }
      const name = this.field('Name')
      const displayName = name.known ? personName(name.value) : undefined
      if (displayName === undefined)
        found.push(issue('Name', 'missing_field', `is not in the change event: ${ENRICH_HINT}`))
      const manager = this.managerOf(found)
      const active = this.field('IsActive')
      if (!active.known || typeof active.value !== 'boolean') {
        found.push(issue('IsActive', 'missing_field', `is not in the change event: ${ENRICH_HINT}`))
      }
      const role = this.roleOf(found)
      if (found.length > 0 || userId === undefined || manager === undefined || role === undefined) return undefined
      return candidate('user.upserted', this.envelope(recordId, 'user'), {
        user_id: userId,
        display_name: displayName!,
        email: this.string('Email'),
        role,
        manager_id: manager,
        active: active.known && active.value === true,
        timezone: this.string('TimeZoneSidKey'),
      })
    })
  }

  /** The Dugout id of the user's manager, `null` for none; undefined when it cannot be said. */
  private managerOf(issues: CollectorIssue[]): Id | null | undefined {
    const manager = this.field('ManagerId')
    if (!manager.known) {
      issues.push(issue('ManagerId', 'missing_field', `is not in the change event: ${ENRICH_HINT}`))
      return undefined
    }
    if (manager.value === null) return null
    const id = typeof manager.value === 'string' ? this.mapping.users[manager.value] : undefined
    if (id === undefined)
      issues.push(
        issue('ManagerId', 'unmapped_user', `Salesforce user "${String(manager.value)}" is not in the mapping`),
      )
    return id
  }

  private roleOf(issues: CollectorIssue[]): UserRole | undefined {
    const role = this.field('UserRoleId')
    if (!role.known) {
      issues.push(issue('UserRoleId', 'missing_field', `is not in the change event: ${ENRICH_HINT}`))
      return undefined
    }
    if (role.value === null) return this.mapping.defaultRole
    const mapped = typeof role.value === 'string' ? this.mapping.roles[role.value] : undefined
    if (mapped === undefined)
      issues.push(issue('UserRoleId', 'unmapped_role', `Salesforce role "${String(role.value)}" is not in the mapping`))
    return mapped
  }

  /** Who committed the change: the mapped `commitUser`, else the integration user. */
  private actor(issues: CollectorIssue[]): Id | undefined {
    const actor = this.mapping.users[this.header.commitUser] ?? this.mapping.integrationUserId
    if (actor === undefined) {
      const text = `Salesforce user "${this.header.commitUser}" is not in the mapping and the mapping has no integrationUserId`
      issues.push(issue('ChangeEventHeader.commitUser', 'unmapped_user', text))
    }
    return actor
  }

  private settle(
    recordId: string,
    facet: Facet,
    build: (issues: CollectorIssue[]) => unknown,
    raw = this.message.raw,
  ): WebhookOutcome {
    return settle(
      this.message.index,
      raw,
      salesforceEventId(this.header, recordId, facet),
      () => {
        const issues: CollectorIssue[] = []
        const event = build(issues)
        return event === undefined ? { issues } : { issues, event }
      },
      this.limits,
      { 'dugout-record-id': recordId },
    )
  }

  private notMapped(text: string, recordId?: string): WebhookOutcome {
    return deadOutcome(this.message.index, this.message.raw, [issue('ChangeEventHeader', 'not_mapped', text)], {
      headers: { 'dugout-record-ids': recordId ?? this.header.recordIds.join(',') },
    })
  }

  private envelope(recordId: string, facet: Facet) {
    return {
      eventId: salesforceEventId(this.header, recordId, facet),
      org: this.org,
      occurredAtMs: this.header.commitTimestamp,
      system: 'salesforce' as const,
      ref: recordId,
    }
  }

  /**
   * A field of the change: `null` when listed in nulledFields, the payload's value when the payload
   * has the key (null included), unknown otherwise (CDC sends changed and enriched fields only).
   */
  private field(name: string): { known: true; value: unknown } | { known: false } {
    if (this.header.nulledFields.includes(name)) return { known: true, value: null }
    if (Object.hasOwn(this.message.fields, name)) return { known: true, value: this.message.fields[name] }
    return { known: false }
  }

  private string(name: string): string | undefined {
    const value = this.message.fields[name]
    return typeof value === 'string' && value !== '' ? value : undefined
  }

  private number(name: string): number | undefined {
    const value = this.message.fields[name]
    return typeof value === 'number' ? value : undefined
  }
}

function taskKind(subtype: string | undefined): ActivityKind {
  if (subtype === 'Call') return 'call'
  if (subtype === 'Email' || subtype === 'ListEmail') return 'email'
  return 'task'
}

/** Contacts (003) and leads (00Q) are the customer's people. */
const isPerson = (id: string) => id.startsWith('003') || id.startsWith('00Q')

/** CDC sends a User's Name as a compound `{ FirstName, LastName }`; a bridge may flatten it. */
function personName(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value
  if (typeof value !== 'object' || value === null) return undefined
  const { FirstName, LastName } = value as Record<string, unknown>
  const parts = [FirstName, LastName].filter((p): p is string => typeof p === 'string' && p !== '')
  return parts.length > 0 ? parts.join(' ') : undefined
}
