/** The services a `dugout run` process can host, by name. */
import { startCollector } from '../collector/collector-service.ts'
import { startIngest } from '../ingest/ingest-service.ts'
import { startReports } from '../reports/reports-service.ts'
import { startWorker } from '../worker/worker-service.ts'
import type { ServiceName, ServiceStarter } from '../runtime/service-host.ts'

export const SERVICE_STARTERS: Partial<Record<ServiceName, ServiceStarter>> = {
  collector: startCollector,
  ingest: startIngest,
  worker: startWorker,
  reports: startReports,
}
