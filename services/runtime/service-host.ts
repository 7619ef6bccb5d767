/**
 * Hosts Dugout's services in one process (the embedded default: chDB allows one process per data
 * folder) or a chosen subset of them (production, against a ClickHouse server). Each service is a
 * `{ start, stop }` pair; the host starts them in dependency order and stops them in reverse.
 */
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client'
import type { DugoutConfig } from '../../schemas/config.schema.ts'
import { createClickHouse, type ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { migrate } from '../clickhouse/migrations.ts'
import { limitHeapGrowth } from './heap-growth.ts'
import { createLogger, type Logger } from './logger.ts'
import { startHttpServer, type HttpServer } from './http-server.ts'
import { ensureLocalApiKey, localApiKeyHashes } from './local-api-key.ts'

export const SERVICE_NAMES = ['collector', 'ingest', 'worker', 'reports'] as const
export type ServiceName = (typeof SERVICE_NAMES)[number]

/** What a service gets from the host: narrow, shared infrastructure, created once. */
export interface HostDeps {
  config: DugoutConfig
  logger: Logger
  clickhouse: ClickHouse
  /**
   * A handle of the service's own on the same ClickHouse, closed with the host. On chDB it is a
   * connection of its own: one connection runs one query at a time, so a service whose queries
   * must not wait behind the others' (ingest's inserts, each recomputation) takes one. A server
   * client already runs queries side by side, and is shared.
   */
  openClickHouse(): ClickHouse
  http: HttpServer
  /** The process's Prometheus registry (operational telemetry), served at GET /metrics. */
  telemetry: Registry
}

/** Whether a hosted service still does its work; one that stopped for good says why. */
export type ServiceHealth = { running: true } | { running: false; reason: string }

export interface Service {
  name: ServiceName
  /** Omitted by a service that cannot stop on its own (it only answers requests). */
  health?(): ServiceHealth
  stop(): Promise<void>
}

export type ServiceStarter = (deps: HostDeps) => Promise<Service>

export interface RunningHost {
  services: ServiceName[]
  http: HttpServer
  clickhouse: ClickHouse
  stop(): Promise<void>
}

export class UnknownServiceError extends Error {
  readonly code = 'UNKNOWN_SERVICE'
}

export function parseServiceList(list: string | undefined): ServiceName[] {
  if (!list) return [...SERVICE_NAMES]
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  for (const name of names) {
    if (!(SERVICE_NAMES as readonly string[]).includes(name)) {
      throw new UnknownServiceError(`--only: unknown service "${name}" (one of ${SERVICE_NAMES.join(', ')})`)
    }
  }
  return SERVICE_NAMES.filter((s) => names.includes(s))
}

/**
 * Starts the chosen services. ClickHouse is opened and migrated first because every service
 * reads or writes it; the HTTP server listens last, once every route is registered.
 */
export async function startHost(
  config: DugoutConfig,
  starters: Partial<Record<ServiceName, ServiceStarter>>,
  only: ServiceName[] = [...SERVICE_NAMES],
  logger: Logger = createLogger(config),
): Promise<RunningHost> {
  limitHeapGrowth(config.DUGOUT_HEAP_GROWTH_PERCENT)
  const clickhouse = createClickHouse(config)
  const applied = await migrate(clickhouse)
  if (applied.length) logger.info({ applied }, 'clickhouse migrations applied')
  const metrics = new Registry()
  collectDefaultMetrics({ register: metrics, prefix: 'dugout_' })
  // The CLI on this machine authenticates with the local key ($DUGOUT_HOME, mode 0600): no set-up.
  const apiKeys = [...config.DUGOUT_API_KEYS, ...localApiKeyHashes(ensureLocalApiKey(config.DUGOUT_HOME))]
  const http = await startHttpServer(config, logger, apiKeys, metrics)
  const opened: ClickHouse[] = []
  const openClickHouse = () => {
    if (clickhouse.engine === 'server') return clickhouse
    const handle = createClickHouse(config)
    opened.push(handle)
    return handle
  }
  const closeClickHouse = async () => {
    for (const handle of opened) await handle.close()
    await clickhouse.close()
  }
  const deps: HostDeps = { config, logger, clickhouse, openClickHouse, http, telemetry: metrics }
  const running: Service[] = []
  // A service that stopped for good fails /healthz, so that a supervisor restarts the process.
  const healthOf = (service: Service): ServiceHealth => service.health?.() ?? { running: true }
  http.setHealth(() => Object.fromEntries(running.map((s) => [s.name, healthOf(s)])))
  new Gauge({
    name: 'dugout_service_up',
    help: '1 while a hosted service runs, 0 once it has stopped for good (see /healthz for why)',
    labelNames: ['service'],
    registers: [metrics],
    collect() {
      for (const service of running) this.set({ service: service.name }, healthOf(service).running ? 1 : 0)
    },
  })
  try {
    for (const name of only) {
      const starter = starters[name]
      if (!starter) continue
      running.push(await starter(deps))
      logger.info({ service: name }, 'service started')
    }
    await http.listen()
  } catch (error) {
    await stopAll(running, logger)
    await http.close()
    await closeClickHouse()
    throw error
  }
  logger.info({ services: running.map((s) => s.name), engine: clickhouse.engine, http: http.url }, 'dugout is running')
  return {
    services: running.map((s) => s.name),
    http,
    clickhouse,
    async stop() {
      await http.close()
      await stopAll(running, logger)
      await closeClickHouse()
    },
  }
}

async function stopAll(running: Service[], logger: Logger): Promise<void> {
  for (const service of [...running].reverse()) {
    try {
      await service.stop()
      logger.info({ service: service.name }, 'service stopped')
    } catch (error) {
      logger.error({ service: service.name, err: error }, 'service failed to stop cleanly')
    }
  }
}
