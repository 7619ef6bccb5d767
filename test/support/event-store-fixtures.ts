/**
 * Writes docs/events.md-shaped events straight into the event store (`{db}.events`), bypassing ingest:
 * metric tests control exactly what the store holds, duplicates included.
 */
import { createHash } from 'node:crypto'
import type { ClickHouse } from '../../services/clickhouse/clickhouse-client.ts'

/** A canonical event as docs/events.md describes it (`schema_version` and `source` optional here). */
export interface RawEvent {
  event_id: string
  org_id: string
  type: string
  schema_version?: number
  /** RFC 3339 with offset, e.g. `2026-03-02T14:05:00Z`. */
  occurred_at: string
  source?: { system: string; ref?: string }
  payload: Record<string, unknown>
}

/** The store row of an event: envelope columns, the payload as JSON text and its hash. */
export function eventStoreRow(event: RawEvent): Record<string, unknown> {
  const payload = JSON.stringify(event.payload)
  const instant = new Date(event.occurred_at)
  if (Number.isNaN(instant.getTime())) throw new Error(`event ${event.event_id}: bad occurred_at ${event.occurred_at}`)
  return {
    org_id: event.org_id,
    event_id: event.event_id,
    type: event.type,
    schema_version: event.schema_version ?? 1,
    occurred_at: instant.toISOString().replace('T', ' ').replace('Z', ''),
    source_system: event.source?.system ?? 'api',
    source_ref: event.source?.ref ?? '',
    payload,
    // 48 bits of the body's SHA-256: any UInt64 will do, and this one stays exact in a JS number.
    body_hash: createHash('sha256').update(payload).digest().readUIntBE(0, 6),
  }
}

/** Inserts the events as they are, in one batch (duplicates included). */
export async function insertRawEvents(ch: ClickHouse, events: readonly RawEvent[]): Promise<void> {
  if (events.length === 0) return
  await ch.client.insert({
    table: `${ch.database}.events`,
    values: events.map(eventStoreRow),
    format: 'JSONEachRow',
    // A test may insert the same batch twice on purpose (duplicates): the insert deduplication of
    // non_replicated_deduplication_window would silently drop the second one
    // (https://clickhouse.com/docs/operations/settings/settings#insert_deduplicate).
    clickhouse_settings: { insert_deduplicate: 0 },
  })
}
