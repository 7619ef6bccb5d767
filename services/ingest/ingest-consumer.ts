/**
 * Kafka → event store → Temporal, effectively once. Each batch is: decode → validate → classify
 * (ok / dead letter / redelivery / conflict) → insert into ClickHouse → dead letters to Kafka →
 * signal Temporal once per org → commit offsets. A failing step is retried with backoff while the
 * consumer keeps heartbeating; nothing is committed past an event that is not durably stored.
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs'
import type { ValidationLimits } from '../../schemas/event-validation.ts'
import { DEAD_LETTER_HEADERS } from '../kafka/dead-letter-headers.ts'
import type { DeadLetter, EventProducer } from '../kafka/event-producer.ts'
import { undecodableBatch, type UndecodableBatch } from '../kafka/record-batch-guard.ts'
import type { Logger } from '../runtime/logger.ts'
import {
  bodyOf,
  conflictReason,
  deadLetterIndices,
  deduplicate,
  validIndices,
  type ChunkVerdicts,
  type Deduplicated,
} from './batch-classifier.ts'
import { inThreadDecoder, type ChunkDecoder } from './decode-thread.ts'
import { daysTouched } from './event-rows.ts'
import type { EventStore } from './event-store.ts'
import type { BatchCounts, IngestTelemetry } from './ingest-telemetry.ts'
import type { MetricsNotifier } from './metrics-notifier.ts'

export interface IngestDeps {
  kafka: Kafka
  store: EventStore
  notifier: MetricsNotifier
  deadLetters: Pick<EventProducer, 'sendDeadLetters'>
  /** The org's time zone, which decides the days a batch touched. */
  timeZoneOf: (org: string) => Promise<string>
  limits: () => ValidationLimits
  /** Where chunks are decoded (decode-thread.ts); on this thread when absent. */
  decoder?: ChunkDecoder
  logger: Logger
  telemetry?: IngestTelemetry
}

export interface IngestOptions {
  topic: string
  groupId: string
  /** Upper bound of the retry backoff while ClickHouse, Kafka or Temporal is failing. */
  maxBackoffMs?: number
  /** How long the group waits for a silent member before reassigning its partitions. */
  sessionTimeoutMs?: number
  /** Messages stored and committed at a time (default `CHUNK_MESSAGES`). */
  chunkMessages?: number
}

export interface BatchOutcome extends BatchCounts {
  orgs: number
  /** A batch that cannot be decoded stopped this partition here; everything before it is stored. */
  undecodable?: UndecodableBatch
}

/** A partition paused on a batch it cannot decode, until an operator steps in (README, "Operations"). */
export interface StuckPartition extends UndecodableBatch {
  topic: string
  partition: number
  since: string
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
  deps: Pick<IngestDeps, 'logger' | 'telemetry'>,
  maxBackoffMs: number,
): Promise<T> {
  let delay = 250
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await step()
      if (attempt > 1) {
        deps.logger.info({ step: what, attempts: attempt }, 'ingest resumed')
        deps.telemetry?.paused.set(0)
      }
      return result
    } catch (error) {
      if (lostMembership(error)) throw new BatchAbandoned(`${what}: ${(error as Error).message}`)
      deps.telemetry?.paused.set(1)
      deps.telemetry?.stepFailures.inc({ step: what })
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

/** One chunk being stored: dispatched by one batch, perhaps still in flight during the next. */
interface ChunkWrite {
  topic: string
  partition: number
  /** Where the partition's next fetch must start again if this chunk is not stored. */
  firstOffset: string
  done: Promise<BatchOutcome>
  /** The (org, event) keys and body hashes of the rows it is storing. */
  rows: ReadonlyMap<string, string>
  state: 'storing' | 'stored' | 'failed'
}

/**
 * A consumer's chunk writes, oldest first, carried from one batch to the next. A batch hands
 * back to kafkajs as soon as its last chunk is dispatched, so that the next fetch (and kafkajs
 * decoding it) overlaps the store of the last chunks rather than waiting for it: kafkajs fetches
 * a partition only after its batch handler has returned.
 */
export class WritesInFlight {
  readonly writes: ChunkWrite[] = []
  /** Batches being processed now. */
  active = 0
  /** Set when the consumer stops: each batch waits for its writes before it returns. */
  closing = false

  constructor(
    /** Moves a partition's next fetch back (kafkajs `seek`): to a chunk that was not stored. */
    readonly seek: (topic: string, partition: number, offset: string) => void,
  ) {}

  /** Resolves once no batch is running and every write has ended, stored or given up. */
  async settled(): Promise<void> {
    for (;;) {
      await Promise.allSettled(this.writes.map((w) => w.done))
      if (this.active === 0 && this.writes.every((w) => w.state !== 'storing')) return
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
}

/**
 * Processes one batch. A fetch can hold a whole partition (its byte limit counts compressed
 * bytes): the batch is worked through in bounded chunks, each stored and committed before the
 * next one's offsets, so memory stays flat and a crash redoes at most the chunks in flight.
 *
 * The chunks are pipelined: while ClickHouse stores chunks i-1 and i (on the engine's own
 * threads, two inserts at once), this thread decodes chunk i+1 and looks up its ids. Each chunk's
 * dead letters, signal and commit wait for the partition's chunk before it, so offsets move
 * strictly in order. Chunk i+1 is checked against the rows of the chunks in flight as well as the
 * store, since they may not be stored yet when the store is asked. The last chunks' writes go on
 * after the batch returns (`WritesInFlight`); kafkajs fetches the partition from the offset after
 * them, and if one of them is not stored in the end, the partition is moved back to it.
 */
export async function processBatch(
  payload: EachBatchPayload,
  deps: IngestDeps,
  inFlight: WritesInFlight,
  { maxBackoffMs = 30_000, chunkMessages = CHUNK_MESSAGES }: Pick<IngestOptions, 'maxBackoffMs' | 'chunkMessages'> = {},
): Promise<BatchOutcome> {
  // A large batch can take longer than the session timeout: keep heartbeating all along (kafkajs
  // throttles the calls to heartbeatInterval), so the group does not evict a working member.
  const ticker = setInterval(() => void payload.heartbeat().catch(() => undefined), 1000)
  const total: BatchOutcome = { stored: 0, duplicates: 0, deadLetters: 0, orgs: 0 }
  const add = (outcome: BatchOutcome) => {
    total.stored += outcome.stored
    total.duplicates += outcome.duplicates
    total.deadLetters += outcome.deadLetters
    total.orgs = Math.max(total.orgs, outcome.orgs)
  }
  const retry = <T>(what: string, step: () => Promise<T>) => untilDone(what, step, payload, deps, maxBackoffMs)
  const { writes } = inFlight
  const { topic, partition } = payload.batch
  /** The oldest write ended: counted, or its failure thrown (it stays listed for the catch below). */
  const awaitOldest = async () => {
    add(await writes[0]!.done)
    writes.shift()
  }
  // Where the next fetch starts unless something moves it back: the first message not dispatched.
  let undispatched = payload.batch.messages[0]?.offset
  inFlight.active++
  try {
    // A batch the guard could not decode stands as one marker message: everything before it is
    // stored as usual, the marker and whatever follows it wait (see the end of this function).
    const poisonAt = payload.batch.messages.findIndex((m) => undecodableBatch(m) !== undefined)
    const messages = poisonAt < 0 ? payload.batch.messages : payload.batch.messages.slice(0, poisonAt)
    let abandoned = false
    // The next chunk is decoded on this thread while the engine looks up the ids of this one.
    const decodeAt = (at: number) => {
      if (at >= messages.length) return undefined
      const decoding = decodeChunk(messages.slice(at, at + chunkMessages), deps)
      // A batch given up before it is awaited must not leave its failure unhandled.
      decoding.catch(() => undefined)
      return decoding
    }
    let decoding = decodeAt(0)
    for (let i = 0; i < messages.length; i += chunkMessages) {
      if (!payload.isRunning() || payload.isStale()) {
        abandoned = true
        break
      }
      const chunk = await decoding!
      // Writes that may not be stored yet when the store answers, finished or not by then.
      const unseen = writes.map((w) => w.rows)
      const lookupStarted = performance.now()
      const lookup = retry('read-stored', () =>
        deps.store.storedHashes(
          chunk.valid.map((i) => ({ orgId: chunk.verdicts.orgIds[i]!, eventId: chunk.verdicts.eventIds[i]! })),
        ),
      )
      decoding = decodeAt(i + chunkMessages)
      const stored = await lookup
      chunk.steps.lookup = Math.round(performance.now() - lookupStarted)
      const waitStarted = performance.now()
      while (writes.length >= WRITES_IN_FLIGHT) await awaitOldest()
      chunk.steps.waitPrevious = Math.round(performance.now() - waitStarted)
      const deduplicated = deduplicate(chunk.verdicts, chunk.valid, stored, unseen)
      const previous = [...writes].reverse().find((w) => w.topic === topic && w.partition === partition)?.done
      const write: ChunkWrite = {
        topic,
        partition,
        firstOffset: chunk.messages[0]!.offset,
        done: writeChunk(payload, chunk, deduplicated, deps, retry, previous),
        rows: deduplicated.freshHashes,
        state: 'storing',
      }
      // Until it is awaited, a failure must not count as unhandled; it is rethrown where awaited.
      write.done.then(
        () => (write.state = 'stored'),
        () => (write.state = 'failed'),
      )
      writes.push(write)
      const lastOffset = chunk.messages[chunk.messages.length - 1]!.offset
      payload.resolveOffset(lastOffset)
      undispatched = (BigInt(lastOffset) + 1n).toString()
    }
    if (abandoned || poisonAt >= 0 || inFlight.closing) while (writes.length > 0) await awaitOldest()
    if (poisonAt >= 0 && payload.isRunning() && !payload.isStale()) {
      // Never skipped: the offsets stay before the batch, and only this partition stops.
      total.undecodable = undecodableBatch(payload.batch.messages[poisonAt]!)
      payload.pause()
    }
    return total
  } catch (error) {
    // Every write ends (or gives up) first; then each partition whose chunk was not stored, and
    // this batch's partition if it stopped midway, fetch again from the first offset not stored.
    await Promise.allSettled(writes.map((w) => w.done))
    const from = new Map<string, Pick<ChunkWrite, 'topic' | 'partition' | 'firstOffset'>>()
    if (undispatched !== undefined && !payload.isStale()) {
      from.set(`${topic}:${partition}`, { topic, partition, firstOffset: undispatched })
    }
    // Newest first, so that each partition keeps its oldest chunk not stored.
    for (const w of [...writes].reverse()) if (w.state === 'failed') from.set(`${w.topic}:${w.partition}`, w)
    writes.length = 0
    for (const f of from.values()) {
      try {
        inFlight.seek(f.topic, f.partition, f.firstOffset)
      } catch {
        // A consumer that is stopping has no position to move: it starts from the commits.
      }
    }
    throw error
  } finally {
    inFlight.active--
    clearInterval(ticker)
  }
}

/** How long a stopping consumer waits for its chunks in flight before it leaves the group. */
const STOP_DRAIN_MS = 10_000

/** Chunks being stored at once: the engine parses and writes two inserts on its threads together. */
const WRITES_IN_FLIGHT = 2

/** Messages stored and committed at a time; bounds memory and the work a crash redoes. */
export const CHUNK_MESSAGES = 10_000
const onThisThread = inThreadDecoder()

interface DecodedChunk {
  messages: EachBatchPayload['batch']['messages']
  verdicts: ChunkVerdicts
  /** The messages that are valid events, and the rest (dead letters), in order. */
  valid: number[]
  invalid: number[]
  started: number
  /** Milliseconds per step, for the debug log: where a slow chunk spent its time. */
  steps: Record<string, number>
}

async function decodeChunk(messages: DecodedChunk['messages'], deps: IngestDeps): Promise<DecodedChunk> {
  const started = performance.now()
  const limits = deps.limits()
  const verdicts = await (deps.decoder ?? onThisThread).decode(messages, limits)
  const valid = validIndices(verdicts)
  const invalid = valid.length === messages.length ? [] : deadLetterIndices(verdicts)
  const chunk: DecodedChunk = { messages, verdicts, valid, invalid, started, steps: {} }
  chunk.steps.decode = Math.round(performance.now() - started)
  return chunk
}

/**
 * Store → dead letters → Temporal → commit, each step retried until done. The insert goes on at
 * once; the rest waits for `previous`, the chunk before, and fails if it failed: an offset is
 * never committed past a chunk that is not stored.
 */
async function writeChunk(
  payload: EachBatchPayload,
  chunk: DecodedChunk,
  { fresh, duplicates, conflicts }: Deduplicated,
  deps: IngestDeps,
  retry: <T>(what: string, step: () => Promise<T>) => Promise<T>,
  previous: Promise<unknown> | undefined,
): Promise<BatchOutcome> {
  const { batch } = payload
  const { messages, verdicts, valid, invalid } = chunk
  let stepStarted = performance.now()
  const stepDone = (name: string) => {
    const now = performance.now()
    chunk.steps[name] = Math.round(now - stepStarted)
    stepStarted = now
  }

  // 1. ClickHouse first: the event store is the source of truth, and the offsets below are
  //    committed only once it has acknowledged. The token makes a retried insert a no-op.
  const firstOffset = messages[0]!.offset
  const lastOffset = messages[messages.length - 1]!.offset
  const token = `${batch.topic}:${batch.partition}:${firstOffset}-${lastOffset}`
  await retry('insert', () => deps.store.insert(bodyOf(verdicts, fresh, valid.length), token))
  deps.telemetry?.insertSeconds.observe((performance.now() - stepStarted) / 1000)
  stepDone('insert')
  deps.logger.debug({ partition: batch.partition, lastOffset, stored: fresh.length }, 'batch stored, not yet committed')
  await previous
  stepDone('waitPreviousWrite')

  // 2. Dead letters, with where they came from, before the offsets move past them.
  const letter = (i: number, reason: string, rule: string): DeadLetter => {
    const orgId = verdicts.orgIds[i]
    const eventId = verdicts.eventIds[i]
    return {
      raw: messages[i]!.value ?? Buffer.alloc(0),
      reason,
      source: 'ingest',
      ...(orgId === null || orgId === undefined ? {} : { orgId }),
      ...(eventId === null || eventId === undefined ? {} : { eventId }),
      rules: [rule],
      headers: {
        [DEAD_LETTER_HEADERS.originTopic]: batch.topic,
        [DEAD_LETTER_HEADERS.originPartition]: String(batch.partition),
        [DEAD_LETTER_HEADERS.originOffset]: messages[i]!.offset,
      },
    }
  }
  const letters = [
    ...invalid.map((i) => letter(i, verdicts.reasons[i]!, verdicts.rules[i]!)),
    ...conflicts.map((i) => letter(i, conflictReason(verdicts.eventIds[i]!), 'conflict')),
  ]
  await retry('dead-letter', () => deps.deadLetters.sendDeadLetters(letters))
  stepDone('deadLetters')

  // 3. Temporal, once per org per chunk, for every valid event (redeliveries too: a crash between
  //    the insert and this signal must not leave days uncomputed).
  const orgs = [...new Set(valid.map((i) => verdicts.orgIds[i]!))]
  const zones = new Map<string, string>()
  for (const org of orgs) zones.set(org, await retry('org-settings', () => deps.timeZoneOf(org)))
  const touched = daysTouched(
    valid.map((i) => ({ org_id: verdicts.orgIds[i]!, occurred_at: verdicts.occurredAts[i]! })),
    (org) => zones.get(org) ?? 'UTC',
  )
  const { notifier } = deps
  const orgsTouched = notifier.orgsTouched?.bind(notifier)
  if (orgsTouched) await retry('signal', () => orgsTouched(touched))
  else for (const [org, days] of touched) await retry('signal', () => notifier.daysTouched(org, days))
  stepDone('signal')

  // 4. Only now move the committed offset past this chunk.
  const next = (BigInt(lastOffset) + 1n).toString()
  await retry('commit', () =>
    payload.commitOffsetsIfNecessary({
      topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }],
    }),
  )
  stepDone('commit')

  const outcome = { stored: fresh.length, duplicates, deadLetters: letters.length, orgs: orgs.length }
  deps.logger.debug(
    {
      partition: batch.partition,
      messages: messages.length,
      ...outcome,
      ms: Math.round(performance.now() - chunk.started),
      steps: chunk.steps,
    },
    'chunk committed',
  )
  deps.telemetry?.recordBatch(
    batch.partition,
    messages.length,
    outcome,
    Number(batch.offsetLag()),
    (performance.now() - chunk.started) / 1000,
  )
  for (const letter of letters) deps.telemetry?.deadLetters.inc({ rule: letter.rules[0] ?? 'invalid' })
  return outcome
}

export interface RunningIngest {
  /** Whether the consumer currently holds its place in the group (for readiness). */
  joined(): boolean
  /** Partitions paused on a batch that cannot be decoded. */
  stuckPartitions(): StuckPartition[]
  /** Running, restarting after a crash, or stopped for good with the reason. */
  health(): IngestHealth
  stop(): Promise<void>
}

export type IngestHealth = { running: true; restarts: number } | { running: false; reason: string }

export interface SupervisionOptions {
  /** Crashes in a row (no batch committed between them) after which ingest gives up. */
  maxCrashes?: number
  /** First wait before a restart, doubled after each crash in a row, up to `maxRestartDelayMs`. */
  restartDelayMs?: number
  maxRestartDelayMs?: number
  /** Called once when ingest gives up, so the host can report the process dead. */
  onDead?: (reason: string) => void
}

/**
 * Consumes the topic until stopped. A consumer that crashes (an error kafkajs cannot retry, or
 * one it retried until it gave up) is replaced by a new one after a backoff, with a log line
 * naming the cause; after `maxCrashes` crashes in a row ingest stops for good and says so through
 * `health()`, so that `/healthz` fails and a supervisor restarts the process.
 */
export async function startIngestConsumer(
  deps: IngestDeps,
  options: IngestOptions & SupervisionOptions,
): Promise<RunningIngest> {
  const maxCrashes = options.maxCrashes ?? 5
  const maxRestartDelayMs = options.maxRestartDelayMs ?? 30_000
  let delay = options.restartDelayMs ?? 1_000
  let crashesInARow = 0
  let restarts = 0
  let stopping = false
  let dead: string | undefined
  let joined = false
  let restartTimer: NodeJS.Timeout | undefined
  const stuck = new Map<number, StuckPartition>()

  let current: Consumer | undefined
  // The writes of the consumer before, which a replacement waits for: no write outlives its consumer.
  let inFlight: WritesInFlight | undefined
  const launch = async (): Promise<void> => {
    await inFlight?.settled()
    const consumer = deps.kafka.consumer({
      groupId: options.groupId,
      // Heartbeats go on while a chunk is processed and while a step is retried (processBatch).
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      heartbeatInterval: Math.min(3_000, Math.floor((options.sessionTimeoutMs ?? 30_000) / 3)),
      // Compressed bytes: about 15k events of a CRM stream per partition and fetch with gzip, 5k
      // with lz4. The fetched messages live until their chunks are stored, and are most of a busy
      // process's memory: 1 MiB peaked at about 590 MiB resident with gzip and 665 with lz4, 512 KiB
      // at 550 and 585-640, at the same rate (`npm run bench -- ingest`, 2026-12-07).
      maxBytesPerPartition: 512 * 1024,
      maxBytes: 8 * 1024 * 1024,
      maxWaitTimeInMs: 200,
      // Every crash comes to `crashed` below: one restart policy, with our backoff and our limit.
      retry: { retries: 5, restartOnFailure: async () => false },
    })
    // Current before it runs: a crash can come before run() returns.
    current = consumer
    const writes = new WritesInFlight((topic, partition, offset) => consumer.seek({ topic, partition, offset }))
    inFlight = writes
    // Listen before run(): the first join can happen before run() returns.
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      joined = true
      // A partition that moved to another member is that member's to report now.
      const mine = new Set(payload.memberAssignment[options.topic] ?? [])
      for (const partition of stuck.keys()) if (!mine.has(partition)) forget(partition)
    })
    consumer.on(consumer.events.CRASH, ({ payload }) => crashed(consumer, payload.error))
    consumer.on(consumer.events.STOP, () => {
      if (consumer === current) joined = false
    })
    await consumer.connect()
    await consumer.subscribe({ topic: options.topic, fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async (payload) => {
        let outcome: BatchOutcome
        try {
          outcome = await processBatch(payload, deps, writes, options)
        } catch (error) {
          if (error instanceof BatchAbandoned) return
          throw error
        }
        // Progress ends a run of crashes: the next one starts the backoff afresh.
        if (outcome.stored + outcome.duplicates + outcome.deadLetters > 0) {
          crashesInARow = 0
          delay = options.restartDelayMs ?? 1_000
        }
        if (outcome.undecodable) {
          const { topic, partition } = payload.batch
          const entry = { topic, partition, ...outcome.undecodable, since: new Date().toISOString() }
          stuck.set(partition, entry)
          deps.telemetry?.partitionStuck(topic, partition, outcome.undecodable.firstOffset)
          deps.logger.error(
            entry,
            `ingest: partition ${partition} of ${topic} is paused at offset ${entry.firstOffset}: ` +
              `its record batch (offsets ${entry.firstOffset}-${entry.lastOffset}) cannot be decoded ` +
              `(${entry.reason}); the other partitions go on. See README, "A stuck partition".`,
          )
        }
      },
    })
  }

  const forget = (partition: number) => {
    const entry = stuck.get(partition)
    if (!entry) return
    stuck.delete(partition)
    deps.telemetry?.partitionUnstuck(entry.topic, partition)
  }

  await launch()

  function crashed(consumer: Consumer, error: Error) {
    if (stopping || consumer !== current) return
    current = undefined
    joined = false
    for (const partition of [...stuck.keys()]) forget(partition)
    const root = rootCause(error)
    const cause =
      root === error ? `${error.name}: ${error.message}` : `${error.message}; cause ${root.name}: ${root.message}`
    // A broker or network that is away (kafkajs marks those retriable) comes back by itself, and a
    // new process would wait for it all the same: restart for as long as it takes. Anything else
    // (a codec missing, a bug) counts toward giving up.
    if ((root as { retriable?: boolean }).retriable !== true) crashesInARow++
    if (crashesInARow >= maxCrashes) {
      dead = `the ingest consumer crashed ${crashesInARow} times in a row; last: ${cause}`
      deps.logger.fatal({ err: error, crashes: crashesInARow }, `ingest stopped for good: ${dead}`)
      options.onDead?.(dead)
      return
    }
    deps.logger.error(
      { err: error, crashes: crashesInARow, restartInMs: delay },
      `ingest consumer crashed (${cause}); restarting in ${delay} ms`,
    )
    deps.telemetry?.consumerRestarts.inc()
    restartTimer = setTimeout(() => {
      restartTimer = undefined
      if (stopping) return
      restarts++
      launch().catch((launchError: unknown) => {
        // A restart that cannot even connect counts as the next crash in a row.
        const failed = current
        if (!failed) return
        void failed.disconnect().catch(() => undefined)
        crashed(failed, launchError as Error)
      })
    }, delay)
    delay = Math.min(delay * 2, maxRestartDelayMs)
  }

  return {
    joined: () => joined,
    stuckPartitions: () => [...stuck.values()].sort((a, b) => a.partition - b.partition),
    health: () => (dead === undefined ? { running: true, restarts } : { running: false, reason: dead }),
    async stop() {
      stopping = true
      clearTimeout(restartTimer)
      if (current && inFlight) {
        // Fetch no more, and let the chunks in flight be stored and committed (a while at most:
        // a write retrying against a ClickHouse that is down gives up once the consumer stops).
        const writes = inFlight
        writes.closing = true
        current.pause([{ topic: options.topic }])
        await Promise.race([writes.settled(), new Promise((resolve) => setTimeout(resolve, STOP_DRAIN_MS))])
      }
      await current?.disconnect()
    },
  }
}

function rootCause(error: Error): Error {
  let root = error
  while (root.cause instanceof Error) root = root.cause
  return root
}
