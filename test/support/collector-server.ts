/**
 * The collector's routes on a real HTTP server with the real Kafka producer, for integration
 * tests: one write key of `acme`, no webhook secrets nor mappings, topics of the test's config.
 */
import Fastify, { type FastifyInstance } from 'fastify'
import type { Kafka } from 'kafkajs'
import type { DugoutConfig } from '../../schemas/config.schema.ts'
import { registerCollectorRoutes, type CollectorSettings } from '../../services/collector/collector-routes.ts'
import { NO_MAPPINGS } from '../../services/collector/crm-mappings.ts'
import { createEventProducer, type EventProducer } from '../../services/kafka/event-producer.ts'
import { dugoutTopics, ensureTopics } from '../../services/kafka/kafka-client.ts'
import { apiKeyHash } from '../../services/runtime/api-keys.ts'
import { installHttpApi } from '../../services/runtime/http-api.ts'

export interface CollectorServer {
  app: FastifyInstance
  producer: EventProducer
  url: string
  close(): Promise<void>
}

export async function startCollectorServer(
  kafka: Kafka,
  config: DugoutConfig,
  key: string,
  settings: Partial<CollectorSettings> = {},
): Promise<CollectorServer> {
  await ensureTopics(kafka, dugoutTopics(config))
  const producer = await createEventProducer(kafka, config)
  const app = Fastify()
  await installHttpApi(app, { apiKeys: [apiKeyHash('acme', key, 'write')] })
  await registerCollectorRoutes(app, {
    producer,
    clock: () => new Date(),
    settings: {
      hubspotSecrets: new Map(),
      salesforceSecrets: new Map(),
      mappings: NO_MAPPINGS,
      maxBodyBytes: config.DUGOUT_COLLECTOR_MAX_BODY_BYTES,
      ...settings,
    },
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    app,
    producer,
    url,
    async close() {
      await app.close()
      await producer.disconnect()
    },
  }
}
