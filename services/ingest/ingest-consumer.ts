/**
 * Kafka → event store → Temporal, effectively once. Each batch is: decode → validate → classify
 * (ok / dead letter / redelivery / conflict) → insert into ClickHouse → dead letters to Kafka →
 * signal Temporal once per org → commit offsets. A failing step is retried with backoff while the
 * consumer keeps heartbeating; nothing is committed past an event that is not durably stored.
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs'
import type { ValidationLimits } from '../../schemas/event-validation.ts'
import type { DeadLetter, EventProducer } from '../kafka/event-producer.ts'
import type { Logger } from '../runtime/logger.ts'
import { decodeMessages, deduplicate, type Classified } from './batch-classifier.ts'
import { daysTouched } from './event-rows.ts'
import type { EventStore } from './event-store.ts'
import type { IngestMetrics } from './ingest-metrics.ts'
import type { MetricsNotifier } from './metrics-notifier.ts'

export interface IngestDeps {
  kafka: Kafka
  store: EventStore
  notifier: MetricsNotifier
  deadLetters: Pick<EventProducer, 'sendDeadLetters'>
  /** The org's time zone, which decides the days a batch touched. */
  timeZoneOf: (org: string) => Promise<string>
  limits: () => ValidationLimits
  logger: Logger
  metrics?: IngestMetrics
}

export interface IngestOptions {
  topic: string
  groupId: string
  /** Upper bound of the retry backoff while ClickHouse, Kafka or Temporal is failing. */
  maxBackoffMs?: number
  /** How long the group waits for a silent member before reassigning its partitions. */
  sessionTimeoutMs?: number
}

export interface BatchOutcome {
  stored: number
  duplicates: number
  deadLetters: number
  orgs: number
}

/** Raised to abandon a batch when the consumer is stopping or lost its partitions. */
class BatchAbandoned extends Error {}

/**
 * Kafka's answers meaning this member no longer owns the batch's partition: retrying cannot help,
 * the group must be rejoined and the batch will be redelivered (and found already stored).
 */
const LOST_MEMBERSHIP = new Set([
  'REBALANCE_IN_PROGRESS',
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'FENCED_INSTANCE_ID',
])
const lostMembership = (error: unknown) => LOST_MEMBERSHIP.has((error as { type?: string }).type ?? '')

type BatchControl = Pick<EachBatchPayload, 'heartbeat' | 'isRunning' | 'isStale'>

/**
 * Runs `step` until it succeeds, pausing with exponential backoff (heartbeating meanwhile, so the
 * group keeps the partition) — never skipping ahead. Gives up only when the batch is no longer
 * ours, in which case it will be redelivered.
 */
async function untilDone<T>(
  what: string,
  step: () => Promise<T>,
  control: BatchControl,
  deps: Pick<IngestDeps, 'logger' | 'metrics'>,
  maxBackoffMs: number,
): Promise<T> {
  let delay = 250
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await step()
      if (attempt > 1) {
        deps.logger.info({ step: what, attempts: attempt }, 'ingest resumed')
        deps.metrics?.paused.set(0)
      }
      return result
    } catch (error) {
      if (lostMembership(error)) throw new BatchAbandoned(`${what}: ${(error as Error).message}`)
      deps.metrics?.paused.set(1)
      deps.metrics?.stepFailures.inc({ step: what })
      deps.logger.warn(
        { step: what, attempt, retryInMs: delay, err: error },
        'ingest step failed; pausing and retrying',
      )
      const until = Date.now() + delay
      while (Date.now() < until) {
        if (!control.isRunning() || control.isStale()) throw new BatchAbandoned(`${what}: batch abandoned`)
        await new Promise((resolve) => setTimeout(resolve, Math.min(1000, until - Date.now())))
        await control.heartbeat().catch(() => undefined)
      }
      delay = Math.min(delay * 2, maxBackoffMs)
    }
  }
}

/** Processes one batch; exported for tests that drive it with a recorded batch. */
export async function processBatch(
  payload: EachBatchPayload,
  deps: IngestDeps,
  maxBackoffMs = 30_000,
): Promise<BatchOutcome> {
  // A large batch can take longer than the session timeout: keep heartbeating all along (kafkajs
  // throttles the calls to heartbeatInterval), so the group does not evict a working member.
  const ticker = setInterval(() => void payload.heartbeat().catch(() => undefined), 1000)
  const total: BatchOutcome = { stored: 0, duplicates: 0, deadLetters: 0, orgs: 0 }
  try {
    // A fetch can hold a whole partition (its byte limit counts compressed bytes): work through it
    // in bounded chunks, each stored and committed before the next, so memory stays flat and a
    // crash redoes at most one chunk.
    const { messages } = payload.batch
    for (let i = 0; i < messages.length; i += CHUNK_MESSAGES) {
      if (!payload.isRunning() || payload.isStale()) break
      const outcome = await processChunk(payload, messages.slice(i, i + CHUNK_MESSAGES), deps, maxBackoffMs)
      total.stored += outcome.stored
      total.duplicates += outcome.duplicates
      total.deadLetters += outcome.deadLetters
      total.orgs = Math.max(total.orgs, outcome.orgs)
    }
    return total
  } finally {
    clearInterval(ticker)
  }
}

/** Messages stored and committed at a time; bounds memory and the work a crash redoes. */
export const CHUNK_MESSAGES = 10_000

async function processChunk(
  payload: EachBatchPayload,
  messages: EachBatchPayload['batch']['messages'],
  deps: IngestDeps,
  maxBackoffMs: number,
): Promise<BatchOutcome> {
  const { batch } = payload
  const started = performance.now()
  const retry = <T>(what: string, step: () => Promise<T>) => untilDone(what, step, payload, deps, maxBackoffMs)

  const classified = decodeMessages(messages, deps.limits())
  const valid = classified.filter((c): c is Extract<Classified, { kind: 'ok' }> => c.kind === 'ok')
  const invalid = classified.filter((c): c is Extract<Classified, { kind: 'dlq' }> => c.kind === 'dlq')

  const stored = await retry('read-stored', () =>
    deps.store.storedHashes(valid.map((v) => ({ orgId: v.row.org_id, eventId: v.row.event_id }))),
  )
  const { fresh, duplicates, conflicts } = deduplicate(valid, stored)

  // 1. ClickHouse first: the event store is the source of truth, and the offsets below are
  //    committed only once it has acknowledged. The token makes a retried insert a no-op.
  const firstOffset = messages[0]!.offset
  const lastOffset = messages[messages.length - 1]!.offset
  const token = `${batch.topic}:${batch.partition}:${firstOffset}-${lastOffset}`
  const insertStarted = performance.now()
  await retry('insert', () =>
    deps.store.insert(
      fresh.map((f) => f.row),
      token,
    ),
  )
  deps.metrics?.insertSeconds.observe((performance.now() - insertStarted) / 1000)
  deps.logger.debug({ partition: batch.partition, lastOffset, stored: fresh.length }, 'batch stored, not yet committed')

  // 2. Dead letters, with where they came from, before the offsets move past them.
  const letters: DeadLetter[] = [...invalid, ...conflicts].map((d) => ({
    raw: d.raw,
    reason: d.reason,
    source: 'ingest',
    ...(d.orgId === undefined ? {} : { orgId: d.orgId }),
    ...(d.eventId === undefined ? {} : { eventId: d.eventId }),
    headers: {
      'dugout-rule': d.rule,
      'dugout-origin-topic': batch.topic,
      'dugout-origin-partition': String(batch.partition),
      'dugout-origin-offset': d.offset,
    },
  }))
  await retry('dead-letter', () => deps.deadLetters.sendDeadLetters(letters))

  // 3. Temporal, once per org per batch, for every valid event (redeliveries too: a crash between
  //    the insert and this signal must not leave days uncomputed).
  const orgs = [...new Set(valid.map((v) => v.event.org_id))]
  const zones = new Map<string, string>()
  for (const org of orgs) zones.set(org, await retry('org-settings', () => deps.timeZoneOf(org)))
  const touched = daysTouched(
    valid.map((v) => v.event),
    (org) => zones.get(org) ?? 'UTC',
  )
  for (const [org, days] of touched) await retry('signal', () => deps.notifier.daysTouched(org, days))

  // 4. Only now move the committed offset past this batch.
  const next = (BigInt(lastOffset) + 1n).toString()
  payload.resolveOffset(lastOffset)
  await retry('commit', () =>
    payload.commitOffsetsIfNecessary({
      topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
    }),
  )

  const outcome = { stored: fresh.length, duplicates, deadLetters: letters.length, orgs: orgs.length }
  deps.logger.debug(
    { partition: batch.partition, messages: messages.length, ...outcome, ms: Math.round(performance.now() - started) },
    'chunk committed',
  )
  deps.metrics?.recordBatch(
    batch.partition,
    messages.length,
    outcome,
    Number(batch.offsetLag()),
    (performance.now() - started) / 1000,
  )
  for (const letter of letters) deps.metrics?.deadLetters.inc({ rule: letter.headers?.['dugout-rule'] ?? 'invalid' })
  return outcome
}

export interface RunningIngest {
  consumer: Consumer
  /** Whether the consumer currently holds its place in the group (for readiness). */
  joined(): boolean
  stop(): Promise<void>
}

export async function startIngestConsumer(deps: IngestDeps, options: IngestOptions): Promise<RunningIngest> {
  const consumer = deps.kafka.consumer({
    groupId: options.groupId,
    // Heartbeats go on while a chunk is processed and while a step is retried (processBatch).
    sessionTimeout: options.sessionTimeoutMs ?? 30_000,
    heartbeatInterval: Math.min(3_000, Math.floor((options.sessionTimeoutMs ?? 30_000) / 3)),
    // Compressed bytes: about 10-20k events of a CRM stream per partition and fetch.
    maxBytesPerPartition: 1024 * 1024,
    maxBytes: 8 * 1024 * 1024,
    maxWaitTimeInMs: 200,
  })
  // Listen before run(): the first join can happen before run() returns.
  let joined = false
  consumer.on(consumer.events.GROUP_JOIN, () => (joined = true))
  consumer.on(consumer.events.CRASH, () => (joined = false))
  consumer.on(consumer.events.STOP, () => (joined = false))
  await consumer.connect()
  await consumer.subscribe({ topic: options.topic, fromBeginning: true })
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 1,
    eachBatch: async (payload) => {
      try {
        await processBatch(payload, deps, options.maxBackoffMs)
      } catch (error) {
        if (error instanceof BatchAbandoned) return
        throw error
      }
    },
  })
  return { consumer, joined: () => joined, stop: () => consumer.disconnect() }
}
