/**
 * Pure row building for the event store: a validated event becomes one row of
 * `events` (infra/clickhouse/migrations/0001_event_store.sql). Unit-tested; the writer is thin.
 */
import { createHash } from 'node:crypto'
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
  return createHash('sha256').update(JSON.stringify(event)).digest().readBigUInt64BE(0).toString()
}

/** `2026-03-02T14:05:00+02:00` → `2026-03-02 12:05:00.000` (UTC). */
export function toClickHouseTime(timestamp: string): string {
  return new Date(timestamp).toISOString().replace('T', ' ').replace('Z', '')
}

export function toEventRow(event: CrmEvent): EventRow {
  return {
    org_id: event.org_id,
    event_id: event.event_id,
    type: event.type,
    schema_version: event.schema_version,
    occurred_at: toClickHouseTime(event.occurred_at),
    source_system: event.source.system,
    source_ref: event.source.ref ?? '',
    payload: JSON.stringify(event.payload),
    body_hash: bodyHash(event),
  }
}

const dayFormatters = new Map<string, Intl.DateTimeFormat>()

/** The calendar day (YYYY-MM-DD) of an instant in a time zone. */
export function dayIn(timeZone: string, timestamp: string): string {
  let format = dayFormatters.get(timeZone)
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    dayFormatters.set(timeZone, format)
  }
  return format.format(new Date(timestamp))
}

/** The days each org's events fall on, in that org's time zone, sorted. */
export function daysTouched(events: readonly CrmEvent[], timeZoneOf: (org: string) => string): Map<string, string[]> {
  const byOrg = new Map<string, Set<string>>()
  for (const event of events) {
    let days = byOrg.get(event.org_id)
    if (!days) byOrg.set(event.org_id, (days = new Set()))
    days.add(dayIn(timeZoneOf(event.org_id), event.occurred_at))
  }
  return new Map([...byOrg].map(([org, days]) => [org, [...days].sort()]))
}
