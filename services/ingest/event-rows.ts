/**
 * Pure row building for the event store: a validated event becomes one row of
 * `events` (infra/clickhouse/migrations/0001_event_store.sql). Unit-tested; the writer is thin.
 */
import { hash } from 'node:crypto'
import type { CrmEvent } from '../../schemas/events.schema.ts'

export interface EventRow {
  org_id: string
  event_id: string
  type: string
  schema_version: number
  /** UTC, millisecond precision, in the form ClickHouse's DateTime64 parses without guessing. */
  occurred_at: string
  source_system: string
  source_ref: string
  payload: string
  /** Hash of the canonical body, to tell a redelivery (same hash) from a conflict (different). */
  body_hash: string
}

/**
 * The first 64 bits of SHA-256 of the event's JSON, as a decimal string (UInt64). The event is the
 * validator's output, whose keys follow the schema's order whatever the order they were sent in,
 * so the same event sent twice hashes alike and any change of a value hashes differently.
 */
export function bodyHash(event: CrmEvent): string {
  return hashOf(JSON.stringify(event))
}

function hashOf(json: string): string {
  return BigInt(`0x${hash('sha256', json).slice(0, 16)}`).toString()
}

/** Already UTC, to the second or the millisecond: the common case, cut from the text as it is. */
const UTC_SECONDS_OR_MILLIS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{3})?Z$/

/** `2026-03-02T14:05:00+02:00` → `2026-03-02 12:05:00.000` (UTC). */
export function toClickHouseTime(timestamp: string): string {
  if (UTC_SECONDS_OR_MILLIS.test(timestamp)) {
    return `${timestamp.slice(0, 10)} ${timestamp.slice(11, 19)}.${timestamp.length === 24 ? timestamp.slice(20, 23) : '000'}`
  }
  const iso = new Date(timestamp).toISOString()
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`
}

/** The validator's key order (events.schema.ts), `payload` last. */
const ENVELOPE_KEYS = ['event_id', 'org_id', 'type', 'schema_version', 'occurred_at', 'source', 'payload']

/** Whether the event's keys are exactly `ENVELOPE_KEYS`, in order; allocates nothing. */
function inEnvelopeOrder(event: CrmEvent): boolean {
  let i = 0
  for (const key in event) if (key !== ENVELOPE_KEYS[i++]) return false
  return i === ENVELOPE_KEYS.length
}

/**
 * The event's JSON (what `bodyHash` hashes) and its payload's, stringifying once: in the
 * validator's key order the payload is the last key, and the first `,"payload":` of the JSON is
 * that key (a string before it holds any `"` escaped, and `source` has no such key).
 */
function eventJson(event: CrmEvent): { json: string; payload: string } {
  if (!inEnvelopeOrder(event)) {
    return { json: JSON.stringify(event), payload: JSON.stringify(event.payload) }
  }
  const json = JSON.stringify(event)
  return { json, payload: json.slice(json.indexOf(',"payload":') + ',"payload":'.length, -1) }
}

export function toEventRow(event: CrmEvent): EventRow {
  const { json, payload } = eventJson(event)
  return {
    org_id: event.org_id,
    event_id: event.event_id,
    type: event.type,
    schema_version: event.schema_version,
    occurred_at: toClickHouseTime(event.occurred_at),
    source_system: event.source.system,
    source_ref: event.source.ref ?? '',
    payload,
    body_hash: hashOf(json),
  }
}

/** The columns ingest writes, in the order of `encodeEventRows`; the rest are the table's own. */
export const EVENT_COLUMNS = [
  'org_id',
  'event_id',
  'type',
  'schema_version',
  'occurred_at',
  'source_system',
  'source_ref',
  'payload',
  'body_hash',
] as const

/**
 * A row as one line of a JSONCompactEachRow body (a JSON array, in `EVENT_COLUMNS` order): the
 * cheapest text format for the engine to read, and shorter than JSONEachRow's repeated names.
 */
export function encodeEventRow(r: EventRow): string {
  return JSON.stringify([
    r.org_id,
    r.event_id,
    r.type,
    r.schema_version,
    r.occurred_at,
    r.source_system,
    r.source_ref,
    r.payload,
    r.body_hash,
  ])
}

/**
 * A validated event's row, encoded as one line of the store's JSONCompactEachRow body, and its
 * body hash: `encodeEventRow(toEventRow(event))` and `body_hash` for ingest's hot path. The event
 * is stringified once, for the hash and the payload alike, and the payload goes into the line as
 * the JSON object it is rather than escaped into a string again: the store reads an object into
 * its String column as the object's text (`input_format_json_read_objects_as_strings`,
 * `EventStore.insert`), the same text the escaped string holds.
 */
export function encodeEvent(event: CrmEvent): { line: string; bodyHash: string } {
  const time = toClickHouseTime(event.occurred_at)
  const head = JSON.stringify([
    event.org_id,
    event.event_id,
    event.type,
    event.schema_version,
    time,
    event.source.system,
    event.source.ref ?? '',
  ])
  const { json, payload } = eventJson(event)
  const bodyHash = hashOf(json)
  return { line: `${head.slice(0, -1)},${payload},"${bodyHash}"]`, bodyHash }
}

/** Rows as one JSONCompactEachRow body, for `EventStore.insert`. */
export function encodeEventRows(rows: readonly EventRow[]): Buffer {
  return Buffer.from(rows.map(encodeEventRow).join('\n'))
}

const dayFormatters = new Map<string, Intl.DateTimeFormat>()

/**
 * Days of 15-minute UTC spans, per time zone: every offset in use since 2000 is a multiple of 15
 * minutes, so local midnight falls on a span's edge and a span lies within one day. A span whose
 * first and last instants fall on different days (a clock change inside it) is not cached, so
 * the answer is exact whatever the zone does. Formatting a date costs a microsecond or more, and
 * ingest asks for every event.
 */
const SPAN_MS = 15 * 60 * 1000
const spanDays = new Map<string, Map<number, string | null>>()

function formatDay(timeZone: string, at: number): string {
  let format = dayFormatters.get(timeZone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    dayFormatters.set(timeZone, format)
  }
  return format.format(at)
}

/** The calendar day (YYYY-MM-DD) of an instant in a time zone. */
export function dayIn(timeZone: string, timestamp: string): string {
  const at = Date.parse(timestamp)
  let spans = spanDays.get(timeZone)
  if (!spans) spanDays.set(timeZone, (spans = new Map()))
  if (spans.size > 100_000) spans.clear()
  const span = Math.floor(at / SPAN_MS)
  let day = spans.get(span)
  if (day === undefined) {
    const first = formatDay(timeZone, span * SPAN_MS)
    day = first === formatDay(timeZone, (span + 1) * SPAN_MS - 1) ? first : null
    spans.set(span, day)
  }
  return day ?? formatDay(timeZone, at)
}

/** The days each org's events fall on, in that org's time zone, sorted. */
export function daysTouched(
  events: readonly Pick<CrmEvent, 'org_id' | 'occurred_at'>[],
  timeZoneOf: (org: string) => string,
): Map<string, string[]> {
  const byOrg = new Map<string, Set<string>>()
  for (const event of events) {
    let days = byOrg.get(event.org_id)
    if (!days) byOrg.set(event.org_id, (days = new Set()))
    days.add(dayIn(timeZoneOf(event.org_id), event.occurred_at))
  }
  return new Map([...byOrg].map(([org, days]) => [org, [...days].sort()]))
}
