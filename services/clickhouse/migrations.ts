/**
 * ClickHouse migrations: the ordered `.sql` files of infra/clickhouse/migrations, applied once
 * each, recorded in `schema_migrations`. The same files run on chDB and on a ClickHouse server;
 * they name Dugout's database as `{db:Identifier}`.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { PROJECT_ROOT } from '../../schemas/config.schema.ts'
import type { ClickHouse } from './clickhouse-client.ts'
import { inlineQueryParams } from './inline-params.ts'

export const MIGRATIONS_DIR = path.join(PROJECT_ROOT, 'infra/clickhouse/migrations')

export interface Migration {
  version: number
  name: string
  checksum: string
  statements: string[]
}

export class MigrationError extends Error {
  readonly code = 'MIGRATION_FAILED'
}

/** Splits a SQL file into statements on `;` at the end of a line (comments stripped). */
export function splitStatements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
}

export function readMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const sql = fs.readFileSync(path.join(dir, file), 'utf8')
      return {
        version: Number(file.slice(0, 4)),
        name: file.replace(/\.sql$/, ''),
        checksum: createHash('sha256').update(sql).digest('hex'),
        statements: splitStatements(sql),
      }
    })
}

/** Applies the migrations not yet recorded, in order. Returns the names applied. */
export async function migrate(ch: ClickHouse, migrations = readMigrations()): Promise<string[]> {
  const params = { db: ch.database }
  await ch.client.command({ query: 'CREATE DATABASE IF NOT EXISTS {db:Identifier}', query_params: params })
  await ch.client.command({
    query: `CREATE TABLE IF NOT EXISTS {db:Identifier}.schema_migrations
            (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
            ENGINE = MergeTree ORDER BY version`,
    query_params: params,
  })
  const result = await ch.client.query({
    query: 'SELECT version, name, checksum FROM {db:Identifier}.schema_migrations ORDER BY version',
    query_params: params,
    format: 'JSONEachRow',
  })
  const applied = new Map(
    (await result.json<{ version: number; name: string; checksum: string }>()).map((r) => [r.version, r]),
  )
  const done: string[] = []
  for (const migration of migrations) {
    const previous = applied.get(migration.version)
    if (previous) {
      if (previous.checksum !== migration.checksum) {
        throw new MigrationError(
          `migration ${migration.name} was changed after it ran (checksum ${previous.checksum.slice(0, 12)} in the database, ${migration.checksum.slice(0, 12)} on disk): add a new migration instead`,
        )
      }
      continue
    }
    for (const statement of migration.statements) {
      try {
        // The database name goes into the text itself: a server would take a placeholder left in
        // a view's body for a parameter of that view (a parameterized view), not substitute it.
        await ch.client.command({ query: inlineQueryParams(statement, params) })
      } catch (error) {
        throw new MigrationError(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error })
      }
    }
    await ch.client.insert({
      table: `${ch.database}.schema_migrations`,
      values: [{ version: migration.version, name: migration.name, checksum: migration.checksum }],
      format: 'JSONEachRow',
    })
    done.push(migration.name)
  }
  return done
}
