/**
 * The one place that decides which ClickHouse Dugout talks to: a server when CLICKHOUSE_URL is
 * set, else the embedded chDB engine in this process. Everything else receives a
 * `ClickHouseClient` and cannot tell the difference.
 */
import fs from 'node:fs'
import { createClient, type ClickHouseClient, type ClickHouseSettings } from '@clickhouse/client'
import { createChdbConnection } from 'chdb/connection'
import type { ClickHouseConfig } from '../../schemas/config.schema.ts'
import { inlineQueryParams } from './inline-params.ts'

export type { ClickHouseClient }
type ClientConnection = NonNullable<Parameters<typeof createClient>[0]>['connection']

export interface ClickHouse {
  client: ClickHouseClient
  /** The database holding Dugout's tables; SQL names it as `{db:Identifier}`. */
  database: string
  engine: 'chdb' | 'server'
  close(): Promise<void>
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
    return { client, database, engine: 'server', close: () => client.close() }
  }
  fs.mkdirSync(config.CHDB_PATH, { recursive: true })
  const client = createClient({
    // chdb/connection implements the Connection contract of @clickhouse/client-common, which
    // @clickhouse/client now bundles as its own copy: same shape, two declarations.
    connection: withInlineParams(createChdbConnection({ path: config.CHDB_PATH }) as unknown as Connection),
    // Bound parameters are part of the SQL text on chDB: a chunk's 10,000 ids make it ~0.5 MB.
    clickhouse_settings: { ...SETTINGS, max_query_size: String(256 * 1024 * 1024) },
  })
  return { client, database, engine: 'chdb', close: () => client.close() }
}

type Connection = NonNullable<ClientConnection>

/**
 * The chDB connection with its queries' parameters bound in the SQL text (see inline-params.ts:
 * chdb-node runs parameterized queries one at a time across the whole process).
 */
function withInlineParams(connection: Connection): Connection {
  const inline = <P extends { query: string; query_params?: Record<string, unknown> }>(params: P): P =>
    params.query_params && Object.keys(params.query_params).length > 0
      ? { ...params, query: inlineQueryParams(params.query, params.query_params), query_params: undefined }
      : params
  return {
    ping: (params) => connection.ping(params),
    query: (params) => connection.query(inline(params)),
    insert: (params) => connection.insert(params),
    command: (params) => connection.command(inline(params)),
    exec: (params) => connection.exec(inline(params)),
    close: () => connection.close(),
  }
}
