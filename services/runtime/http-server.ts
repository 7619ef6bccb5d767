/**
 * The one HTTP server of a Dugout process. Services register their routes on it (collector:
 * events and webhooks; reports: report queries) before it listens; health and readiness are
 * built in.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Registry } from 'prom-client'
import type { HttpConfig } from '../../schemas/config.schema.ts'
import type { Logger } from './logger.ts'

export type ReadinessCheck = () => Promise<boolean>

export interface HttpServer {
  app: FastifyInstance
  /** Registers a named check that /readyz runs. */
  addReadinessCheck(name: string, check: ReadinessCheck): void
  listen(): Promise<void>
  close(): Promise<void>
  url: string
}

export async function startHttpServer(config: HttpConfig, logger: Logger, metrics?: Registry): Promise<HttpServer> {
  // Fastify logs each request at info: the http component's logger keeps warnings and errors.
  const app = Fastify({ loggerInstance: logger.child({ component: 'http' }, { level: 'warn' }) as FastifyBaseLogger })
  const checks = new Map<string, ReadinessCheck>()
  app.get('/healthz', async () => ({ status: 'ok' }))
  if (metrics) {
    app.get('/metrics', async (_request, reply) => reply.type(metrics.contentType).send(await metrics.metrics()))
  }
  app.get('/readyz', async (_request, reply) => {
    const results = Object.fromEntries(
      await Promise.all([...checks].map(async ([name, check]) => [name, await check().catch(() => false)] as const)),
    )
    const ready = Object.values(results).every(Boolean)
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: results })
  })
  const url = `http://${config.DUGOUT_HTTP_HOST}:${config.DUGOUT_HTTP_PORT}`
  return {
    app,
    url,
    addReadinessCheck: (name, check) => checks.set(name, check),
    listen: async () => {
      await app.listen({ host: config.DUGOUT_HTTP_HOST, port: config.DUGOUT_HTTP_PORT })
    },
    close: () => app.close(),
  }
}
