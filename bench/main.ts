/**
 * `npm run bench [-- <name>…]`: Dugout's speed and memory targets, measured on this machine
 * against the real local stack. Names: import, ingest, freshness, backfill, rebuild, reports,
 * validation (in process, no stack), kafka-client (kafkajs against @platformatic/kafka) (default: all).
 */
import { loadConfig } from '../schemas/config.schema.ts'
import { stackUp } from '../infra/stack/local-stack.ts'
import { benchIngest, printBackfill, printIngest } from './ingest-bench.ts'
import { benchImport, printImport } from './import-bench.ts'
import { benchBackfill, printBackfill as printMetricsBackfill } from './backfill-bench.ts'
import { benchFreshness, benchFreshnessTenants, printFreshness, printFreshnessTenants } from './freshness-bench.ts'
import { bigOrgStore } from './big-org-store.ts'
import { benchRebuild, printRebuild } from './rebuild-bench.ts'
import { benchReports, printReports } from './reports-bench.ts'
import { benchValidation, printValidation } from './validation-bench.ts'
import { benchKafkaClient, printKafkaClient } from './kafka-client-bench.ts'

const config = loadConfig(process.env)
const all = ['import', 'ingest', 'freshness', 'backfill', 'rebuild', 'reports', 'validation', 'kafka-client'] as const
const chosen = process.argv.slice(2).filter((a) => !a.startsWith('-'))
if (chosen.includes('soak')) await (await import('./soak-bench.ts')).soakMain(config).then(() => process.exit(0))
for (const name of chosen) {
  if (!(all as readonly string[]).includes(name)) {
    process.stderr.write(`bench: unknown benchmark "${name}" (one of ${all.join(', ')})\n`)
    process.exit(2)
  }
}
const run = chosen.length ? chosen : [...all]
if (run.includes('validation')) printValidation(benchValidation(Number(process.env.BENCH_VALIDATION_EVENTS ?? 100_000)))
if (run.some((name) => name !== 'validation'))
  await stackUp(config, (line) => process.stderr.write(`[stack] ${line}\n`))
const imported = run.includes('import')
  ? await benchImport(config, Number(process.env.BENCH_IMPORT_EVENTS ?? 1_000_000))
  : undefined
if (imported) printImport(imported)
const ingested = run.includes('ingest')
  ? await benchIngest(config, Number(process.env.BENCH_INGEST_EVENTS ?? 300_000))
  : undefined
if (ingested) printIngest(ingested)
if (imported && ingested) printBackfill(imported, ingested)
if (run.includes('kafka-client'))
  printKafkaClient(await benchKafkaClient(config, Number(process.env.BENCH_KAFKA_EVENTS ?? 300_000)))
if (run.includes('freshness')) {
  const seconds = Number(process.env.BENCH_FRESHNESS_SECONDS ?? 60)
  // BENCH_FRESHNESS_TENANTS_ONLY=1: only the multi-tenant row.
  if (process.env.BENCH_FRESHNESS_TENANTS_ONLY !== '1')
    printFreshness(await benchFreshness(config, Number(process.env.BENCH_FRESHNESS_RATE ?? 2000), seconds))
  printFreshnessTenants(
    await benchFreshnessTenants(
      config,
      Number(process.env.BENCH_FRESHNESS_TENANT_RATE ?? 1000),
      seconds,
      Number(process.env.BENCH_FRESHNESS_TENANTS ?? 100),
    ),
  )
}
if (run.includes('backfill')) {
  printMetricsBackfill(
    await benchBackfill(
      config,
      Number(process.env.BENCH_BACKFILL_EVENTS ?? 20_000),
      Number(process.env.BENCH_BACKFILL_ORGS ?? 50),
    ),
  )
}
if (run.includes('rebuild') || run.includes('reports')) {
  // Both read the same big org's store: built once (minutes), then cached between runs.
  const store = await bigOrgStore(config, Number(process.env.BENCH_REBUILD_EVENTS ?? 10_000_000))
  if (run.includes('rebuild')) printRebuild(await benchRebuild(config, store))
  if (run.includes('reports')) {
    printReports(await benchReports(config, store, Number(process.env.BENCH_REPORT_WINDOWS ?? 30)))
  }
}
process.exit(0)
