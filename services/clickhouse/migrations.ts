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

/** Where a replicated table keeps its parts in ZooKeeper/Keeper, by the server's own macros. */
const REPLICA_PATH = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'"

/**
 * A migration statement for a cluster: every CREATE and ALTER TABLE runs `ON CLUSTER <cluster>`,
 * and each MergeTree-family engine becomes its Replicated* twin (the replica path from the
 * server's `{shard}`/`{replica}` macros first, the engine's own arguments after), so every server
 * of the cluster holds every table, replicated. Views keep their body. Any other statement is
 * refused: a migration that a cluster cannot run is a defect of the migration, caught by the tests.
 */
export function clusterStatement(statement: string, cluster: string): string {
  const head =
    /^(CREATE\s+(?:OR\s+REPLACE\s+)?(?:TABLE|VIEW|DATABASE)\s+(?:IF\s+NOT\s+EXISTS\s+)?\S+|ALTER\s+TABLE\s+\S+)(\s|$)/i.exec(
      statement,
    )
  if (head === null) throw new MigrationError(`cannot run on a cluster: ${statement.slice(0, 80)}…`)
  const onCluster = `${head[1]} ON CLUSTER \`${cluster}\`${head[2]}${statement.slice(head[0].length)}`
  return onCluster.replace(
    /ENGINE\s*=\s*((?:Replacing|Summing|Aggregating|Collapsing|VersionedCollapsing)?MergeTree)\b(?:\(([^)]*)\))?/g,
    (_match, engine: string, args: string | undefined) =>
      `ENGINE = Replicated${engine}(${[REPLICA_PATH, args?.trim()].filter(Boolean).join(', ')})`,
  )
}

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS {db:Identifier}.schema_migrations
  (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3))
  ENGINE = MergeTree ORDER BY version`

/** Every statement `migrate` runs, in order: the database, the migrations' own table, each migration's. */
export function migrationStatements(migrations = readMigrations()): string[] {
  return ['CREATE DATABASE IF NOT EXISTS {db:Identifier}', MIGRATIONS_TABLE, ...migrations.flatMap((m) => m.statements)]
}

/** Applies the migrations not yet recorded, in order. Returns the names applied. */
export async function migrate(ch: ClickHouse, migrations = readMigrations()): Promise<string[]> {
  const params = { db: ch.database }
  const onCluster = (statement: string) =>
    ch.cluster === undefined ? statement : clusterStatement(statement, ch.cluster)
  await ch.client.command({ query: onCluster('CREATE DATABASE IF NOT EXISTS {db:Identifier}'), query_params: params })
  await ch.client.command({
    query: onCluster(MIGRATIONS_TABLE),
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
        await ch.client.command({ query: inlineQueryParams(onCluster(statement), params) })
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
