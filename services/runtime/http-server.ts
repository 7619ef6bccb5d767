/**
 * The one HTTP server of a Dugout process. Services register their routes on it (collector:
 * events and webhooks; reports: report queries) before it listens. It comes with the API's
 * plumbing (http-api.ts: API keys on every org route, zod validation, problem+json errors,
 * `GET /openapi.json`); health, readiness and `/metrics` are operational and stay open.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import type { ApiKeyHash } from '../../schemas/collector-config.schema.ts'
import type { HttpConfig } from '../../schemas/config.schema.ts'
import { installHttpApi } from './http-api.ts'
import type { Logger } from './logger.ts'

/** Ready or not; a check that is not ready may say why (it is shown in /readyz). */
export type ReadinessCheck = () => Promise<boolean | { ready: boolean; detail: unknown }>

/** Each hosted service's health, by name (see `ServiceHealth` in service-host.ts). */
export type HealthReport = () => Record<string, { running: true } | { running: false; reason: string }>

export interface HttpServer {
  app: FastifyInstance
  /** Registers a named check that /readyz runs. */
  addReadinessCheck(name: string, check: ReadinessCheck): void
  /** What /healthz reports: it fails (503) while any service has stopped for good. */
  setHealth(report: HealthReport): void
  listen(): Promise<void>
  close(): Promise<void>
  url: string
}

/**
 * A server whose org routes accept `apiKeys` (`DUGOUT_API_KEYS`, and the local key under
 * `dugout run`); none accepted at all when the list is empty.
 */
export async function startHttpServer(
  config: HttpConfig,
  logger: Logger,
  apiKeys: readonly ApiKeyHash[],
  metrics?: Registry,
): Promise<HttpServer> {
  // Fastify logs each request at info: the http component's logger keeps warnings and errors.
  const app = Fastify({ loggerInstance: logger.child({ component: 'http' }, { level: 'warn' }) as FastifyBaseLogger })
  await installHttpApi(app, { apiKeys })
  const checks = new Map<string, ReadinessCheck>()
  let health: HealthReport = () => ({})
  // Liveness: the process is alive while every hosted service still runs. A service that gave up
  // (ingest after repeated crashes, a worker that stopped) makes it fail, so that a supervisor or
  // an orchestrator's liveness probe restarts the process instead of leaving it silently idle.
  app.get('/healthz', async (_request, reply) => {
    const services = health()
    const failing = Object.entries(services).filter(([, h]) => !h.running)
    if (failing.length === 0) return { status: 'ok', services }
    return reply.code(503).send({ status: 'failing', services })
  })
  if (metrics) {
    app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.metrics()))
  }
  app.get('/readyz', async (_request, reply) => {
    const answers = await Promise.all(
      [...checks].map(async ([name, check]) => {
        const answer = await check().catch(() => false)
        return [name, typeof answer === 'boolean' ? { ready: answer } : answer] as const
      }),
    )
    const ready = answers.every(([, a]) => a.ready)
    return reply.code(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not ready',
      checks: Object.fromEntries(answers.map(([name, a]) => [name, a.ready])),
      ...(answers.some(([, a]) => 'detail' in a)
        ? {
            details: Object.fromEntries(
              answers.filter(([, a]) => 'detail' in a).map(([n, a]) => [n, (a as { detail: unknown }).detail]),
            ),
          }
        : {}),
    })
  })
  const url = `http://${config.DUGOUT_HTTP_HOST}:${config.DUGOUT_HTTP_PORT}`
  return {
    app,
    url,
    addReadinessCheck: (name, check) => checks.set(name, check),
    setHealth: (report) => (health = report),
    listen: async () => {
      await app.listen({ host: config.DUGOUT_HTTP_HOST, port: config.DUGOUT_HTTP_PORT })
    },
    close: () => app.close(),
  }
}
