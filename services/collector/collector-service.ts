/**
 * The collector service: CRM events in over HTTP (the events API, HubSpot and Salesforce
 * webhooks), canonical events out to Kafka. It creates the topics if needed, connects the one
 * event producer, registers its routes on the process's HTTP server and its telemetry in the
 * process's registry, and reports ready while the producer is connected.
 */
import type { Kafka } from 'kafkajs'
import type { CollectorConfig } from '../../schemas/collector-config.schema.ts'
import { createEventProducer } from '../kafka/event-producer.ts'
import { createKafka, dugoutTopics, ensureTopics } from '../kafka/kafka-client.ts'
import type { ServiceStarter } from '../runtime/service-host.ts'
import { createCollectorTelemetry } from './collector-telemetry.ts'
import { COLLECTOR_ROUTES, registerCollectorRoutes, type CollectorSettings } from './collector-routes.ts'
import { loadCrmMappings } from './crm-mappings.ts'

/** The routes' settings from the parsed configuration; reads the mapping file. */
export async function collectorSettings(config: CollectorConfig): Promise<CollectorSettings> {
  return {
    hubspotSecrets: config.DUGOUT_HUBSPOT_SECRETS,
    salesforceSecrets: config.DUGOUT_SALESFORCE_SECRETS,
    mappings: await loadCrmMappings(config.DUGOUT_CRM_MAPPINGS),
    maxBodyBytes: config.DUGOUT_COLLECTOR_MAX_BODY_BYTES,
    maxEvents: config.DUGOUT_COLLECTOR_MAX_EVENTS,
    eventsPerSecond: config.DUGOUT_COLLECTOR_RATE_LIMIT,
    ...(config.DUGOUT_PUBLIC_URL === undefined ? {} : { publicUrl: config.DUGOUT_PUBLIC_URL }),
  }
}

/**
 * `kafka` whose producers report their connection state. `createEventProducer` owns its kafkajs
 * producer; watching the producers it creates is how readiness can see it without widening the
 * `EventProducer` interface every writer shares.
 */
export function watchProducerConnection(kafka: Kafka): { kafka: Kafka; connected: () => boolean } {
  let connected = false
  const watched = Object.create(kafka) as Kafka
  watched.producer = (options) => {
    const producer = kafka.producer(options)
    producer.on(producer.events.CONNECT, () => {
      connected = true
    })
    producer.on(producer.events.DISCONNECT, () => {
      connected = false
    })
    return producer
  }
  return { kafka: watched, connected: () => connected }
}

export const startCollector: ServiceStarter = async ({ config, logger, http, telemetry }) => {
  // The mapping file is read first: a bad file stops the boot before anything connects.
  const settings = await collectorSettings(config)
  const kafka = createKafka(config, logger)
  await ensureTopics(kafka, dugoutTopics(config))
  const connection = watchProducerConnection(kafka)
  const producer = await createEventProducer(connection.kafka, config)
  try {
    // The host's registry, which it serves at GET /metrics with every other service's metrics.
    await registerCollectorRoutes(http.app, {
      producer,
      clock: () => new Date(),
      settings,
      telemetry: createCollectorTelemetry(telemetry),
    })
  } catch (error) {
    await producer.disconnect()
    throw error
  }
  http.addReadinessCheck('collector-kafka-producer', async () => connection.connected())
  const orgs = Object.keys(settings.mappings.orgs)
  for (const [crm, secrets] of [
    ['hubspot', settings.hubspotSecrets],
    ['salesforce', settings.salesforceSecrets],
  ] as const) {
    const unmapped = [...secrets.keys()].filter((org) => settings.mappings.orgs[org]?.[crm] === undefined)
    if (unmapped.length > 0) {
      logger.warn(
        { crm, orgs: unmapped },
        'collector: orgs with a webhook secret but no mapping; their deliveries will be dead-lettered',
      )
    }
  }
  logger.info(
    { routes: Object.values(COLLECTOR_ROUTES), mappedOrgs: orgs, apiKeys: config.DUGOUT_API_KEYS.length },
    'collector routes registered',
  )
  return {
    name: 'collector',
    // The host closes the HTTP server first, which waits for requests in flight; only then is
    // the producer disconnected, so no accepted request loses its Kafka acknowledgement.
    stop: () => producer.disconnect(),
  }
}
