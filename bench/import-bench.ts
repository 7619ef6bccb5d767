/**
 * `dugout import` of a 1,000,000-event NDJSON file into Kafka, against Kafka's own producer
 * performance tool (from the same Maven jars) sending as many records of the same average size
 * with the same acks and compression, on the same machine in the same run.
 */
import fs from 'node:fs'
import path from 'node:path'
import { kafkaClasspath } from '../infra/stack/kafka-broker.ts'
import { PROJECT_ROOT, type DugoutConfig } from '../schemas/config.schema.ts'
import { dugoutTopics, ensureTopics, createKafka } from '../services/kafka/kafka-client.ts'
import { orgEventLines, printFigures, runSampled, tmp, writeNdjson, type Figure } from './bench-support.ts'

export interface ImportResult {
  /** Events per second, as `dugout import` reports it. */
  rate: number
  cpuPerEventMicros: number
  producerPerformanceRate: number
  producerPerformanceCpuPerEventMicros: number
  figures: Figure[]
}

export async function benchImport(config: DugoutConfig, total: number): Promise<ImportResult> {
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
  const run = await runSampled(process.execPath, [path.join(PROJECT_ROOT, 'bin/dugout.js'), 'import', file, '--no-progress'], {
    ...process.env,
    KAFKA_EVENTS_TOPIC: importTopic,
    KAFKA_DLQ_TOPIC: `${importTopic}.dlq`,
  })
  if (run.code !== 0) throw new Error(`dugout import failed:\n${run.output}`)
  const importRate = Number(/\((\d+) events\/s\)/.exec(run.output)?.[1] ?? NaN)

  process.stderr.write('import: kafka ProducerPerformance…\n')
  const perf = await runSampled('java', [
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
  if (perf.code !== 0) throw new Error(`ProducerPerformance failed:\n${perf.output}`)
  const perfRate = Number(/([\d.]+) records\/sec/.exec(perf.output.trim().split('\n').pop() ?? '')?.[1] ?? NaN)
  fs.rmSync(file, { force: true })
  const result: ImportResult = {
    rate: importRate,
    cpuPerEventMicros: (run.cpuSeconds / count) * 1e6,
    producerPerformanceRate: perfRate,
    producerPerformanceCpuPerEventMicros: (perf.cpuSeconds / count) * 1e6,
    figures: [],
  }
  result.figures = [
    { name: 'events (NDJSON file)', value: `${count} (${(bytes / 2 ** 20).toFixed(0)} MiB)` },
    { name: 'dugout import (events/s, validated)', value: importRate.toFixed(0) },
    { name: 'dugout import wall time (s, with start-up)', value: run.seconds.toFixed(1) },
    { name: 'dugout import CPU per event (µs, with start-up)', value: result.cpuPerEventMicros.toFixed(1) },
    { name: 'dugout import peak RSS (MiB)', value: run.peakMiB.toFixed(0) },
    { name: `kafka ProducerPerformance (records/s, ${recordSize} B)`, value: perfRate.toFixed(0) },
    { name: 'ProducerPerformance CPU per record (µs, JVM)', value: result.producerPerformanceCpuPerEventMicros.toFixed(1) },
    {
      name: 'dugout import / ProducerPerformance',
      value: (importRate / perfRate).toFixed(2),
      target: '≥ 0.6',
      ok: importRate / perfRate >= 0.6,
    },
  ]
  return result
}

export function printImport({ figures }: ImportResult): void {
  printFigures(`Import: NDJSON file → Kafka (acks=all, compression as KAFKA_COMPRESSION)`, figures)
}
