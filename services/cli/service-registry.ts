/**
 * The services a `dugout run` process can host, by name. Each is loaded when it starts: a process
 * hosting only ingest does not hold the Temporal worker, the reports or the collector in memory
 * (about 6 MiB of V8 heap, most of it the worker's).
 */
import type { ServiceName, ServiceStarter } from '../runtime/service-host.ts'

export const SERVICE_STARTERS: Partial<Record<ServiceName, ServiceStarter>> = {
  collector: async (deps) => (await import('../collector/collector-service.ts')).startCollector(deps),
  ingest: async (deps) => (await import('../ingest/ingest-service.ts')).startIngest(deps),
  worker: async (deps) => (await import('../worker/worker-service.ts')).startWorker(deps),
  reports: async (deps) => (await import('../reports/reports-service.ts')).startReports(deps),
}
