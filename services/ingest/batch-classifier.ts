/**
 * The decisions of one ingest batch, as pure functions: which messages become rows, which are
 * dead letters (invalid, or a conflicting body under an event_id already taken), and which are
 * redeliveries to skip. Expected failures are values here; only infrastructure throws.
 */
import { decodeEvent, formatIssues, type ValidationLimits } from '../../schemas/event-validation.ts'
import type { CrmEvent } from '../../schemas/events.schema.ts'
import { toEventRow, type EventRow } from './event-rows.ts'

export interface IncomingMessage {
  value: Buffer | null
  offset: string
}

export type Classified =
  | { kind: 'ok'; event: CrmEvent; row: EventRow; raw: Buffer; offset: string }
  | { kind: 'dlq'; raw: Buffer; reason: string; rule: string; offset: string; orgId?: string; eventId?: string }

/** Decode and validate each message; a bad one becomes a dead letter and the rest go on. */
export function decodeMessages(messages: readonly IncomingMessage[], limits: ValidationLimits): Classified[] {
  return messages.map((message) => {
    const raw = message.value ?? Buffer.alloc(0)
    const decoded = decodeEvent(raw, limits)
    if (decoded.ok)
      return { kind: 'ok', event: decoded.event, row: toEventRow(decoded.event), raw, offset: message.offset }
    return {
      kind: 'dlq',
      raw,
      reason: formatIssues(decoded.issues),
      rule: decoded.issues[0]?.rule ?? 'invalid',
      offset: message.offset,
      ...(decoded.orgId === undefined ? {} : { orgId: decoded.orgId }),
      ...(decoded.eventId === undefined ? {} : { eventId: decoded.eventId }),
    }
  })
}

export const eventKey = (orgId: string, eventId: string) => `${orgId}\u0000${eventId}`

export interface Deduplicated {
  /** Rows to insert: first sight of each (org_id, event_id). */
  fresh: Extract<Classified, { kind: 'ok' }>[]
  /** Same id, same body as stored or earlier in the batch: a redelivery, counted once. */
  duplicates: number
  /** Same id, different body: the first one stands; these go to the dead-letter topic. */
  conflicts: Extract<Classified, { kind: 'dlq' }>[]
}

/**
 * Removes redeliveries and conflicts, given the body hashes already in the store for the batch's
 * ids. The first body seen for an id wins, whether it was stored earlier or comes first here.
 */
export function deduplicate(
  valid: readonly Extract<Classified, { kind: 'ok' }>[],
  stored: ReadonlyMap<string, string>,
): Deduplicated {
  const seen = new Map(stored)
  const result: Deduplicated = { fresh: [], duplicates: 0, conflicts: [] }
  for (const item of valid) {
    const key = eventKey(item.row.org_id, item.row.event_id)
    const hash = seen.get(key)
    if (hash === undefined) {
      seen.set(key, item.row.body_hash)
      result.fresh.push(item)
    } else if (hash === item.row.body_hash) {
      result.duplicates++
    } else {
      result.conflicts.push({
        kind: 'dlq',
        raw: item.raw,
        reason: `event_id: ${item.row.event_id} was already received with a different body; the first one is kept (conflict)`,
        rule: 'conflict',
        offset: item.offset,
        orgId: item.row.org_id,
        eventId: item.row.event_id,
      })
    }
  }
  return result
}
