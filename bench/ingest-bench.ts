/**
 * Ingest throughput against a bare kafkajs consumer reading the same topic in the same run
 * (target ratio ≥ 0.6), and the ingest process's peak memory. Ingest runs as its own process,
 * `dugout run --only ingest`, exactly as in production with the embedded engine.
 *
 * To see where the time goes: `BENCH_LOG_LEVEL=debug` puts each chunk's step timings (decode,
 * lookup, insert, signal, commit) in the process log, and `BENCH_NODE_ARGS='--cpu-prof
 * --cpu-prof-dir=/tmp/prof'` profiles the ingest process.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PROJECT_ROOT, type DugoutConfig } from '../schemas/config.schema.ts'
import { createEventProducer } from '../services/kafka/event-producer.ts'
import { dugoutTopics, ensureTopics, createKafka } from '../services/kafka/kafka-client.ts'
import {
  benchLogLevel,
  committedAll,
  cpuSeconds,
  orgEventLines,
  peakRssMiB,
  printFigures,
  sleep,
  tmp,
  type Figure,
} from './bench-support.ts'

const CONSUMER_SETTINGS = { maxBytesPerPartition: 1024 * 1024, maxBytes: 8 * 1024 * 1024, maxWaitTimeInMs: 200 }

export async function benchIngest(config: DugoutConfig, total: number): Promise<Figure[]> {
  const id = Date.now().toString(36)
  const topic = `bench.ingest.${id}`
  const kafka = createKafka({ ...config, KAFKA_CLIENT_ID: 'bench' })
  const topicConfig = { ...config, KAFKA_EVENTS_TOPIC: topic, KAFKA_DLQ_TOPIC: `${topic}.dlq` }
  await ensureTopics(kafka, dugoutTopics(topicConfig))
  const producer = await createEventProducer(kafka, topicConfig)
  process.stderr.write(`ingest: producing ${total} events to ${topic}…\n`)
  let batch: { orgId: string; value: string }[] = []
  for (const line of orgEventLines('bench', total)) {
    batch.push({ orgId: 'bench', value: line })
    if (batch.length === 5000) {
      await producer.send(batch)
      batch = []
    }
  }
  await producer.send(batch)
  await producer.disconnect()

  process.stderr.write('ingest: bare kafkajs consumer…\n')
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

  process.stderr.write('ingest: dugout ingest process…\n')
  const groupId = `bench-ingest-${id}`
  const chdbPath = tmp('ingest-chdb')
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_NODE_ARGS?.split(' ') ?? []),
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
  while (!(await committedAll(kafka, groupId, topic))) {
    if (child.exitCode !== null) throw new Error(`ingest exited; log ${log.path}`)
    if (performance.now() - lastReport > 10_000) {
      process.stderr.write(`ingest: still working (${((performance.now() - ingestStarted) / 1000).toFixed(0)} s)\n`)
      lastReport = performance.now()
    }
    await sleep(100)
  }
  const ingestSeconds = (performance.now() - ingestStarted) / 1000
  const cpu = cpuSeconds(child.pid!) - cpuAtStart
  const peak = peakRssMiB(child.pid!)
  child.kill('SIGTERM')
  await new Promise((resolve) => child.once('exit', resolve))
  fs.rmSync(chdbPath, { recursive: true, force: true })

  const cores = os.cpus().length
  const bareRate = total / bareSeconds
  const ingestRate = total / ingestSeconds
  return [
    { name: 'events', value: String(total) },
    { name: 'bare kafkajs consumer (events/s)', value: bareRate.toFixed(0) },
    { name: 'dugout ingest, stored and committed (events/s)', value: ingestRate.toFixed(0) },
    {
      name: 'ingest / bare consumer',
      value: (ingestRate / bareRate).toFixed(2),
      target: '≥ 0.6',
      ok: ingestRate / bareRate >= 0.6,
    },
    { name: 'ingest process peak RSS (MiB)', value: peak.toFixed(0) },
    // What bounds the ratio: ingest cannot go faster than all cores busy with its work per event.
    { name: 'bare consumer CPU per event (µs)', value: ((bareCpuSeconds / total) * 1e6).toFixed(1) },
    { name: 'ingest process CPU per event (µs)', value: ((cpu / total) * 1e6).toFixed(1) },
    { name: 'ingest process cores busy (CPU time / wall time)', value: (cpu / ingestSeconds).toFixed(2) },
    {
      name: `ratio with all ${cores} cores busy (cores / ingest CPU per event / bare rate)`,
      value: (cores / (cpu / total) / bareRate).toFixed(2),
    },
  ]
}

export function printIngest(figures: Figure[]): void {
  printFigures('Ingest: Kafka → ClickHouse event store → Temporal', figures)
}
