/**
 * The one place that decides which ClickHouse Dugout talks to: a server when CLICKHOUSE_URL is
 * set, else the embedded chDB engine in this process. Everything else receives a
 * `ClickHouseClient` and cannot tell the difference.
 */
import fs from 'node:fs'
import { createRequire } from 'node:module'
import { Readable } from 'node:stream'
import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client'
import type * as ChdbConnection from 'chdb/connection'
import type { ClickHouseConfig } from '../../schemas/config.schema.ts'
import { asPerQueryConnection, type Connection } from './chdb-connection.ts'

export type { ClickHouseClient }

export interface ClickHouse {
  client: ClickHouseClient
  /** The database holding Dugout's tables; SQL names it as `{db:Identifier}`. */
  database: string
  engine: 'chdb' | 'server'
  /** The server's cluster (CLICKHOUSE_CLUSTER): the migrations run ON CLUSTER, replicated. */
  cluster?: string
  /**
   * Inserts a body already encoded in `format`, in the cheapest way the engine takes it: on chDB
   * the Buffer goes to the engine as it is (its own parser threads read it, nothing is copied into
   * a JS string); on a server it is the request body. `settings` apply to this insert only.
   */
  insertEncoded(insert: EncodedInsert): Promise<void>
  close(): Promise<void>
}

export interface EncodedInsert {
  /** `database.table`. */
  table: string
  /** The columns of each row, in order; JSONEachRow names them in the rows instead. */
  columns?: readonly string[]
  format: 'JSONCompactEachRow' | 'JSONEachRow'
  body: Buffer
  settings?: Record<string, string | number>
}

/**
 * chDB loads its engine (a 566 MB library) when first required: only a process that opens the
 * embedded engine pays for it, not `dugout import`, `--help` or a process with a server.
 *
 * The engine's allocator (chDB's own jemalloc) takes its options from JE_MALLOC_CONF, and reads
 * them only as the library loads: CHDB_MALLOC_CONF goes there first. Its default returns freed
 * memory after 1 s instead of ClickHouse's 5 s: an ingest process inserts every few hundred
 * milliseconds and held about 50 MiB more the other way, and 1 s costs no measurable throughput
 * (0 costs a quarter of the engine's insert speed; docs/scaling.md, "Memory").
 */
const loadChdb = (allocator: string) => {
  // eslint-disable-next-line no-restricted-properties -- the engine reads its options from there, and nothing else does
  process.env.JE_MALLOC_CONF = allocator
  return createRequire(import.meta.url)('chdb/connection') as typeof ChdbConnection
}

/** Settings that make both engines answer alike. */
const SETTINGS: ClickHouseSettings = {
  // Counts come back as JSON numbers on both engines (a server quotes 64-bit integers by default).
  output_format_json_quote_64bit_integers: 0,
  date_time_input_format: 'best_effort',
}

export function createClickHouse(config: ClickHouseConfig & { CHDB_PATH: string }): ClickHouse {
  const database = config.CLICKHOUSE_DATABASE
  if (config.CLICKHOUSE_URL) {
    const client = createClient({
      url: config.CLICKHOUSE_URL,
      username: config.CLICKHOUSE_USER,
      password: config.CLICKHOUSE_PASSWORD,
      clickhouse_settings: SETTINGS,
      request_timeout: 300_000,
    })
    return {
      client,
      database,
      engine: 'server',
      async insertEncoded({ table, columns, format, body, settings }) {
        const result = await client.exec({
          query: `INSERT INTO ${table}${columns ? ` (${columns.join(', ')})` : ''} FORMAT ${format}`,
          values: Readable.from([body]),
          ...(settings === undefined ? {} : { clickhouse_settings: settings }),
        })
        // The answer must be read for the connection to go back to the pool.
        result.stream.resume()
        await new Promise((resolve, reject) => result.stream.once('end', resolve).once('error', reject))
      },
      ...(config.CLICKHOUSE_CLUSTER === undefined ? {} : { cluster: config.CLICKHOUSE_CLUSTER }),
      close: () => client.close(),
    }
  }
  fs.mkdirSync(config.CHDB_PATH, { recursive: true })
  const connection = loadChdb(config.CHDB_MALLOC_CONF).createChdbConnection({ path: config.CHDB_PATH })
  const client = createClient({
    // chdb/connection implements the Connection contract of @clickhouse/client-common, which
    // @clickhouse/client now bundles as its own copy: same shape, two declarations.
    connection: asPerQueryConnection(connection as unknown as Connection),
    // Bound parameters are part of the SQL text on chDB: a chunk's 10,000 ids make it ~0.5 MB.
    clickhouse_settings: { ...SETTINGS, max_query_size: String(256 * 1024 * 1024) },
  })
  return {
    client,
    database,
    engine: 'chdb',
    async insertEncoded({ table, columns, format, body, settings }) {
      // The client's own insert would turn the body into a JS string and the statement around it
      // (chdb/connection); the raw insert hands the Buffer over as it is, settings in its SETTINGS.
      await connection.chdb.rawInsert({
        table,
        format,
        values: body,
        ...(columns ? { columns } : {}),
        ...(settings ? { settings } : {}),
      })
    },
    close: () => client.close(),
  }
}
