/**
 * What the collector decides for each thing it receives, as values: a canonical event to produce,
 * or a dead letter with the reasons. Shared by the HTTP API and the CRM webhook mappers, which
 * are pure functions of (body, org settings, validation limits).
 */
import { createHash } from 'node:crypto'
import type { z } from 'zod'
import {
  formatPath,
  validateEvent,
  type ValidationIssue,
  type ValidationLimits,
  type ValidationRule,
} from '../../schemas/event-validation.ts'
import {
  SCHEMA_VERSION,
  type CrmEvent,
  type EventType,
  type PayloadOf,
  type SourceSystem,
} from '../../schemas/events.schema.ts'

/** The rules of `ValidationRule`, and those only the collector can break. */
export type CollectorRule =
  | ValidationRule
  /** The event's org is not the org of the URL (or the HubSpot portal is not the org's). */
  | 'org_mismatch'
  /** The org has no mapping for this CRM in `DUGOUT_CRM_MAPPINGS`. */
  | 'no_mapping'
  | 'unmapped_stage'
  | 'unmapped_owner'
  | 'unmapped_user'
  | 'unmapped_role'
  /** A field the mapping needs is not in the CRM's payload. */
  | 'missing_field'
  /** A CRM change that has no canonical event (a deletion, a task edit, …). */
  | 'not_mapped'
  /** The CRM lost changes (Salesforce GAP_* / overflow): the records must be read again. */
  | 'resync_required'

/** A reason for a rejection, in the shape of `ValidationIssue`. */
export interface CollectorIssue {
  path: string
  rule: CollectorRule
  message: string
}

/** One issue, its message starting with the path as `ValidationIssue` messages do. */
export function issue(path: string, rule: CollectorRule, text: string): CollectorIssue {
  return { path, rule, message: `${path}: ${text}` }
}

/** One line for logs and the `dugout-reason` header: `message (rule); message (rule)`. */
export function formatReasons(issues: readonly CollectorIssue[]): string {
  return issues.map((i) => `${i.message} (${i.rule})`).join('; ')
}

/** The distinct rules of some issues, in order: the `rule` label of the rejection counter. */
export function rulesOf(issues: readonly CollectorIssue[]): CollectorRule[] {
  return [...new Set(issues.map((i) => i.rule))]
}

/** What became of one thing received from a CRM; `index` is its position in the delivery. */
export type WebhookOutcome =
  | { kind: 'event'; index: number; event: CrmEvent }
  | {
      kind: 'dead'
      index: number
      /** The JSON of the CRM item(s) the outcome came from. */
      raw: string
      issues: CollectorIssue[]
      eventId?: string
      headers?: Record<string, string>
    }

/** Everything decided about one webhook delivery. */
export interface MappedDelivery {
  /** In delivery order. */
  outcomes: WebhookOutcome[]
  /** Items seen twice in the delivery (HubSpot retries), kept once. */
  duplicates: number
}

/**
 * A deterministic event id from the CRM's own identity of a change, so that a redelivery maps to
 * the same id and ingest counts it once. 160 bits of SHA-256: ids stay short (docs/events.md allows
 * 128 characters) whatever the length of the parts, such as Salesforce transaction keys.
 * Changing this function changes every id: existing events would count twice.
 */
export function stableEventId(system: SourceSystem, parts: readonly (string | number)[]): string {
  return `${system}:${createHash('sha256').update(parts.map(String).join('\u001f'), 'utf8').digest('hex').slice(0, 40)}`
}

/** A candidate canonical event; `validateEvent` decides whether it is one. */
export function candidate<T extends EventType>(
  type: T,
  envelope: { eventId: string; org: string; occurredAtMs: number; system: SourceSystem; ref: string },
  payload: PayloadOf<T>,
): unknown {
  return {
    event_id: envelope.eventId,
    org_id: envelope.org,
    type,
    schema_version: SCHEMA_VERSION,
    occurred_at: new Date(envelope.occurredAtMs).toISOString(),
    source: { system: envelope.system, ref: envelope.ref },
    payload: withoutUndefined(payload as Record<string, unknown>),
  }
}

/**
 * The outcome of a mapped candidate: mapping issues win (the candidate is incomplete); otherwise
 * the contract decides, so that a mapper bug or an out-of-range CRM timestamp is dead-lettered
 * rather than produced.
 */
export function settle(
  index: number,
  raw: string,
  eventId: string,
  build: () => { issues: CollectorIssue[]; event?: unknown },
  limits: ValidationLimits,
  headers?: Record<string, string>,
): WebhookOutcome {
  const built = build()
  const dead = (issues: CollectorIssue[]): WebhookOutcome => ({
    kind: 'dead',
    index,
    raw,
    issues,
    eventId,
    ...(headers === undefined ? {} : { headers }),
  })
  if (built.issues.length > 0 || built.event === undefined) return dead(built.issues)
  const result = validateEvent(built.event, limits)
  return result.ok ? { kind: 'event', index, event: result.event } : dead(result.issues)
}

/** A dead letter that is not a mapping of an event (bad item, unsupported change, …). */
export function deadOutcome(
  index: number,
  raw: string,
  issues: CollectorIssue[],
  extra: { eventId?: string; headers?: Record<string, string> } = {},
): WebhookOutcome {
  return { kind: 'dead', index, raw, issues, ...extra }
}

/** One element of a webhook delivery that parsed, with its position and its text as received. */
export interface DeliveryElement<T> {
  index: number
  raw: string
  value: T
  /** The change's identity within the delivery (see `parseDelivery`). */
  key: string
}

/**
 * The first step of every webhook mapper: parse each element of a delivery with the CRM's schema
 * (a bad one becomes a dead letter naming its fields), and keep the first of elements with the
 * same change identity — CRMs and bridges relay a change twice within one delivery.
 */
export function parseDelivery<T>(
  elements: readonly unknown[],
  schema: z.ZodType<T>,
  keyOf: (value: T) => string,
): { parsed: DeliveryElement<T>[]; outcomes: WebhookOutcome[]; duplicates: number } {
  const parsed: DeliveryElement<T>[] = []
  const outcomes: WebhookOutcome[] = []
  const seen = new Set<string>()
  let duplicates = 0
  elements.forEach((element, index) => {
    const raw = JSON.stringify(element)
    const result = schema.safeParse(element)
    if (!result.success) {
      outcomes.push(deadOutcome(index, raw, itemIssues(result.error, element)))
      return
    }
    const key = keyOf(result.data)
    if (seen.has(key)) {
      duplicates++
      return
    }
    seen.add(key)
    parsed.push({ index, raw, value: result.data, key })
  })
  return { parsed, outcomes, duplicates }
}

/** Outcomes in the order of the delivery's elements. */
export function byIndex(outcomes: WebhookOutcome[]): WebhookOutcome[] {
  return outcomes.sort((a, b) => a.index - b.index)
}

/** Zod issues of a CRM item, as collector issues with the item's field paths. */
export function itemIssues(error: z.ZodError, input: unknown): CollectorIssue[] {
  return error.issues.map((zodIssue) => {
    const path = formatPath(zodIssue.path)
    const missing = valueAt(input, zodIssue.path) === undefined
    return missing
      ? issue(path, 'required', 'is required')
      : issue(path, zodIssue.code === 'invalid_type' ? 'type' : 'invalid', zodIssue.message)
  })
}

/** `ValidationIssue`s are collector issues. */
export const asCollectorIssues = (issues: readonly ValidationIssue[]): CollectorIssue[] => [...issues]

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root
  for (const key of path) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined
    current = (current as Record<PropertyKey, unknown>)[key]
  }
  return current
}

// Optional payload fields are left out rather than sent as undefined, so that the produced JSON
// (and the body hash ingest dedupes on) does not depend on how a mapper spelled "absent".
function withoutUndefined(payload: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(payload).filter(([, value]) => value !== undefined))
}
