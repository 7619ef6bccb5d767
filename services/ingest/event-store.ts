/** The event store in ClickHouse: what ingest needs of it, and nothing more. */
import type { ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { eventKey } from './batch-classifier.ts'
import { EVENT_COLUMNS } from './event-rows.ts'

export interface EventStore {
  /** Body hashes already stored for these (org_id, event_id) pairs, keyed by `eventKey`. */
  storedHashes(keys: readonly { orgId: string; eventId: string }[]): Promise<Map<string, string>>
  /**
   * Inserts rows encoded as one JSONCompactEachRow body (`encodeEventRows`, or the lines of a
   * chunk's valid events, `bodyOf`); the same token twice (a retried batch) inserts once.
   */
  insert(body: Buffer, deduplicationToken: string): Promise<void>
}

/**
 * The ids go as one JSON string, not an Array(String): on chDB the parameters are part of the SQL
 * text, and the engine's parser takes about 16 ms for a literal array of a chunk's 10,000 ids
 * against 6 ms for the whole query with one string (the primary key prunes the granules alike).
 */
const STORED_HASHES_SQL = `
  SELECT org_id, event_id, any(body_hash) AS body_hash
  FROM {db:Identifier}.events
  WHERE org_id IN {orgs:Array(String)}
    AND event_id IN (SELECT arrayJoin(JSONExtract({ids:String}, 'Array(String)')))
  GROUP BY org_id, event_id`

/**
 * `reads` may be another handle than `ch`: on chDB, where one connection runs one query at a time,
 * ingest looks up the next chunk's ids on it while `ch` stores the last chunk.
 */
export function createClickHouseEventStore(ch: ClickHouse, reads: ClickHouse = ch): EventStore {
  return {
    async storedHashes(keys) {
      if (keys.length === 0) return new Map()
      const result = await reads.client.query({
        query: STORED_HASHES_SQL,
        query_params: {
          db: ch.database,
          orgs: [...new Set(keys.map((k) => k.orgId))],
          ids: JSON.stringify([...new Set(keys.map((k) => k.eventId))]),
        },
        format: 'JSONEachRow',
        // Hashes are UInt64: keep them exact as strings whatever the client default.
        clickhouse_settings: { output_format_json_quote_64bit_integers: 1 },
      })
      const rows = await result.json<{ org_id: string; event_id: string; body_hash: string }>()
      return new Map(rows.map((r) => [eventKey(r.org_id, r.event_id), String(r.body_hash)]))
    },
    async insert(body, deduplicationToken) {
      if (body.length === 0) return
      await ch.insertEncoded({
        table: `${ch.database}.events`,
        columns: EVENT_COLUMNS,
        format: 'JSONCompactEachRow',
        body,
        settings: {
          // With non_replicated_deduplication_window on the table (and always on replicated
          // tables), a block inserted again with the same token is skipped.
          // https://clickhouse.com/docs/operations/settings/settings#insert_deduplication_token
          insert_deduplication_token: deduplicationToken,
          insert_deduplicate: 1,
          // `encodeEvent` writes the payload as the JSON object it is: stored as its text.
          input_format_json_read_objects_as_strings: 1,
        },
      })
    },
  }
}
