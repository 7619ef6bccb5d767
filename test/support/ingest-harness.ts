/** An in-process ingest against the real Kafka, ClickHouse (chDB) and Temporal, for tests. */
import { Client, Connection } from '@temporalio/client'
import type { Kafka } from 'kafkajs'
import { pino } from 'pino'
import { waitFor } from '../../infra/stack/processes.ts'
import { defaultLimits, type ValidationLimits } from '../../schemas/event-validation.ts'
import type { ClickHouse } from '../../services/clickhouse/clickhouse-client.ts'
import { migrate } from '../../services/clickhouse/migrations.ts'
import { createEventProducer, type EventProducer } from '../../services/kafka/event-producer.ts'
import { createKafka, dugoutTopics, ensureTopics } from '../../services/kafka/kafka-client.ts'
import { createChunkDecoder, type ChunkDecoder } from '../../services/ingest/decode-thread.ts'
import { createClickHouseEventStore, type EventStore } from '../../services/ingest/event-store.ts'
import {
  startIngestConsumer,
  type RunningIngest,
  type SupervisionOptions,
} from '../../services/ingest/ingest-consumer.ts'
import { createTemporalNotifier, type MetricsNotifier } from '../../services/ingest/metrics-notifier.ts'
import type { CrmEvent } from '../../schemas/events.schema.ts'
import { bodyHash } from '../../services/ingest/event-rows.ts'
import { config, uniqueName } from './env.ts'
export { committedAll } from '../../services/kafka/consumer-progress.ts'
import { activityEvent, prng, shuffle } from './synthetic-events.ts'

export interface IngestHarness {
  kafka: Kafka
  topic: string
  dlqTopic: string
  producer: EventProducer
  temporal: Client
  taskQueue: string
  groupId: string
  start(
    options?: {
      store?: EventStore
      notifier?: MetricsNotifier
      maxBackoffMs?: number
      chunkMessages?: number
      /** Decoding threads (`DUGOUT_INGEST_DECODE_THREADS`); the configured number by default. */
      decodeThreads?: number
      /** The validation limits of each chunk; a test can make it throw to crash the consumer. */
      limits?: () => ValidationLimits
    } & SupervisionOptions,
  ): Promise<RunningIngest>
  close(): Promise<void>
}

export async function ingestHarness(
  ch: ClickHouse,
  prefix: string,
  brokers = config.KAFKA_BROKERS,
): Promise<IngestHarness> {
  await migrate(ch)
  const topic = uniqueName(`${prefix}.events`)
  const dlqTopic = uniqueName(`${prefix}.dlq`)
  const kafka = createKafka({ ...config, KAFKA_BROKERS: brokers, KAFKA_CLIENT_ID: prefix }, undefined, {
    retry: { initialRetryTime: 300, retries: 12 },
  })
  await ensureTopics(
    kafka,
    dugoutTopics({ ...config, KAFKA_EVENTS_TOPIC: topic, KAFKA_DLQ_TOPIC: dlqTopic, KAFKA_PARTITIONS: 3 }),
  )
  const producer = await createEventProducer(kafka, { ...config, KAFKA_EVENTS_TOPIC: topic, KAFKA_DLQ_TOPIC: dlqTopic })
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS })
  const temporal = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE })
  const taskQueue = uniqueName(`${prefix}-queue`)
  const groupId = uniqueName(`${prefix}-group`)
  const running: RunningIngest[] = []
  // Decoded as the service decodes (decode-thread.ts), unless a test asks for a decoding thread.
  const decoders: ChunkDecoder[] = []
  const decoderOf = (threads: number) => {
    const decoder = createChunkDecoder(threads)
    decoders.push(decoder)
    return decoder
  }
  return {
    kafka,
    topic,
    dlqTopic,
    producer,
    temporal,
    taskQueue,
    groupId,
    async start(options = {}) {
      const ingest = await startIngestConsumer(
        {
          kafka,
          store: options.store ?? createClickHouseEventStore(ch),
          notifier: options.notifier ?? createTemporalNotifier(temporal, taskQueue),
          deadLetters: producer,
          timeZoneOf: async () => 'UTC',
          limits: options.limits ?? (() => defaultLimits(new Date())),
          decoder: decoderOf(options.decodeThreads ?? config.DUGOUT_INGEST_DECODE_THREADS),
          logger: pino({ level: 'silent' }),
        },
        {
          ...options,
          topic,
          groupId,
          maxBackoffMs: options.maxBackoffMs ?? 2000,
        },
      )
      running.push(ingest)
      return ingest
    },
    async close() {
      for (const r of running) await r.stop().catch(() => undefined)
      for (const d of decoders) await d.close()
      await producer.disconnect()
      await connection.close()
    },
  }
}

/** Polls `probe` until it returns a value (errors count as "not yet"); the stack launcher's `waitFor`. */
export function waitUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  return waitFor(what, timeoutMs, probe, () => '')
}

/** Reads a topic from the beginning until `count` messages arrived. */
export async function readTopic(kafka: Kafka, topic: string, count: number, timeoutMs = 60_000) {
  const consumer = kafka.consumer({ groupId: uniqueName('reader') })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const messages: { key: string | null; value: Buffer; headers: Record<string, string> }[] = []
  await consumer.run({
    eachMessage: async ({ message }) => {
      messages.push({
        key: message.key?.toString() ?? null,
        value: message.value ?? Buffer.alloc(0),
        headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
      })
    },
  })
  try {
    await waitUntil(
      `${count} messages on ${topic}`,
      async () => (messages.length >= count ? true : undefined),
      timeoutMs,
    )
  } finally {
    await consumer.disconnect()
  }
  return messages
}

/** Rows of an org in the event store: physical rows (before any merge), distinct ids, checksum. */
export async function storeSummary(ch: ClickHouse, org: string) {
  const result = await ch.client.query({
    query: `SELECT count() AS rows, uniqExact(event_id) AS unique_ids, toString(sum(body_hash)) AS checksum
            FROM {db:Identifier}.events WHERE org_id = {org:String}`,
    query_params: { db: ch.database, org },
    format: 'JSONEachRow',
  })
  const [row] = await result.json<{ rows: number; unique_ids: number; checksum: string }>()
  return row!
}

/** A stream with 5% exact duplicates, shuffled; returns the unique events too. */
export function streamWithDuplicates(org: string, count: number, seed: number, firstIndex = 0) {
  const random = prng(seed)
  const unique = Array.from({ length: count }, (_, i) => activityEvent(org, firstIndex + i, random))
  const duplicates = Array.from(
    { length: Math.round(count * 0.05) },
    () => unique[Math.floor(random() * unique.length)]!,
  )
  return {
    unique,
    messages: shuffle([...unique, ...duplicates], random).map((e) => ({ orgId: org, value: JSON.stringify(e) })),
  }
}

export async function produceAll(producer: EventProducer, messages: { orgId: string; value: string }[]) {
  for (let i = 0; i < messages.length; i += 5000) await producer.send(messages.slice(i, i + 5000))
}

/** sum of body hashes modulo 2^64, as ClickHouse's sum(UInt64) wraps. */
export const checksumOf = (events: CrmEvent[]) =>
  (events.reduce((sum, e) => sum + BigInt(bodyHash(e)), 0n) % 2n ** 64n).toString()

/** Waits until every expected event is stored, then returns the store's summary for the org. */
export async function waitForStored(ch: ClickHouse, org: string, expected: CrmEvent[], timeoutMs = 180_000) {
  return waitUntil(
    `all ${expected.length} events of ${org} stored`,
    async () => {
      const s = await storeSummary(ch, org)
      return s.unique_ids >= expected.length ? s : undefined
    },
    timeoutMs,
  )
}
