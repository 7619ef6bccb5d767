// Proves the ClickHouse factory gives a real engine (chDB in-process by default, a server with
// CLICKHOUSE_URL) and that migrations apply once, in order, and refuse an edited migration.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { migrate, readMigrations } from '../../services/clickhouse/migrations.ts'
import { testClickHouse } from '../support/env.ts'

const ch = testClickHouse('engine')
afterAll(() => ch.close())

describe('ClickHouse through the factory', () => {
  it('creates, inserts into and queries a MergeTree table', async () => {
    await ch.client.command({
      query: 'CREATE DATABASE IF NOT EXISTS {db:Identifier}',
      query_params: { db: ch.database },
    })
    await ch.client.command({
      query: `CREATE TABLE {db:Identifier}.visits (org_id String, at DateTime64(3, 'UTC'), n UInt32)
              ENGINE = MergeTree ORDER BY (org_id, at)`,
      query_params: { db: ch.database },
    })
    await ch.client.insert({
      table: `${ch.database}.visits`,
      format: 'JSONEachRow',
      values: [
        { org_id: 'acme', at: '2026-03-01T23:30:00Z', n: 2 },
        { org_id: 'acme', at: '2026-03-02T10:00:00Z', n: 3 },
        { org_id: 'other', at: '2026-03-02T10:00:00Z', n: 100 },
      ],
    })
    const result = await ch.client.query({
      query: `SELECT toDate(at, {tz:String}) AS day, sum(n) AS total, quantileExact(0.5)(n) AS median
              FROM {db:Identifier}.visits WHERE org_id = {org:String} GROUP BY day ORDER BY day`,
      query_params: { db: ch.database, org: 'acme', tz: 'Asia/Tokyo' },
      format: 'JSONEachRow',
    })
    expect(await result.json()).toEqual([{ day: '2026-03-02', total: 5, median: 3 }])
  })

  it('returns parameter values exactly as given, quotes and backslashes included', async () => {
    const s = "it's \\ a\n\t'quoted' {x:String} ✓ 🎉"
    const a = ["'", '\\', '', "x' OR 1=1 --"]
    const result = await ch.client.query({
      query: 'SELECT {s:String} AS s, {a:Array(String)} AS a, {d:Array(Date)} AS d, {n:UInt16} AS n',
      query_params: { s, a, d: ['2026-03-01'], n: 7 },
      format: 'JSONEachRow',
    })
    expect(await result.json()).toEqual([{ s, a, d: ['2026-03-01'], n: 7 }])
  })

  it("applies a query's settings to that query only", async () => {
    await ch.client.command({
      query: 'CREATE DATABASE IF NOT EXISTS {db:Identifier}',
      query_params: { db: ch.database },
    })
    await ch.client.command({
      query: `CREATE TABLE {db:Identifier}.batches (n UInt32) ENGINE = MergeTree ORDER BY n
              SETTINGS non_replicated_deduplication_window = 100`,
      query_params: { db: ch.database },
    })
    const table = `${ch.database}.batches`
    await ch.client.insert({
      table,
      format: 'JSONEachRow',
      values: [{ n: 1 }],
      clickhouse_settings: { insert_deduplication_token: 'batch-1', insert_deduplicate: 1 },
    })
    // Without a token of its own, this insert is no duplicate of the first.
    await ch.client.insert({ table, format: 'JSONEachRow', values: [{ n: 2 }] })
    const result = await ch.client.query({
      query: 'SELECT groupArray(n) AS ns FROM (SELECT n FROM {db:Identifier}.batches ORDER BY n)',
      query_params: { db: ch.database },
      format: 'JSONEachRow',
    })
    expect(await result.json()).toEqual([{ ns: [1, 2] }])
  })

  it('answers errors with the ClickHouse code and type', async () => {
    await expect(
      ch.client.query({ query: 'SELECT nope FROM system.one', format: 'JSONEachRow' }),
    ).rejects.toMatchObject({ code: '47', type: 'UNKNOWN_IDENTIFIER' })
  })

  it('applies the migrations once and records them', async () => {
    const first = await migrate(ch)
    expect(first).toEqual(readMigrations().map((m) => m.name))
    expect(await migrate(ch)).toEqual([])
    const tables = await ch.client.query({
      query: 'SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name',
      query_params: { db: ch.database },
      format: 'JSONEachRow',
    })
    expect((await tables.json<{ name: string }>()).map((t) => t.name)).toContain('events')
  })

  it('refuses a migration edited after it ran', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dugout-migrations-'))
    fs.writeFileSync(
      path.join(dir, '0001_first.sql'),
      'CREATE TABLE IF NOT EXISTS {db:Identifier}.m1 (a UInt8) ENGINE = MergeTree ORDER BY a;\n',
    )
    const db = { ...ch, database: `${ch.database}_edited` }
    expect(await migrate(db, readMigrations(dir))).toEqual(['0001_first'])
    fs.writeFileSync(
      path.join(dir, '0001_first.sql'),
      'CREATE TABLE IF NOT EXISTS {db:Identifier}.m1 (a UInt16) ENGINE = MergeTree ORDER BY a;\n',
    )
    await expect(migrate(db, readMigrations(dir))).rejects.toMatchObject({ code: 'MIGRATION_FAILED' })
  })
})
