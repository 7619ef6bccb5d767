/** The ingest service: wires the consumer to Kafka, the event store, Temporal and the DLQ. */
import { Client, Connection } from '@temporalio/client'
import { defaultLimits } from '../../schemas/event-validation.ts'
import { createEventProducer } from '../kafka/event-producer.ts'
import { createKafka, dugoutTopics, ensureTopics } from '../kafka/kafka-client.ts'
import { getOrgSettings } from '../projections/org-settings.ts'
import type { ServiceStarter } from '../runtime/service-host.ts'
import { createChunkDecoder } from './decode-thread.ts'
import { createClickHouseEventStore } from './event-store.ts'
import { startIngestConsumer } from './ingest-consumer.ts'
import { createIngestTelemetry } from './ingest-telemetry.ts'
import { createTemporalNotifier } from './metrics-notifier.ts'

/** How long an org's time zone is trusted before it is read again. */
const TIME_ZONE_TTL_MS = 60_000

export const startIngest: ServiceStarter = async ({ config, openClickHouse, logger, telemetry, http }) => {
  const log = logger.child({ service: 'ingest' })
  // Inserts of their own: a report or a recomputation never waits behind them, nor they behind it.
  const clickhouse = openClickHouse()
  const kafka = createKafka(config, log)
  await ensureTopics(kafka, dugoutTopics(config))
  const deadLetters = await createEventProducer(kafka, config)
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS })
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE })
  const zones = new Map<string, { zone: string; at: number }>()
  const decoder = createChunkDecoder(config.DUGOUT_INGEST_DECODE_THREADS)
  const running = await startIngestConsumer(
    {
      kafka,
      store: createClickHouseEventStore(clickhouse, openClickHouse()),
      notifier: createTemporalNotifier(client, config.TEMPORAL_TASK_QUEUE),
      deadLetters,
      timeZoneOf: async (org) => {
        const cached = zones.get(org)
        if (cached && Date.now() - cached.at < TIME_ZONE_TTL_MS) return cached.zone
        const zone = (await getOrgSettings(clickhouse, org)).timezone
        zones.set(org, { zone, at: Date.now() })
        return zone
      },
      limits: () => defaultLimits(new Date()),
      decoder,
      logger: log,
      telemetry: createIngestTelemetry(telemetry),
    },
    {
      topic: config.KAFKA_EVENTS_TOPIC,
      groupId: config.KAFKA_CONSUMER_GROUP,
      sessionTimeoutMs: config.KAFKA_SESSION_TIMEOUT_MS,
    },
  )
  // Not ready while out of the group or while a partition is stuck on a batch it cannot decode:
  // the stuck partitions are named, with their offsets and why.
  http.addReadinessCheck('ingest', async () => {
    const stuck = running.stuckPartitions()
    if (stuck.length === 0) return running.joined()
    return { ready: false, detail: { stuckPartitions: stuck } }
  })
  return {
    name: 'ingest',
    health: () => running.health(),
    async stop() {
      await running.stop()
      await decoder.close()
      await deadLetters.disconnect()
      await connection.close()
    },
  }
}
