/**
 * Ingest throughput against two limits measured in the same run: a bare kafkajs consumer reading
 * the same topic (what Kafka and its client cost, no work at all), and chDB's own insert of the
 * same NDJSON into the same table without validation (what the engine costs). The bare consumer
 * runs twice: as kafkajs is released (its own gzip codec and record-batch decoder), the issue's
 * yardstick, and as ingest reads, with Dugout's codecs (`services/kafka/kafka-codecs.ts`: gzip
 * read into larger chunks) and decoder (`services/kafka/record-batch-decoder.ts`). Also the ingest
 * process's CPU per event and peak memory. Ingest runs as its own process, `dugout run --only
 * ingest`, exactly as in production with the embedded engine.
 *
 * The three are measured in rounds, one after the other (BENCH_INGEST_ROUNDS, default 3), and the
 * figures are the medians: on a shared 2-core machine one measurement of the same code varies by
 * a third from one minute to the next, and a ratio is taken within a round, where both of its
 * sides ran in the same spell.
 *
 * To see where the time goes: `BENCH_LOG_LEVEL=debug` puts each chunk's step timings (decode,
 * lookup, insert, signal, commit) in the process log, and `BENCH_NODE_ARGS='--cpu-prof
 * --cpu-prof-dir=/tmp/prof'` profiles the ingest process.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import kafkajs, { CompressionTypes, type Kafka } from 'kafkajs'
import { PROJECT_ROOT, type DugoutConfig } from '../schemas/config.schema.ts'
import type { ImportResult } from './import-bench.ts'
import { createClickHouse } from '../services/clickhouse/clickhouse-client.ts'
import { migrate } from '../services/clickhouse/migrations.ts'
import { CHUNK_MESSAGES } from '../services/ingest/ingest-consumer.ts'
import { createEventProducer } from '../services/kafka/event-producer.ts'
import { partitionsBehindWith } from '../services/kafka/consumer-progress.ts'
import { dugoutTopics, ensureTopics, createKafka } from '../services/kafka/kafka-client.ts'
import { useRecordBatchDecoder } from '../services/kafka/record-batch-guard.ts'
import {
  benchLogLevel,
  cpuSeconds,
  median,
  orgEventLines,
  peakRssMiB,
  residentMiB,
  printFigures,
  sleep,
  tmp,
  type Figure,
} from './bench-support.ts'

const CONSUMER_SETTINGS = { maxBytesPerPartition: 1024 * 1024, maxBytes: 8 * 1024 * 1024, maxWaitTimeInMs: 200 }

export interface IngestResult {
  rate: number
  cpuPerEventMicros: number
  peakMiB: number
  bareRate: number
  engineRate: number
  figures: Figure[]
}

export async function benchIngest(config: DugoutConfig, total: number): Promise<IngestResult> {
  const id = Date.now().toString(36)
  const topic = `bench.ingest.${id}`
  const kafka = createKafka({ ...config, KAFKA_CLIENT_ID: 'bench' })
  const topicConfig = { ...config, KAFKA_EVENTS_TOPIC: topic, KAFKA_DLQ_TOPIC: `${topic}.dlq` }
  await ensureTopics(kafka, dugoutTopics(topicConfig))
  const producer = await createEventProducer(kafka, topicConfig)
  process.stderr.write(`ingest: producing ${total} events to ${topic}…\n`)
  let batch: { orgId: string; value: string }[] = []
  const lines = [...orgEventLines('bench', total)]
  for (const line of lines) {
    batch.push({ orgId: 'bench', value: line })
    if (batch.length === 5000) {
      await producer.send(batch)
      batch = []
    }
  }
  await producer.send(batch)
  await producer.disconnect()

  const rounds: Round[] = []
  for (let round = 1; round <= ROUNDS; round++) {
    process.stderr.write(`ingest: round ${round} of ${ROUNDS}\n`)
    const bare = await asReleased(() => bareConsumer(kafka, topic, total, `${id}-${round}`, 'kafkajs as released'))
    const bareDugout = await bareConsumer(
      kafka,
      topic,
      total,
      `${id}-${round}-dugout`,
      "as ingest reads: Dugout's codecs and decoder",
    )
    const ingest = await ingestProcess(config, kafka, topic, `${id}-${round}`)
    const engine = await engineInsert(config, lines)
    rounds.push({ bare, bareDugout, ingest, engine })
  }

  const cores = os.cpus().length
  const m = (f: (r: Round) => number) => median(rounds.map(f))
  const bareRate = m((r) => total / r.bare.seconds)
  const ingestRate = m((r) => total / r.ingest.seconds)
  const engineRate = m((r) => r.engine.rate)
  const cpuPerEvent = m((r) => (r.ingest.cpuSeconds / total) * 1e6)
  const peak = Math.max(...rounds.map((r) => r.ingest.peakMiB))
  // Each ratio is taken within a round (its two sides measured minutes apart at most, in the same
  // spell of a shared machine), then the median of the rounds.
  const toBare = m((r) => r.bare.seconds / r.ingest.seconds)
  const toBareDugout = m((r) => r.bareDugout.seconds / r.ingest.seconds)
  const perRound = (f: (r: Round) => number, digits = 0) => rounds.map((r) => f(r).toFixed(digits)).join(', ')
  return {
    rate: ingestRate,
    cpuPerEventMicros: cpuPerEvent,
    peakMiB: peak,
    bareRate,
    engineRate,
    figures: [
      { name: 'events', value: String(total) },
      { name: 'rounds (medians below; BENCH_INGEST_ROUNDS)', value: String(ROUNDS) },
      { name: 'bare kafkajs consumer, as released (events/s)', value: bareRate.toFixed(0) },
      {
        name: 'bare consumer as released, CPU per event (µs)',
        value: m((r) => (r.bare.cpuSeconds / total) * 1e6).toFixed(1),
      },
      {
        name: 'bare consumer as ingest reads (events/s)',
        value: m((r) => total / r.bareDugout.seconds).toFixed(0),
      },
      {
        name: 'bare consumer as ingest reads, CPU per event (µs)',
        value: m((r) => (r.bareDugout.cpuSeconds / total) * 1e6).toFixed(1),
      },
      { name: 'chDB own insert of the NDJSON, no validation (events/s)', value: engineRate.toFixed(0) },
      {
        name: 'chDB own insert CPU per event (µs, all threads)',
        value: m((r) => r.engine.cpuPerEventMicros).toFixed(1),
      },
      { name: 'dugout ingest, stored and committed (events/s)', value: ingestRate.toFixed(0) },
      { name: '  each round (events/s)', value: perRound((r) => total / r.ingest.seconds) },
      { name: 'ingest process CPU per event (µs, all threads)', value: cpuPerEvent.toFixed(1) },
      {
        name: 'ingest process cores busy (CPU time / wall time)',
        value: m((r) => r.ingest.cpuSeconds / r.ingest.seconds).toFixed(2),
      },
      { name: 'ingest / bare consumer', value: toBare.toFixed(2), target: '≥ 0.2', ok: toBare >= 0.2 },
      { name: '  each round', value: perRound((r) => r.bare.seconds / r.ingest.seconds, 2) },
      { name: 'ingest / bare consumer as ingest reads', value: toBareDugout.toFixed(2) },
      {
        name: "ingest / chDB's own insert (the engine's limit)",
        value: m((r) => total / r.ingest.seconds / r.engine.rate).toFixed(2),
      },
      // What bounds the ratio: ingest cannot go faster than all cores busy with its work per event.
      {
        name: `ingest with all ${cores} cores busy / bare consumer`,
        value: m((r) => (cores / (r.ingest.cpuSeconds / total) / total) * r.bare.seconds).toFixed(2),
      },
      {
        name: 'ingest process peak RSS (MiB, highest round)',
        value: peak.toFixed(0),
        target: '≤ 600',
        ok: peak <= 600,
      },
      {
        name: '  of which anonymous, peak (MiB, sampled)',
        value: Math.max(...rounds.map((r) => r.ingest.peakAnon)).toFixed(0),
      },
      {
        name: '  of which mapped libchdb.so, node, peak (MiB, sampled)',
        value: Math.max(...rounds.map((r) => r.ingest.peakFile)).toFixed(0),
      },
    ],
  }
}

/** Rounds of (bare consumer, ingest, engine insert): the figures are their medians. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_INGEST_ROUNDS ?? 3))

interface Round {
  bare: { seconds: number; cpuSeconds: number }
  bareDugout: { seconds: number; cpuSeconds: number }
  ingest: { seconds: number; cpuSeconds: number; peakMiB: number; peakAnon: number; peakFile: number }
  engine: { rate: number; cpuPerEventMicros: number }
}

/**
 * Runs `measure` with kafkajs as released: its own gzip codec and record-batch decoder in place of
 * Dugout's (registered for the process by `createKafka`).
 */
async function asReleased<T>(measure: () => Promise<T>): Promise<T> {
  const codecs = kafkajs.CompressionCodecs as Record<number, () => unknown>
  const dugout = codecs[CompressionTypes.GZIP]!
  const own: unknown = createRequire(import.meta.url)('kafkajs/src/protocol/message/compression/gzip.js')
  codecs[CompressionTypes.GZIP] = () => own
  useRecordBatchDecoder('kafkajs')
  try {
    return await measure()
  } finally {
    codecs[CompressionTypes.GZIP] = dugout
    useRecordBatchDecoder('dugout')
  }
}

/** Kafka and its client alone: a fresh group reading the whole topic, counting and nothing else. */
async function bareConsumer(
  kafka: Kafka,
  topic: string,
  total: number,
  id: string,
  codecs: string,
): Promise<Round['bare']> {
  process.stderr.write(`ingest: bare kafkajs consumer, ${codecs}…\n`)
  const bare = kafka.consumer({ groupId: `bench-bare-${id}`, ...CONSUMER_SETTINGS })
  await bare.connect()
  await bare.subscribe({ topic, fromBeginning: true })
  let read = 0
  const bareCpu = process.cpuUsage()
  const bareStarted = performance.now()
  await new Promise<void>((resolve, reject) => {
    bare
      .run({
        eachBatch: async ({ batch: b }) => {
          read += b.messages.length
          if (read >= total) resolve()
        },
      })
      .catch(reject)
  })
  const bareSeconds = (performance.now() - bareStarted) / 1000
  const { user, system } = process.cpuUsage(bareCpu)
  const bareCpuSeconds = (user + system) / 1e6
  await bare.disconnect()

  return { seconds: bareSeconds, cpuSeconds: bareCpuSeconds }
}

/** `dugout run --only ingest` on its own chDB folder and consumer group, until it has committed all. */
async function ingestProcess(config: DugoutConfig, kafka: Kafka, topic: string, id: string): Promise<Round['ingest']> {
  process.stderr.write('ingest: dugout ingest process…\n')
  const groupId = `bench-ingest-${id}`
  const chdbPath = tmp('ingest-chdb')
  // The end is seen through one admin client, asked every 25 ms: connecting one for each question
  // and asking every 100 ms counted 150–300 ms of the bench's own after the last commit.
  // Connected before the process starts, so that the clock starts when ingest does.
  const admin = kafka.admin()
  await admin.connect()
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]))
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      path.join(PROJECT_ROOT, 'bin/dugout.js'),
      'run',
      '--only',
      'ingest',
    ],
    {
      env: {
        ...process.env,
        // The benchmark waits for the info line "service started": only a more verbose level may be asked.
        LOG_LEVEL: benchLogLevel('info'),
        KAFKA_EVENTS_TOPIC: topic,
        KAFKA_DLQ_TOPIC: `${topic}.dlq`,
        KAFKA_CONSUMER_GROUP: groupId,
        TEMPORAL_TASK_QUEUE: `bench-${id}`,
        CHDB_PATH: chdbPath,
        DUGOUT_HTTP_PORT: String(18_000 + Math.floor(Math.random() * 1000)),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  // However the benchmark ends, its child does not outlive it.
  process.once('exit', () => child.kill('SIGKILL'))
  let output = ''
  const log = fs.createWriteStream(`${tmp('ingest')}.log`)
  process.stderr.write(`ingest: process log ${log.path}\n`)
  child.stdout.pipe(log)
  child.stderr.pipe(log)
  child.stdout.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-100_000)))
  child.stderr.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-100_000)))
  while (!output.includes('"service":"ingest","msg":"service started"')) {
    if (child.exitCode !== null) throw new Error(`ingest exited:\n${output}`)
    await sleep(20)
  }
  const cpuAtStart = cpuSeconds(child.pid!)
  const ingestStarted = performance.now()
  let lastReport = performance.now()
  let lastSample = 0
  // Resident memory is the process's own (anonymous) plus the pages of mapped files it touched,
  // the engine's 200-odd MiB of code among them: the peak of each, sampled.
  let peakAnon = 0
  let peakFile = 0
  while ((await partitionsBehindWith(admin, groupId, topic, ends)).length > 0) {
    if (performance.now() - lastSample >= 100) {
      const memory = residentMiB(child.pid!)
      peakAnon = Math.max(peakAnon, memory.anonymous)
      peakFile = Math.max(peakFile, memory.file)
      lastSample = performance.now()
    }
    if (child.exitCode !== null) throw new Error(`ingest exited; log ${log.path}`)
    if (performance.now() - lastReport > 10_000) {
      process.stderr.write(`ingest: still working (${((performance.now() - ingestStarted) / 1000).toFixed(0)} s)\n`)
      lastReport = performance.now()
    }
    await sleep(25)
  }
  const ingestSeconds = (performance.now() - ingestStarted) / 1000
  await admin.disconnect()
  const cpu = cpuSeconds(child.pid!) - cpuAtStart
  const peak = peakRssMiB(child.pid!)
  child.kill('SIGTERM')
  await new Promise((resolve) => child.once('exit', resolve))
  fs.rmSync(chdbPath, { recursive: true, force: true })

  return { seconds: ingestSeconds, cpuSeconds: cpu, peakMiB: peak, peakAnon, peakFile }
}

/**
 * The engine's limit: the same NDJSON lines inserted by chDB's own raw insert into the same table,
 * in chunks of ingest's size, one at a time, with no validation, no row building and no Kafka.
 * Nested objects are read as strings (the payload column) and the fields the table has no column
 * for (source) are skipped.
 */
async function engineInsert(config: DugoutConfig, lines: readonly string[]) {
  process.stderr.write("ingest: chDB's own insert of the same NDJSON…\n")
  const chdbPath = tmp('engine-chdb')
  const ch = createClickHouse({ ...config, CLICKHOUSE_URL: undefined, CHDB_PATH: chdbPath })
  await migrate(ch)
  const bodies: Buffer[] = []
  for (let i = 0; i < lines.length; i += CHUNK_MESSAGES)
    bodies.push(Buffer.from(lines.slice(i, i + CHUNK_MESSAGES).join('\n')))
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  for (const [i, body] of bodies.entries()) {
    await ch.insertEncoded({
      table: `${ch.database}.events`,
      format: 'JSONEachRow',
      body,
      settings: {
        input_format_json_read_objects_as_strings: 1,
        input_format_skip_unknown_fields: 1,
        date_time_input_format: 'best_effort',
        insert_deduplication_token: `engine-${i}`,
        insert_deduplicate: 1,
      },
    })
  }
  const seconds = (performance.now() - started) / 1000
  const { user, system } = process.cpuUsage(cpuBefore)
  await ch.close()
  fs.rmSync(chdbPath, { recursive: true, force: true })
  return { rate: lines.length / seconds, cpuPerEventMicros: (user + system) / lines.length }
}

export function printIngest({ figures }: IngestResult): void {
  printFigures('Ingest: Kafka → ClickHouse event store → Temporal', figures)
}

/** Whether a backfill keeps up: ingest against the import feeding it, measured in the same run. */
export function printBackfill(imported: ImportResult, ingested: IngestResult): void {
  const ratio = ingested.rate / imported.rate
  printFigures('Backfill: does ingest keep up with dugout import?', [
    { name: 'dugout import (events/s)', value: imported.rate.toFixed(0) },
    { name: 'dugout ingest (events/s)', value: ingested.rate.toFixed(0) },
    { name: 'ingest / import', value: ratio.toFixed(2), target: '≥ 1.0', ok: ratio >= 1 },
    { name: 'import CPU per event (µs)', value: imported.cpuPerEventMicros.toFixed(1) },
    { name: 'ingest CPU per event (µs)', value: ingested.cpuPerEventMicros.toFixed(1) },
  ])
}
