/**
 * The event store of one big org, shared by the rebuild and reports benchmarks: `total` events of
 * the demo generator written straight into a chDB `events` table (not through Kafka: the ingest
 * benchmark measures that path). Building it takes minutes, so it is cached under the system's
 * temp folder, keyed by the org's shape and the event count, and reused by later runs.
 *
 * The org: 25 teams of 8 reps (200 reps and their managers), about the biggest single sales
 * floor we expect to serve, with as many weeks of history as `total` events need (10 M events
 * are about 17 months). Reports then read the realistic worst case per day: every team busy.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { DugoutConfig } from '../schemas/config.schema.ts'
import { createClickHouse, type ClickHouse } from '../services/clickhouse/clickhouse-client.ts'
import { migrate } from '../services/clickhouse/migrations.ts'
import { estimateEventCount, generateOrg, type GenerateOptions } from '../services/demo/org-generator.ts'
import { toEventRow, type EventRow } from '../services/ingest/event-rows.ts'

/** A built store: where it is, and what it holds. */
export interface BigOrgStore {
  /** The chDB data folder (CHDB_PATH); opened by one process at a time. */
  chdbPath: string
  database: string
  org: string
  /** Events stored (the generator's duplicates included, as ingest would store them). */
  events: number
  /** First and last day with events (UTC, the org's timezone). */
  firstDay: string
  lastDay: string
}

const ORG = 'bigorg'
const SHAPE = { managers: 25, repsPerManager: 8, seed: 11, start: '2024-01-01' }
/** Rows per insert: large enough that chDB writes few parts, small enough to stay well in memory. */
const INSERT_ROWS = 200_000
const READY_FILE = 'bench-store.json'

/** The generator options that yield at least `total` events: whole weeks, with 5% to spare. */
function generatorOptions(total: number): GenerateOptions {
  const perWeek = estimateEventCount({ org: ORG, ...SHAPE, weeks: 10 }) / 10
  return { org: ORG, ...SHAPE, weeks: Math.ceil((total / perWeek) * 1.05) + 1 }
}

/** The ClickHouse of a store folder (always the embedded engine: the cache is a chDB folder). */
export function openBigOrgStore(config: DugoutConfig, store: Pick<BigOrgStore, 'chdbPath' | 'database'>): ClickHouse {
  return createClickHouse({
    ...config,
    CLICKHOUSE_URL: undefined,
    CLICKHOUSE_DATABASE: store.database,
    CHDB_PATH: store.chdbPath,
  })
}

/**
 * The store of `total` events, built on first use (progress on stderr) and reused afterwards. A
 * folder without its ready file is a build that did not finish: it is started over.
 */
export async function bigOrgStore(config: DugoutConfig, total: number): Promise<BigOrgStore> {
  const options = generatorOptions(total)
  const key = createHash('sha256').update(JSON.stringify({ options, total })).digest('hex').slice(0, 12)
  const chdbPath = path.join(os.tmpdir(), `dugout-bench-store-${total}-${key}`)
  const ready = path.join(chdbPath, READY_FILE)
  if (fs.existsSync(ready)) {
    const store = JSON.parse(fs.readFileSync(ready, 'utf8')) as BigOrgStore
    process.stderr.write(`store: reusing ${store.events} events of ${store.org} in ${chdbPath}\n`)
    // Migrations added since the store was built apply to it, as they would to a deployed store.
    const ch = openBigOrgStore(config, store)
    await migrate(ch).finally(() => ch.close())
    return store
  }
  fs.rmSync(chdbPath, { recursive: true, force: true })
  const store = await buildStore(config, { chdbPath, database: 'dugout', org: ORG }, options, total)
  fs.writeFileSync(ready, JSON.stringify(store, null, 2))
  return store
}

async function buildStore(
  config: DugoutConfig,
  where: Pick<BigOrgStore, 'chdbPath' | 'database' | 'org'>,
  options: GenerateOptions,
  total: number,
): Promise<BigOrgStore> {
  process.stderr.write(
    `store: generating ${total} events (${options.managers}×${options.repsPerManager} reps, up to ${options.weeks} weeks) into ${where.chdbPath}…\n`,
  )
  const ch = openBigOrgStore(config, where)
  try {
    await migrate(ch)
    const started = performance.now()
    let written = 0
    let pending: Promise<unknown> = Promise.resolve()
    for (const rows of eventRowBatches(options, total)) {
      // The next batch is generated while ClickHouse writes this one (chDB runs off the event loop).
      await pending
      pending = ch.client.insert({ table: `${ch.database}.events`, values: rows, format: 'JSONEachRow' })
      written += rows.length
      const seconds = (performance.now() - started) / 1000
      process.stderr.write(`store: ${written}/${total} events (${Math.round(written / seconds)} events/s)\n`)
    }
    await pending
    if (written < total) throw new Error(`store: the generator gave ${written} events, fewer than ${total}`)
    const result = await ch.client.query({
      query: `SELECT count() AS events, toString(min(toDate(occurred_at))) AS firstDay,
                     toString(max(toDate(occurred_at))) AS lastDay
              FROM {db:Identifier}.events WHERE org_id = {org:String}`,
      query_params: { db: ch.database, org: where.org },
      format: 'JSONEachRow',
    })
    const [stats] = await result.json<{ events: number; firstDay: string; lastDay: string }>()
    if (!stats) throw new Error('store: no events after the build')
    process.stderr.write(`store: built in ${((performance.now() - started) / 1000).toFixed(0)} s\n`)
    return { ...where, ...stats }
  } finally {
    await ch.close()
  }
}

/** The first `total` generated events as store rows, built like ingest builds them. */
function* eventRowBatches(options: GenerateOptions, total: number): Generator<EventRow[]> {
  let batch: EventRow[] = []
  let n = 0
  for (const event of generateOrg(options)) {
    batch.push(toEventRow(event))
    if (++n >= total) break
    if (batch.length === INSERT_ROWS) {
      yield batch
      batch = []
    }
  }
  if (batch.length > 0) yield batch
}
