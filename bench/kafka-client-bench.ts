/**
 * kafkajs 2.2.4 (Dugout's client) against `@platformatic/kafka` on the same broker in the same
 * run, for issue 15's question "switch the Kafka client?". Nothing of the product changes here:
 * the platformatic side is set up as a switch would have to set it up (the Java partitioner, the
 * consumer's fetch limits, acks=all, the codec of KAFKA_COMPRESSION).
 *
 * - produce: the same events (one org, keyed by it, as the generator makes them) in sends of
 *   `dugout import`'s size with as many in flight, through Dugout's own `createEventProducer` for
 *   kafkajs; events/s and CPU per event (whole process, so a codec on the thread pool counts);
 * - consume: one topic (the first kafkajs produced) read from the beginning by a fresh group,
 *   counting messages and nothing else, with ingest's fetch limits; kafkajs through `eachBatch`,
 *   platformatic through its message stream. Timed from `run()` / `consume()` (the group join
 *   included, as the ingest bench times its bare consumer) to the last message.
 *
 * Each is measured `ROUNDS` times, the order of the clients alternating, so a busy spell of the
 * shared machine does not favour one of them. Then, codec by codec, a few batches written by each
 * client are read by the other: what a switch would still fail to read or write.
 *
 * `npm run bench -- kafka-client`; `BENCH_KAFKA_EVENTS` (default 300,000), `KAFKA_COMPRESSION`.
 */
import {
  Consumer as PlatformaticConsumer,
  ProduceAcks,
  Producer as PlatformaticProducer,
  compatibilityPartitioner,
  stringSerializer,
} from '@platformatic/kafka'
import type { Kafka } from 'kafkajs'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import type { DugoutConfig } from '../schemas/config.schema.ts'
import { createEventProducer, type OutgoingEvent } from '../services/kafka/event-producer.ts'
import { createKafka, dugoutTopics, ensureTopics } from '../services/kafka/kafka-client.ts'
import { orgEventLines, printFigures, sleep, type Figure } from './bench-support.ts'

type Client = 'kafkajs' | 'platformatic'

/** Settings of services/ingest/ingest-consumer.ts. */
const FETCH = { maxBytesPerPartition: 1024 * 1024, maxBytes: 8 * 1024 * 1024, maxWaitTimeInMs: 200 }
/** `dugout import`'s batch size and sends in flight (services/collector/file-import.ts). */
const SEND_EVENTS = 5000
const SENDS_IN_FLIGHT = 4
const ROUNDS = 2
const ORG = 'benchkafka'

interface Measure {
  client: Client
  round: number
  rate: number
  cpuPerEventMicros: number
  /** consume only: from run()/consume() to the first message (the group join and first fetch). */
  firstMessageMs?: number
}

export interface KafkaClientResult {
  version: string
  produce: Measure[]
  consume: Measure[]
  figures: Figure[]
}

export async function benchKafkaClient(config: DugoutConfig, total: number): Promise<KafkaClientResult> {
  const id = Date.now().toString(36)
  const kafka = createKafka({ ...config, KAFKA_CLIENT_ID: 'bench' })
  process.stderr.write(`kafka-client: generating ${total} events…\n`)
  const events: OutgoingEvent[] = [...orgEventLines(ORG, total)].map((line) => ({
    orgId: ORG,
    value: Buffer.from(line),
  }))
  const clients: Client[] = ['kafkajs', 'platformatic']
  const order = (round: number) => (round % 2 === 0 ? clients : [...clients].reverse())

  const produce: Measure[] = []
  const consume: Measure[] = []
  let source: string | undefined
  for (let round = 0; round < ROUNDS; round++) {
    for (const client of order(round)) {
      const topic = `bench.kafkaclient.${id}.${client}.${round}`
      await freshTopic(kafka, config, topic)
      process.stderr.write(`kafka-client: round ${round + 1}, ${client} produces ${total} events to ${topic}…\n`)
      const send = client === 'kafkajs' ? produceKafkajs : producePlatformatic
      produce.push({ client, round, ...(await send(kafka, config, topic, events)) })
      source ??= topic
    }
    for (const client of order(round)) {
      process.stderr.write(`kafka-client: round ${round + 1}, ${client} consumes ${source}…\n`)
      const read = client === 'kafkajs' ? consumeKafkajs : consumePlatformatic
      consume.push({
        client,
        round,
        ...(await read(kafka, config, source!, `bench-kafkaclient-${id}-${client}-${round}`, total)),
      })
    }
  }
  await samePartitions(kafka, id)
  const interop = await codecInterop(kafka, config, id)

  const version = platformaticVersion()
  const figures: Figure[] = [
    {
      name: 'events, bytes each (mean), compression',
      value: `${total}, ${meanBytes(events)} B, ${config.KAFKA_COMPRESSION}`,
    },
    { name: 'clients', value: `kafkajs 2.2.4, @platformatic/kafka ${version}` },
  ]
  for (const [what, measures] of [
    ['produce', produce],
    ['consume', consume],
  ] as const) {
    for (const m of measures) {
      figures.push({ name: `${what} round ${m.round + 1}: ${m.client} (events/s)`, value: m.rate.toFixed(0) })
      figures.push({
        name: `${what} round ${m.round + 1}: ${m.client} CPU per event (µs)`,
        value: m.cpuPerEventMicros.toFixed(2),
      })
      if (m.firstMessageMs !== undefined)
        figures.push({
          name: `${what} round ${m.round + 1}: ${m.client} first message after (ms)`,
          value: m.firstMessageMs.toFixed(0),
        })
    }
    const mean = (client: Client, key: 'rate' | 'cpuPerEventMicros') => {
      const of = measures.filter((m) => m.client === client)
      return of.reduce((sum, m) => sum + m[key], 0) / of.length
    }
    figures.push({
      name: `${what}: platformatic ÷ kafkajs, events/s (mean of rounds)`,
      value: (mean('platformatic', 'rate') / mean('kafkajs', 'rate')).toFixed(2),
    })
    figures.push({
      name: `${what}: platformatic ÷ kafkajs, CPU per event`,
      value: (mean('platformatic', 'cpuPerEventMicros') / mean('kafkajs', 'cpuPerEventMicros')).toFixed(2),
    })
  }
  figures.push(...interop)
  return { version, produce, consume, figures }
}

export function printKafkaClient({ figures }: KafkaClientResult): void {
  printFigures('Kafka client: kafkajs against @platformatic/kafka, same broker, same run', figures)
}

/** Runs `work`, returning its events/s and CPU µs per event (every thread of the process). */
async function timed(count: number, work: () => Promise<void>): Promise<{ rate: number; cpuPerEventMicros: number }> {
  const cpu = process.cpuUsage()
  const started = performance.now()
  await work()
  const seconds = (performance.now() - started) / 1000
  const { user, system } = process.cpuUsage(cpu)
  return { rate: count / seconds, cpuPerEventMicros: (user + system) / count }
}

/** Sends in slices of `SEND_EVENTS`, at most `SENDS_IN_FLIGHT` at once, as `dugout import` does. */
async function sendAll(events: readonly OutgoingEvent[], send: (slice: OutgoingEvent[]) => Promise<unknown>) {
  const inFlight: Promise<unknown>[] = []
  for (let i = 0; i < events.length; i += SEND_EVENTS) {
    inFlight.push(send(events.slice(i, i + SEND_EVENTS)))
    if (inFlight.length >= SENDS_IN_FLIGHT) await inFlight.shift()
  }
  await Promise.all(inFlight)
}

async function produceKafkajs(kafka: Kafka, config: DugoutConfig, topic: string, events: readonly OutgoingEvent[]) {
  const producer = await createEventProducer(kafka, {
    ...config,
    KAFKA_EVENTS_TOPIC: topic,
    KAFKA_DLQ_TOPIC: `${topic}.dlq`,
  })
  try {
    return await timed(events.length, () => sendAll(events, (slice) => producer.send(slice)))
  } finally {
    await producer.disconnect()
  }
}

async function producePlatformatic(
  _kafka: Kafka,
  config: DugoutConfig,
  topic: string,
  events: readonly OutgoingEvent[],
) {
  const producer = new PlatformaticProducer({
    clientId: 'bench',
    bootstrapBrokers: config.KAFKA_BROKERS,
    // kafkajs's DefaultPartitioner is Java's (murmur2 & 0x7fffffff); platformatic's default
    // (murmur2 >>> 0) would put an org on another partition than every other client does.
    partitioner: compatibilityPartitioner,
    serializers: { key: stringSerializer },
    acks: ProduceAcks.ALL,
    compression: config.KAFKA_COMPRESSION,
    autocreateTopics: false,
  })
  try {
    await producer.metadata({ topics: [topic] })
    return await timed(events.length, () =>
      sendAll(events, (slice) =>
        producer.send({ messages: slice.map((e) => ({ topic, key: e.orgId, value: e.value as Buffer })) }),
      ),
    )
  } finally {
    await producer.close()
  }
}

async function consumeKafkajs(kafka: Kafka, _config: DugoutConfig, topic: string, groupId: string, total: number) {
  const consumer = kafka.consumer({ groupId, ...FETCH })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  let read = 0
  let firstMessageMs: number | undefined
  const started = performance.now()
  try {
    const measured = await timed(
      total,
      () =>
        new Promise<void>((resolve, reject) => {
          // A batch it cannot decode ends in a crash, not in run()'s promise.
          consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error))
          consumer
            .run({
              eachBatch: async ({ batch }) => {
                firstMessageMs ??= performance.now() - started
                read += batch.messages.length
                if (read >= total) resolve()
              },
            })
            .catch(reject)
        }),
    )
    return { ...measured, firstMessageMs: firstMessageMs! }
  } finally {
    await consumer.disconnect()
  }
}

async function consumePlatformatic(_kafka: Kafka, config: DugoutConfig, topic: string, groupId: string, total: number) {
  const consumer = new PlatformaticConsumer({
    groupId,
    clientId: 'bench',
    bootstrapBrokers: config.KAFKA_BROKERS,
    maxBytesPerPartition: FETCH.maxBytesPerPartition,
    maxBytes: FETCH.maxBytes,
    maxWaitTime: FETCH.maxWaitTimeInMs,
  })
  let read = 0
  let firstMessageMs: number | undefined
  const started = performance.now()
  // Set inside the timed callback, which the compiler's narrowing does not follow.
  const opened: { stream?: Awaited<ReturnType<typeof consumer.consume>> } = {}
  try {
    const measured = await timed(total, async () => {
      // From the group's committed offsets, from the beginning without any: kafkajs's fromBeginning.
      const stream = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest' })
      opened.stream = stream
      await new Promise<void>((resolve, reject) => {
        stream.on('error', reject)
        stream.on('data', () => {
          if (read++ === 0) firstMessageMs = performance.now() - started
          if (read === total) resolve()
        })
      })
    })
    return { ...measured, firstMessageMs: firstMessageMs! }
  } finally {
    await opened.stream?.close().catch(() => undefined)
    await consumer.close()
  }
}

/** Events per codec in the interoperability check: a few record batches. */
const INTEROP_EVENTS = 3000
const INTEROP_TIMEOUT_MS = 20_000

/**
 * Whether each client reads what the other writes, codec by codec. A switch must read what
 * Dugout's producers wrote before it and what other producers write (the Java client frames
 * snappy as xerial does), and write what Dugout's other clients read.
 */
async function codecInterop(kafka: Kafka, config: DugoutConfig, id: string): Promise<Figure[]> {
  const events = [...orgEventLines(ORG, INTEROP_EVENTS)].map((line) => ({ orgId: ORG, value: Buffer.from(line) }))
  const figures: Figure[] = []
  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    const withCodec = { ...config, KAFKA_COMPRESSION: codec }
    for (const [writer, reader] of [
      ['kafkajs', 'platformatic'],
      ['platformatic', 'kafkajs'],
    ] as const) {
      const topic = `bench.kafkacodecs.${id}.${codec}.${writer}`
      process.stderr.write(`kafka-client: ${codec} written by ${writer}, read by ${reader}…\n`)
      await freshTopic(kafka, config, topic)
      const send = writer === 'kafkajs' ? produceKafkajs : producePlatformatic
      const read = reader === 'kafkajs' ? consumeKafkajs : consumePlatformatic
      let outcome = 'reads it'
      try {
        await send(kafka, withCodec, topic, events).catch((error: unknown) => {
          throw new Error(`${writer} cannot write it`, { cause: error })
        })
        await Promise.race([
          read(kafka, withCodec, topic, `bench-kafkacodecs-${id}-${codec}-${writer}`, events.length),
          sleep(INTEROP_TIMEOUT_MS).then(() => {
            throw new Error(`nothing read in ${INTEROP_TIMEOUT_MS / 1000} s`)
          }),
        ])
      } catch (error) {
        outcome = `fails: ${rootMessage(error)}`
      }
      figures.push({ name: `${codec}: ${writer} writes, ${reader}`, value: outcome })
    }
  }
  return figures
}

/** The innermost message of an error: platformatic wraps the broker's or codec's in `errors` or `cause`. */
function rootMessage(error: unknown): string {
  const messages: string[] = []
  for (let e = error as { message?: string; errors?: unknown[]; cause?: unknown } | undefined; e;) {
    if (e.message) messages.push(e.message)
    e = (e.errors?.[0] ?? e.cause) as typeof e
  }
  return [messages[0], ...messages.slice(1).slice(-1)].join(': ')
}

/** A new topic of Dugout's layout, once the broker answers for it (a fresh topic can say it is unknown). */
async function freshTopic(kafka: Kafka, config: DugoutConfig, topic: string): Promise<void> {
  await ensureTopics(kafka, dugoutTopics({ ...config, KAFKA_EVENTS_TOPIC: topic, KAFKA_DLQ_TOPIC: `${topic}.dlq` }))
  const admin = kafka.admin()
  await admin.connect()
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const offsets = await admin.fetchTopicOffsets(topic)
        if (offsets.length === config.KAFKA_PARTITIONS) return
      } catch (error) {
        if (attempt >= 50) throw error
      }
      await sleep(200)
    }
  } finally {
    await admin.disconnect()
  }
}

/**
 * Both clients must put the org on the same partition (the Java client's): a switch that moved
 * an org to another partition would reorder its events across the switch.
 */
async function samePartitions(kafka: Kafka, id: string): Promise<void> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const topics = (await admin.listTopics()).filter(
      (t) => t.startsWith(`bench.kafkaclient.${id}.`) && !t.endsWith('.dlq'),
    )
    const used = await Promise.all(
      topics.map(async (topic) =>
        (await admin.fetchTopicOffsets(topic))
          .filter((p) => p.high !== '0')
          .map((p) => p.partition)
          .join(','),
      ),
    )
    if (new Set(used).size !== 1) {
      throw new Error(
        `kafka-client: the clients put the org on different partitions: ${topics.map((t, i) => `${t} ${used[i]}`).join('; ')}`,
      )
    }
  } finally {
    await admin.disconnect()
  }
}

/** The version installed (its package exports no version, nor its package.json). */
const platformaticVersion = (): string => {
  const entry = createRequire(import.meta.url).resolve('@platformatic/kafka')
  const manifest = path.join(path.dirname(entry), '..', 'package.json')
  return (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version
}

const meanBytes = (events: readonly OutgoingEvent[]) =>
  Math.round(events.reduce((sum, e) => sum + Buffer.byteLength(e.value), 0) / events.length)
