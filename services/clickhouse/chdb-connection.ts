/**
 * The embedded engine's connection (chdb/connection), made to behave like a server's where
 * chdb-node differs, so that the rest of Dugout cannot tell the two apart:
 * - Query parameters are bound in the SQL text (inline-params.ts): chdb-node runs parameterized
 *   queries one at a time across the whole process.
 * - A query's `clickhouse_settings` apply to that query only. chdb/connection applies them with
 *   `SET` statements, which stay on the connection: an `insert_deduplication_token` would carry
 *   over to the next insert, which ClickHouse would then skip as a duplicate. So each later query
 *   that does not set such a setting sets it back to the engine's default.
 */
import { text } from 'node:stream/consumers'
import type { createClient } from '@clickhouse/client'
import { inlineQueryParams } from './inline-params.ts'

export type Connection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>['connection']>

const SETTING_DEFAULTS =
  'SELECT name, default FROM system.settings WHERE name IN {names:Array(String)} FORMAT JSONEachRow'

interface QueryParts {
  query: string
  query_params?: Record<string, unknown>
  clickhouse_settings?: Record<string, unknown>
}

export function asPerQueryConnection(connection: Connection): Connection {
  // Engine defaults of the settings some query has set on this connection, and the names the
  // engine does not list (HTTP-only ones, which chdb/connection ignores): looked up once.
  const defaults = new Map<string, string>()
  const unlisted = new Set<string>()

  async function learnDefaults(names: string[]): Promise<void> {
    const result = await connection.query({
      query: inlineQueryParams(SETTING_DEFAULTS, { names }),
      query_id: crypto.randomUUID(),
    })
    for (const line of (await text(result.stream)).split('\n').filter(Boolean)) {
      const { name, default: value } = JSON.parse(line) as { name: string; default: string }
      defaults.set(name, value)
    }
    for (const name of names) if (!defaults.has(name)) unlisted.add(name)
  }

  async function perQuery<P extends QueryParts>(params: P): Promise<P> {
    const own = params.clickhouse_settings ?? {}
    const unknown = Object.keys(own).filter(
      (name) => own[name] !== undefined && !defaults.has(name) && !unlisted.has(name),
    )
    if (unknown.length > 0) await learnDefaults(unknown)
    const restored = [...defaults].filter(([name]) => own[name] === undefined)
    const hasParams = params.query_params !== undefined && Object.keys(params.query_params).length > 0
    return {
      ...params,
      ...(hasParams ? { query: inlineQueryParams(params.query, params.query_params!), query_params: undefined } : {}),
      clickhouse_settings: { ...Object.fromEntries(restored), ...own },
    }
  }

  return {
    ping: (params) => connection.ping(params),
    query: async (params) => connection.query(await perQuery(params)),
    insert: async (params) => connection.insert(await perQuery(params)),
    command: async (params) => connection.command(await perQuery(params)),
    exec: async (params) => connection.exec(await perQuery(params)),
    close: () => connection.close(),
  }
}
