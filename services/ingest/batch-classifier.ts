/**
 * The decisions of one ingest batch, as pure functions: which messages become rows, which are
 * dead letters (invalid, or a conflicting body under an event_id already taken), and which are
 * redeliveries to skip. Expected failures are values here; only infrastructure throws.
 */
import { decodeEvent, formatIssues, type ValidationLimits } from '../../schemas/event-validation.ts'
import type { CrmEvent } from '../../schemas/events.schema.ts'
import { encodeEvent, type EventRow } from './event-rows.ts'

export interface IncomingMessage {
  value: Buffer | null
  offset: string
}

/**
 * What ingest keeps of a valid event on its way to the store: its key and body hash (to tell a
 * redelivery from a conflict), its instant as sent (for the days it touches), and its row encoded
 * (`encodeEvent`) in `line`.
 */
export type DecodedEvent = Pick<EventRow, 'org_id' | 'event_id' | 'body_hash'> & Pick<CrmEvent, 'occurred_at'>

export type Classified =
  | { kind: 'ok'; row: DecodedEvent; line: Uint8Array; raw: Buffer; offset: string }
  | { kind: 'dlq'; raw: Buffer; reason: string; rule: string; offset: string; orgId?: string; eventId?: string }

/** A message's verdict without the message: what a decoding thread sends back. */
export type Verdict =
  | { kind: 'ok'; row: DecodedEvent; line: string }
  | { kind: 'dlq'; reason: string; rule: string; orgId?: string; eventId?: string }

/** Decode and validate one message's bytes; a bad one becomes a dead letter's reasons. */
export function judgeMessage(value: Uint8Array | null, limits: ValidationLimits): Verdict {
  const decoded = decodeEvent(value ?? new Uint8Array(0), limits)
  if (decoded.ok) {
    const { event } = decoded
    const { line, bodyHash } = encodeEvent(event)
    return {
      kind: 'ok',
      row: { org_id: event.org_id, event_id: event.event_id, body_hash: bodyHash, occurred_at: event.occurred_at },
      line,
    }
  }
  return {
    kind: 'dlq',
    reason: formatIssues(decoded.issues),
    rule: decoded.issues[0]?.rule ?? 'invalid',
    ...(decoded.orgId === undefined ? {} : { orgId: decoded.orgId }),
    ...(decoded.eventId === undefined ? {} : { eventId: decoded.eventId }),
  }
}

/** Decode and validate each message; a bad one becomes a dead letter and the rest go on. */
export function decodeMessages(messages: readonly IncomingMessage[], limits: ValidationLimits): Classified[] {
  return messages.map((message) => withMessage(judgeMessage(message.value, limits), message))
}

/** A verdict with its message: the bytes as received and the offset. */
export function withMessage(verdict: Verdict | DecodedVerdict, message: IncomingMessage): Classified {
  const raw = message.value ?? Buffer.alloc(0)
  if (verdict.kind === 'dlq') return { ...verdict, raw, offset: message.offset }
  const line = typeof verdict.line === 'string' ? Buffer.from(verdict.line) : verdict.line
  return { kind: 'ok', row: verdict.row, line, raw, offset: message.offset }
}

/** A verdict whose line is already bytes (a decoding thread sends all lines in one buffer). */
export type DecodedVerdict = Extract<Verdict, { kind: 'dlq' }> | { kind: 'ok'; row: DecodedEvent; line: Uint8Array }

export const eventKey = (orgId: string, eventId: string) => `${orgId}\u0000${eventId}`

export interface Deduplicated {
  /** Rows to insert: first sight of each (org_id, event_id). */
  fresh: Extract<Classified, { kind: 'ok' }>[]
  /** The `eventKey` and body hash of each row of `fresh`. */
  freshHashes: Map<string, string>
  /** Same id, same body as stored or earlier in the batch: a redelivery, counted once. */
  duplicates: number
  /** Same id, different body: the first one stands; these go to the dead-letter topic. */
  conflicts: Extract<Classified, { kind: 'dlq' }>[]
}

/**
 * Removes redeliveries and conflicts, given the body hashes already in the store for the batch's
 * ids, and those of the rows being stored (`inFlight`, which the store may not show yet). The
 * first body seen for an id wins, whether it was stored earlier or comes first here.
 */
export function deduplicate(
  valid: readonly Extract<Classified, { kind: 'ok' }>[],
  stored: ReadonlyMap<string, string>,
  inFlight: readonly ReadonlyMap<string, string>[] = [],
): Deduplicated {
  const result: Deduplicated = { fresh: [], freshHashes: new Map(), duplicates: 0, conflicts: [] }
  const earlier = (key: string) => {
    let hash = stored.get(key)
    for (let i = 0; hash === undefined && i < inFlight.length; i++) hash = inFlight[i]!.get(key)
    return hash
  }
  for (const item of valid) {
    const key = eventKey(item.row.org_id, item.row.event_id)
    // An id seen before this batch is not fresh here, so the two lookups never both answer.
    const hash = earlier(key) ?? result.freshHashes.get(key)
    if (hash === undefined) {
      result.freshHashes.set(key, item.row.body_hash)
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
