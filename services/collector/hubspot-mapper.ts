/**
 * HubSpot webhook deliveries → canonical events, as a pure function of (items, org mapping,
 * limits). A delivery is the JSON array HubSpot POSTs: up to 100 items of the classic
 * `deal.*` subscriptions or the generic `object.*` ones (`objectTypeId` says which object).
 *
 * Decisions (also in the README, "Sending events"):
 * - `event_id` is a hash of (subscriptionType, objectTypeId, eventId, objectId, propertyName),
 *   never of `attemptNumber`: a retry maps to the same ids and collapses, in the delivery and in
 *   ingest. HubSpot says `eventId` alone is not guaranteed unique, hence the other parts.
 * - A deal creation carries no properties. Its stage, owner, amount, currency and name come from
 *   the first `dealstage`/`hubspot_owner_id`/`amount`/`deal_currency_code`/`dealname` change of
 *   the same deal in the same delivery, no more than a minute after the creation (HubSpot sends
 *   a new deal's initial values that way, in one request); those changes are folded into the
 *   creation and not produced on their own, so a new deal does not look like a stage move or a
 *   takeover. Missing values come from the mapping: `defaultStageId`, `defaultOwnerId`; with no
 *   default the creation is dead-lettered. A deal created directly in a closing stage becomes a
 *   creation in `defaultStageId` plus an `opportunity.closed`.
 * - `account_id` of a HubSpot deal is the mapping's `unassignedAccountId`: deal webhooks carry no
 *   company association.
 * - `from_stage` is null and `from_owner` is `"unknown"`: HubSpot sends the new value only, and
 *   the collector keeps no state.
 * - `changed_by`/`closed_by`: the mapped HubSpot user of `sourceId: "userId:N"`, else the
 *   mapping's `integrationUserId`, else the item is dead-lettered (`unmapped_user`).
 * - Activities: `object.creation` of calls (0-48), meetings (0-47), emails (0-49), tasks (0-27)
 *   and notes (0-46) → `activity.logged`, owner from a `hubspot_owner_id` change of the same
 *   object in the delivery (else `defaultOwnerId`), duration from `hs_call_duration`. HubSpot's
 *   webhooks carry no associations: contacts, participants and the deal stay empty.
 * - Anything else (deletions, merges, association changes, later edits of activities) is
 *   dead-lettered with rule `not_mapped`: never dropped silently.
 */
import { z } from 'zod'
import type { HubSpotMapping, StageMapping } from '../../schemas/collector-config.schema.ts'
import type { ValidationLimits } from '../../schemas/event-validation.ts'
import type { ActivityKind, Id } from '../../schemas/events.schema.ts'
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

/** One item of a HubSpot delivery. Loose: HubSpot adds fields, and unknown ones are harmless. */
export const HubSpotItem = z.looseObject({
  eventId: z.union([z.number().int().nonnegative(), z.string().min(1)]),
  subscriptionId: z.number().int().optional(),
  portalId: z.number().int().positive(),
  appId: z.number().int().optional(),
  // Epoch milliseconds; bounded so that `new Date(…)` stays a valid date.
  occurredAt: z.number().int().min(0).max(8.64e15),
  subscriptionType: z.string().min(1),
  attemptNumber: z.number().int().nonnegative(),
  objectId: z.union([z.number().int().nonnegative(), z.string().min(1)]),
  objectTypeId: z.string().optional(),
  propertyName: z.string().optional(),
  propertyValue: z.string().optional(),
  changeSource: z.string().optional(),
  sourceId: z.string().optional(),
  changeFlag: z.string().optional(),
})
export type HubSpotItem = z.infer<typeof HubSpotItem>

/** HubSpot object type ids of the engagements that become `activity.logged`. */
export const HUBSPOT_ACTIVITY_TYPES: Readonly<Record<string, ActivityKind>> = {
  '0-48': 'call',
  '0-47': 'meeting',
  '0-49': 'email',
  '0-27': 'task',
  '0-46': 'note',
}
const DEAL_TYPE_ID = '0-3'

/** How long after a creation a property change still counts as the new object's initial value. */
export const HUBSPOT_FOLD_WINDOW_MS = 60_000

/** `from_owner` of an owner change: HubSpot does not send the previous owner. */
export const UNKNOWN_OWNER = 'unknown'

const DEAL_INITIAL_PROPERTIES = new Set(['dealstage', 'hubspot_owner_id', 'amount', 'deal_currency_code', 'dealname'])
const ACTIVITY_INITIAL_PROPERTIES = new Set(['hubspot_owner_id', 'hs_call_duration'])

type ItemKind = 'deal.creation' | 'deal.property' | 'activity.creation' | 'activity.property' | 'other'

interface Item {
  index: number
  raw: string
  value: HubSpotItem
  kind: ItemKind
  eventId: string
}

export interface HubSpotContext {
  org: string
  /** The org's HubSpot mapping; undefined when the mapping file has none. */
  mapping: HubSpotMapping | undefined
  limits: ValidationLimits
}

/** The stable `event_id` of the event an item maps to. */
export function hubSpotEventId(item: HubSpotItem): string {
  return stableEventId('hubspot', [
    item.subscriptionType,
    item.objectTypeId ?? '',
    item.eventId,
    item.objectId,
    item.propertyName ?? '',
  ])
}

/** Maps one delivery (the parsed JSON array) for `ctx.org`. */
export function mapHubSpotDelivery(elements: readonly unknown[], ctx: HubSpotContext): MappedDelivery {
  // A retry (attemptNumber > 0) of an item of this delivery has the same event id: the first stays.
  const { parsed, outcomes, duplicates } = parseDelivery(elements, HubSpotItem, hubSpotEventId)
  const items: Item[] = parsed.map(({ index, raw, value, key }) => ({
    index,
    raw,
    value,
    kind: kindOf(value),
    eventId: key,
  }))

  const { mapping } = ctx
  if (mapping === undefined) {
    for (const item of items) {
      outcomes.push(
        deadOutcome(
          item.index,
          item.raw,
          [issue('(root)', 'no_mapping', `org "${ctx.org}" has no HubSpot mapping in DUGOUT_CRM_MAPPINGS`)],
          { eventId: item.eventId },
        ),
      )
    }
    return { outcomes: byIndex(outcomes), duplicates }
  }

  const mine: Item[] = []
  for (const item of items) {
    if (mapping.portalId !== undefined && item.value.portalId !== mapping.portalId) {
      const text = `is portal ${item.value.portalId}, but org "${ctx.org}" is portal ${mapping.portalId}`
      outcomes.push(
        deadOutcome(item.index, item.raw, [issue('portalId', 'org_mismatch', text)], { eventId: item.eventId }),
      )
    } else {
      mine.push(item)
    }
  }

  const folds = foldInitialValues(mine, mapping)
  const folded = new Set([...folds.values()].flatMap((f) => [...f.values()]))
  const mapper = new ItemMapper(ctx.org, mapping, ctx.limits)
  for (const item of mine) {
    if (folded.has(item)) continue
    outcomes.push(...mapper.map(item, folds.get(item) ?? new Map()))
  }
  return { outcomes: byIndex(outcomes), duplicates }
}

function kindOf(item: HubSpotItem): ItemKind {
  const type = item.subscriptionType
  if (type === 'deal.creation' || (type === 'object.creation' && item.objectTypeId === DEAL_TYPE_ID))
    return 'deal.creation'
  if (type === 'deal.propertyChange' || (type === 'object.propertyChange' && item.objectTypeId === DEAL_TYPE_ID)) {
    return 'deal.property'
  }
  const isActivity = item.objectTypeId !== undefined && HUBSPOT_ACTIVITY_TYPES[item.objectTypeId] !== undefined
  if (type === 'object.creation' && isActivity) return 'activity.creation'
  if (type === 'object.propertyChange' && isActivity) return 'activity.property'
  return 'other'
}

/**
 * For each creation, the property changes of the same object in the delivery that set its
 * initial values: per property, the earliest within the fold window. A change into a closing
 * stage is not folded: it stays an `opportunity.closed` of its own.
 */
function foldInitialValues(items: readonly Item[], mapping: HubSpotMapping): Map<Item, Map<string, Item>> {
  const folds = new Map<Item, Map<string, Item>>()
  const taken = new Set<Item>()
  for (const creation of items) {
    if (creation.kind !== 'deal.creation' && creation.kind !== 'activity.creation') continue
    const propertyKind = creation.kind === 'deal.creation' ? 'deal.property' : 'activity.property'
    const wanted = creation.kind === 'deal.creation' ? DEAL_INITIAL_PROPERTIES : ACTIVITY_INITIAL_PROPERTIES
    const changes = items
      .filter(
        (p) =>
          p.kind === propertyKind &&
          !taken.has(p) &&
          String(p.value.objectId) === String(creation.value.objectId) &&
          (p.value.objectTypeId ?? DEAL_TYPE_ID) === (creation.value.objectTypeId ?? DEAL_TYPE_ID) &&
          wanted.has(p.value.propertyName ?? '') &&
          p.value.occurredAt <= creation.value.occurredAt + HUBSPOT_FOLD_WINDOW_MS,
      )
      .sort((a, b) => a.value.occurredAt - b.value.occurredAt || a.index - b.index)
    const initial = new Map<string, Item>()
    for (const change of changes) {
      const name = change.value.propertyName!
      if (initial.has(name)) continue
      if (name === 'dealstage' && isClosing(mapping.stages[change.value.propertyValue ?? ''])) continue
      initial.set(name, change)
      taken.add(change)
    }
    folds.set(creation, initial)
  }
  return folds
}

const isClosing = (entry: StageMapping | undefined) => entry !== undefined && 'outcome' in entry

class ItemMapper {
  constructor(
    private readonly org: string,
    private readonly mapping: HubSpotMapping,
    private readonly limits: ValidationLimits,
  ) {}

  map(item: Item, initial: ReadonlyMap<string, Item>): WebhookOutcome[] {
    switch (item.kind) {
      case 'deal.creation':
        return [this.dealCreation(item, initial)]
      case 'deal.property':
        return [this.dealProperty(item)]
      case 'activity.creation':
        return [this.activityCreation(item, initial)]
      case 'activity.property':
        return [
          this.notMapped(
            item,
            'a change to an existing HubSpot activity has no canonical event (activity.logged is sent once, at creation)',
          ),
        ]
      case 'other':
        return [
          this.notMapped(
            item,
            `HubSpot subscription "${item.value.subscriptionType}"${item.value.objectTypeId ? ` of object type ${item.value.objectTypeId}` : ''} has no canonical event`,
          ),
        ]
    }
  }

  private dealCreation(item: Item, initial: ReadonlyMap<string, Item>): WebhookOutcome {
    const value = (name: string) => initial.get(name)?.value.propertyValue
    const raw = creationRaw(item, initial)
    return settle(
      item.index,
      raw,
      item.eventId,
      () => {
        const issues: CollectorIssue[] = []
        const stageId = value('dealstage') ?? this.mapping.defaultStageId
        const entry = stageId === undefined ? undefined : this.mapping.stages[stageId]
        if (stageId === undefined) {
          issues.push(
            issue('dealstage', 'unmapped_stage', 'is not in the delivery and the mapping has no defaultStageId'),
          )
        } else if (entry === undefined || !('category' in entry)) {
          issues.push(
            issue('dealstage', 'unmapped_stage', `HubSpot stage id "${stageId}" is not an open stage of the mapping`),
          )
        }
        const owner = this.owner(value('hubspot_owner_id'), issues)
        if (issues.length > 0 || entry === undefined || !('category' in entry) || owner === undefined) return { issues }
        const amountText = value('amount')
        const amount = amountText === undefined || amountText.trim() === '' ? undefined : Number(amountText)
        const currency = value('deal_currency_code')
        return {
          issues,
          event: candidate('opportunity.created', this.envelope(item), {
            opportunity_id: String(item.value.objectId),
            account_id: this.mapping.unassignedAccountId,
            owner_id: owner,
            name: value('dealname'),
            amount,
            currency: amount === undefined ? undefined : currency || this.mapping.defaultCurrency,
            stage: entry.stage ?? stageId!,
            stage_category: entry.category,
          }),
        }
      },
      this.limits,
    )
  }

  private dealProperty(item: Item): WebhookOutcome {
    return settle(
      item.index,
      item.raw,
      item.eventId,
      () => {
        const issues: CollectorIssue[] = []
        const { propertyName, propertyValue } = item.value
        if (propertyName === undefined) return { issues: [issue('propertyName', 'required', 'is required')] }
        const actor = this.actor(item, issues)
        const envelope = this.envelope(item)
        const opportunity_id = String(item.value.objectId)
        if (propertyName === 'dealstage') {
          const entry = this.mapping.stages[propertyValue ?? '']
          if (entry === undefined) {
            issues.push(
              issue(
                'propertyValue',
                'unmapped_stage',
                `HubSpot stage id "${propertyValue ?? ''}" is not in the mapping`,
              ),
            )
          }
          if (entry === undefined || actor === undefined) return { issues }
          const event =
            'outcome' in entry
              ? candidate('opportunity.closed', envelope, { opportunity_id, outcome: entry.outcome, closed_by: actor })
              : candidate('opportunity.stage_changed', envelope, {
                  opportunity_id,
                  from_stage: null,
                  to_stage: entry.stage ?? propertyValue!,
                  to_category: entry.category,
                  changed_by: actor,
                })
          return { issues, event }
        }
        if (propertyName === 'hubspot_owner_id') {
          const owner = this.owner(propertyValue, issues, 'propertyValue')
          if (owner === undefined || actor === undefined) return { issues }
          return {
            issues,
            event: candidate('opportunity.owner_changed', envelope, {
              opportunity_id,
              from_owner: UNKNOWN_OWNER,
              to_owner: owner,
              changed_by: actor,
            }),
          }
        }
        if (actor === undefined) return { issues }
        return {
          issues,
          event: candidate('opportunity.updated', envelope, {
            opportunity_id,
            changed_by: actor,
            fields: [propertyName],
          }),
        }
      },
      this.limits,
    )
  }

  private activityCreation(item: Item, initial: ReadonlyMap<string, Item>): WebhookOutcome {
    const raw = creationRaw(item, initial)
    return settle(
      item.index,
      raw,
      item.eventId,
      () => {
        const issues: CollectorIssue[] = []
        const owner = this.owner(initial.get('hubspot_owner_id')?.value.propertyValue, issues)
        if (owner === undefined) return { issues }
        const durationMs = Number(initial.get('hs_call_duration')?.value.propertyValue ?? NaN)
        return {
          issues,
          event: candidate('activity.logged', this.envelope(item), {
            activity_id: String(item.value.objectId),
            kind: HUBSPOT_ACTIVITY_TYPES[item.value.objectTypeId!]!,
            owner_id: owner,
            participant_ids: [],
            contact_ids: [],
            duration_seconds:
              Number.isFinite(durationMs) && durationMs >= 0 ? Math.round(durationMs / 1000) : undefined,
          }),
        }
      },
      this.limits,
    )
  }

  private notMapped(item: Item, text: string): WebhookOutcome {
    return deadOutcome(item.index, item.raw, [issue('subscriptionType', 'not_mapped', text)], { eventId: item.eventId })
  }

  private envelope(item: Item) {
    return {
      eventId: item.eventId,
      org: this.org,
      occurredAtMs: item.value.occurredAt,
      system: 'hubspot' as const,
      ref: String(item.value.objectId),
    }
  }

  /**
   * The Dugout user of a HubSpot owner id. At a creation (`path` hubspot_owner_id) an owner HubSpot
   * did not send is the mapping's `defaultOwnerId`; an owner change to nobody has no canonical form.
   */
  private owner(
    hubspotOwnerId: string | undefined,
    issues: CollectorIssue[],
    path = 'hubspot_owner_id',
  ): Id | undefined {
    const atCreation = path === 'hubspot_owner_id'
    if (hubspotOwnerId === undefined || hubspotOwnerId === '') {
      if (atCreation && this.mapping.defaultOwnerId !== undefined) return this.mapping.defaultOwnerId
      const text = atCreation
        ? 'is not in the delivery and the mapping has no defaultOwnerId'
        : 'is empty (the deal has no owner)'
      issues.push(issue(path, 'unmapped_owner', text))
      return undefined
    }
    const owner = this.mapping.owners[hubspotOwnerId]
    if (owner === undefined)
      issues.push(issue(path, 'unmapped_owner', `HubSpot owner id "${hubspotOwnerId}" is not in the mapping`))
    return owner
  }

  /** Who made a change: the mapped HubSpot user of `sourceId`, else the integration user. */
  private actor(item: Item, issues: CollectorIssue[]): Id | undefined {
    const userId = /^userId:(\d+)$/.exec(item.value.sourceId ?? '')?.[1]
    const actor = (userId === undefined ? undefined : this.mapping.users[userId]) ?? this.mapping.integrationUserId
    if (actor === undefined) {
      issues.push(
        issue(
          'sourceId',
          'unmapped_user',
          `${item.value.sourceId === undefined ? 'is absent' : `"${item.value.sourceId}" is not a mapped HubSpot user`} and the mapping has no integrationUserId`,
        ),
      )
    }
    return actor
  }
}

/** What a creation was built from: the item, with the property items folded into it if any. */
function creationRaw(item: Item, initial: ReadonlyMap<string, Item>): string {
  return initial.size === 0 ? item.raw : `[${[item, ...initial.values()].map((i) => i.raw).join(',')}]`
}
