/** Ingest's telemetry (Prometheus): lag per partition, batch sizes, insert latency, dead letters. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'

/** What one batch did to its events (the consumer's outcome of a batch carries these). */
export interface BatchCounts {
  stored: number
  duplicates: number
  deadLetters: number
}

export interface IngestTelemetry {
  paused: Gauge
  stepFailures: Counter<'step'>
  deadLetters: Counter<'rule'>
  insertSeconds: Histogram
  consumerRestarts: Counter
  partitionStuck(topic: string, partition: number, offset: string): void
  partitionUnstuck(topic: string, partition: number): void
  recordBatch(partition: number, size: number, outcome: BatchCounts, lag: number, seconds: number): void
}

export function createIngestTelemetry(registry: Registry): IngestTelemetry {
  const registers = [registry]
  const events = new Counter({
    name: 'dugout_ingest_events_total',
    help: 'Events read by ingest, by outcome',
    labelNames: ['outcome'],
    registers,
  })
  const lag = new Gauge({
    name: 'dugout_ingest_lag_messages',
    help: 'Messages behind the partition high watermark after the last batch',
    labelNames: ['partition'],
    registers,
  })
  const batchSize = new Histogram({
    name: 'dugout_ingest_batch_size',
    help: 'Messages per batch',
    buckets: [1, 10, 100, 500, 1000, 2500, 5000, 10000, 25000],
    registers,
  })
  const batchSeconds = new Histogram({
    name: 'dugout_ingest_batch_seconds',
    help: 'Time to process one batch, from decode to commit',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers,
  })
  const stuck = new Gauge({
    name: 'dugout_ingest_partition_stuck',
    help: '1 while a partition is paused on a record batch that cannot be decoded (its first offset in stuck_offset)',
    labelNames: ['topic', 'partition'],
    registers,
  })
  const stuckOffset = new Gauge({
    name: 'dugout_ingest_partition_stuck_offset',
    help: 'First offset of the undecodable record batch a stuck partition is paused at',
    labelNames: ['topic', 'partition'],
    registers,
  })
  return {
    consumerRestarts: new Counter({
      name: 'dugout_ingest_consumer_restarts_total',
      help: 'Restarts of the ingest consumer after a crash',
      registers,
    }),
    partitionStuck(topic, partition, offset) {
      stuck.set({ topic, partition: String(partition) }, 1)
      stuckOffset.set({ topic, partition: String(partition) }, Number(offset))
    },
    partitionUnstuck(topic, partition) {
      stuck.set({ topic, partition: String(partition) }, 0)
      stuckOffset.remove({ topic, partition: String(partition) })
    },
    paused: new Gauge({ name: 'dugout_ingest_paused', help: '1 while a failing step is being retried', registers }),
    stepFailures: new Counter({
      name: 'dugout_ingest_step_failures_total',
      help: 'Failed attempts of an ingest step (retried)',
      labelNames: ['step'],
      registers,
    }),
    deadLetters: new Counter({
      name: 'dugout_ingest_dead_letters_total',
      help: 'Events sent to the dead-letter topic, by rule',
      labelNames: ['rule'],
      registers,
    }),
    insertSeconds: new Histogram({
      name: 'dugout_ingest_insert_seconds',
      help: 'ClickHouse insert latency per batch',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    recordBatch(partition, size, outcome, behind, seconds) {
      events.inc({ outcome: 'stored' }, outcome.stored)
      events.inc({ outcome: 'duplicate' }, outcome.duplicates)
      events.inc({ outcome: 'dead_letter' }, outcome.deadLetters)
      lag.set({ partition: String(partition) }, behind)
      batchSize.observe(size)
      batchSeconds.observe(seconds)
    },
  }
}
