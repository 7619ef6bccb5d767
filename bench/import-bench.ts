/**
 * `dugout import` of a 1,000,000-event NDJSON file into Kafka, against Kafka's own producer
 * performance tool (from the same Maven jars) sending as many records of the same average size
 * with the same acks and compression, on the same machine in the same run.
 */
import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { kafkaClasspath } from '../infra/stack/kafka-broker.ts'
import { PROJECT_ROOT, type DugoutConfig } from '../schemas/config.schema.ts'
import { dugoutTopics, ensureTopics, createKafka } from '../services/kafka/kafka-client.ts'
import { orgEventLines, peakRssMiB, printFigures, tmp, writeNdjson, type Figure } from './bench-support.ts'

const execFileAsync = promisify(execFile)

export async function benchImport(config: DugoutConfig, total: number): Promise<Figure[]> {
  const id = Date.now().toString(36)
  const file = `${tmp('import')}.ndjson`
  process.stderr.write(`import: writing ${total} generated events to ${file}…\n`)
  const { count, bytes } = writeNdjson(file, orgEventLines('benchimport', total))
  const recordSize = Math.round(bytes / count)
  const kafka = createKafka({ ...config, KAFKA_CLIENT_ID: 'bench' })
  const importTopic = `bench.import.${id}`
  const perfTopic = `bench.perf.${id}`
  for (const topic of [importTopic, perfTopic]) {
    await ensureTopics(kafka, dugoutTopics({ ...config, KAFKA_EVENTS_TOPIC: topic, KAFKA_DLQ_TOPIC: `${topic}.dlq` }))
  }

  process.stderr.write('import: dugout import…\n')
  const started = performance.now()
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/dugout.js'), 'import', file, '--no-progress'], {
    env: { ...process.env, KAFKA_EVENTS_TOPIC: importTopic, KAFKA_DLQ_TOPIC: `${importTopic}.dlq` },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  let peak = 0
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output += d.toString()))
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, peakRssMiB(child.pid!))
    } catch {
      // exited
    }
  }, 200)
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  clearInterval(sampler)
  const wallSeconds = (performance.now() - started) / 1000
  if (code !== 0) throw new Error(`dugout import failed:\n${output}`)
  const importRate = Number(/\((\d+) events\/s\)/.exec(output)?.[1] ?? NaN)

  process.stderr.write('import: kafka ProducerPerformance…\n')
  const { stdout } = await execFileAsync('java', [
    '-Xmx512m',
    '-cp',
    kafkaClasspath(config.DUGOUT_HOME),
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic',
    perfTopic,
    '--num-records',
    String(count),
    '--record-size',
    String(recordSize),
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${config.KAFKA_BROKERS.join(',')}`,
    'acks=all',
    `compression.type=${config.KAFKA_COMPRESSION}`,
  ])
  const perfRate = Number(/([\d.]+) records\/sec/.exec(stdout.trim().split('\n').pop() ?? '')?.[1] ?? NaN)
  fs.rmSync(file, { force: true })
  return [
    { name: 'events (NDJSON file)', value: `${count} (${(bytes / 2 ** 20).toFixed(0)} MiB)` },
    { name: 'dugout import (events/s, validated)', value: importRate.toFixed(0) },
    { name: 'dugout import wall time (s, with start-up)', value: wallSeconds.toFixed(1) },
    { name: 'dugout import peak RSS (MiB)', value: peak.toFixed(0) },
    { name: `kafka ProducerPerformance (records/s, ${recordSize} B)`, value: perfRate.toFixed(0) },
    { name: 'dugout import / ProducerPerformance', value: (importRate / perfRate).toFixed(2) },
  ]
}

export function printImport(figures: Figure[]): void {
  printFigures(`Import: NDJSON file → Kafka (acks=all, compression as KAFKA_COMPRESSION)`, figures)
}
