/**
 * Report latency (target p95 ≤ 100 ms): `runReport` in-process, and the same through the reports
 * HTTP API (auth, validation, JSON), for each report over 1-week and 12-week ranges of the big org's store
 * (`big-org-store.ts`, 10 M events by default), on many different windows after one warm-up. The
 * windows end on different weekdays, so ranges cut weeks anywhere. Before timing, one window per
 * range is checked against the reference computed from the event store.
 */
import type { DugoutConfig } from '../schemas/config.schema.ts'
import type { ClickHouse } from '../services/clickhouse/clickhouse-client.ts'
import { addDays } from '../services/projections/days.ts'
import { createProjectionActivities } from '../services/projections/projection-activities.ts'
import { freePort } from '../infra/stack/processes.ts'
import { pino } from 'pino'
import { REPORT_NAMES, runReport, runReportFromEvents, type ReportName } from '../services/reports/report-queries.ts'
import { registerReportRoutes } from '../services/reports/reports-service.ts'
import { apiKeyHash, generateApiKey } from '../services/runtime/api-keys.ts'
import { startHttpServer } from '../services/runtime/http-server.ts'
import { openBigOrgStore, type BigOrgStore } from './big-org-store.ts'
import { percentile, printFigures, type Figure } from './bench-support.ts'

const TARGET_P95_MS = 100
const RANGES = [
  { label: '1 week', days: 7 },
  { label: '12 weeks', days: 84 },
]
/** Days between the ends of two windows: not a multiple of 7, so the weekday moves. */
const WINDOW_STEP_DAYS = 5

export async function benchReports(config: DugoutConfig, store: BigOrgStore, windows: number): Promise<Figure[]> {
  const ch = openBigOrgStore(config, store)
  const http = await reportsOverHttp(config, ch, store.org)
  try {
    await ensureProjections(ch, store)
    const figures: Figure[] = []
    const ends = windowEnds(store, windows)
    for (const range of RANGES) {
      process.stderr.write(`reports: ${range.label}, ${ends.length} windows × ${REPORT_NAMES.length} reports…\n`)
      const checked = await matchesReference(ch, store.org, range.days, ends[0]!)
      figures.push({ name: `${range.label}: projections = reference`, value: checked ? 'yes' : 'NO', ok: checked })
      const inProcess = await timeReports(ch, store.org, range.days, ends, (name, params) =>
        runReport(ch, name, params),
      )
      const overHttp = await timeReports(ch, store.org, range.days, ends, (name, params) => http.report(name, params))
      for (const name of REPORT_NAMES) {
        for (const [via, latencies] of [
          ['in-process', inProcess],
          ['HTTP API', overHttp],
        ] as const) {
          const ms = latencies.get(name)!
          const p95 = percentile(ms, 0.95)
          figures.push({
            name: `${range.label} ${name} ${via} p50 / p95 (ms)`,
            value: `${percentile(ms, 0.5).toFixed(0)} / ${p95.toFixed(0)}`,
            target: `p95 ≤ ${TARGET_P95_MS} ms`,
            ok: p95 <= TARGET_P95_MS,
          })
        }
      }
    }
    return figures
  } finally {
    await http.close()
    await ch.close()
  }
}

/**
 * The reports routes of `dugout run` on the store, on a free local port, with a read key of the
 * org: what `dugout report` and a BI script pay on top of the query (auth, validation, JSON).
 */
async function reportsOverHttp(config: DugoutConfig, ch: ClickHouse, org: string) {
  const key = generateApiKey()
  const server = await startHttpServer(
    { ...config, DUGOUT_HTTP_HOST: '127.0.0.1', DUGOUT_HTTP_PORT: await freePort() },
    pino({ level: 'silent' }),
    [apiKeyHash(org, key, 'read')],
  )
  registerReportRoutes(server.app, ch)
  await server.listen()
  return {
    async report(name: ReportName, params: { org: string; from: string; to: string }) {
      const query = new URLSearchParams({ from: params.from, to: params.to })
      const response = await fetch(`${server.url}/v1/orgs/${params.org}/reports/${name}?${query}`, {
        headers: { authorization: `Bearer ${key}` },
      })
      if (!response.ok) throw new Error(`${name}: HTTP ${response.status} ${await response.text()}`)
      return response.json()
    },
    close: () => server.close(),
  }
}

export function printReports(figures: Figure[]): void {
  printFigures('Reports: latency over the metric projections, in-process and through the HTTP API', figures)
}

/**
 * Projects every day of the store's org unless that was done (by the rebuild benchmark, or an
 * earlier run): `reports` alone on a fresh store still measures reports, not empty tables.
 */
async function ensureProjections(ch: ClickHouse, store: BigOrgStore): Promise<void> {
  const projections = createProjectionActivities({ ch })
  const days = await projections.listEventDays({ org: store.org })
  const result = await ch.client.query({
    query: 'SELECT uniqExact(day) AS n FROM {db:Identifier}.metric_days WHERE org_id = {org:String}',
    query_params: { db: ch.database, org: store.org },
    format: 'JSONEachRow',
  })
  const [projected] = await result.json<{ n: number }>()
  if (Number(projected?.n ?? 0) >= days.length) return
  process.stderr.write(`reports: projecting ${days.length} days first (no rebuild in this store yet)…\n`)
  for (let i = 0; i < days.length; i += 31) {
    await projections.recomputeDays({ org: store.org, days: days.slice(i, i + 31) })
    process.stderr.write(`reports: ${Math.min(i + 31, days.length)}/${days.length} days projected\n`)
  }
}

/** Last days of `count` windows, latest first, `WINDOW_STEP_DAYS` apart. */
function windowEnds(store: BigOrgStore, count: number): string[] {
  return Array.from({ length: count }, (_, i) => addDays(store.lastDay, -i * WINDOW_STEP_DAYS))
}

async function matchesReference(ch: ClickHouse, org: string, length: number, to: string): Promise<boolean> {
  const params = { org, from: addDays(to, -(length - 1)), to }
  for (const name of REPORT_NAMES) {
    const [fast, reference] = [await runReport(ch, name, params), await runReportFromEvents(ch, name, params)]
    if (JSON.stringify(fast) !== JSON.stringify(reference)) {
      process.stderr.write(`reports: ${name} ${params.from}..${params.to} differs from the reference\n`)
      return false
    }
  }
  return true
}

/**
 * Milliseconds of each report on each window. The reports take turns on each window, so that a
 * burst of load on this shared machine spreads over all of them rather than hitting one.
 */
async function timeReports(
  ch: ClickHouse,
  org: string,
  length: number,
  ends: string[],
  report: (name: ReportName, params: { org: string; from: string; to: string }) => Promise<unknown>,
): Promise<Map<string, number[]>> {
  const latencies = new Map<string, number[]>(REPORT_NAMES.map((name) => [name, []]))
  const warmUp = ends[ends.length - 1]!
  for (const name of REPORT_NAMES) await report(name, { org, from: addDays(warmUp, -(length - 1)), to: warmUp })
  for (const to of ends) {
    for (const name of REPORT_NAMES) {
      const started = performance.now()
      await report(name, { org, from: addDays(to, -(length - 1)), to })
      latencies.get(name)!.push(performance.now() - started)
    }
  }
  return latencies
}
