// The writes a batch leaves in flight when it hands back to kafkajs (ingest-consumer.ts): the
// partition's next fetch starts after them, their commits stay in order, and a chunk that is not
// stored in the end moves its partition back to it, so no offset is ever skipped.
import type { EachBatchPayload } from 'kafkajs'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { defaultLimits } from '../../schemas/event-validation.ts'
import { processBatch, WritesInFlight, type IngestDeps } from '../../services/ingest/ingest-consumer.ts'
import { activityEvent, prng } from '../support/synthetic-events.ts'

const topic = 'events'
const partition = 0
const random = prng(5)

/** A batch of `count` events from `first` on, as kafkajs hands it over, recording what ingest does. */
function batchAt(first: number, count: number, kafka: FakeKafka): EachBatchPayload {
  const messages = Array.from({ length: count }, (_, i) => ({
    offset: String(first + i),
    value: Buffer.from(JSON.stringify(activityEvent('acme', first + i, random))),
  }))
  return {
    batch: { topic, partition, messages, offsetLag: () => '0' },
    heartbeat: async () => undefined,
    isRunning: () => true,
    isStale: () => false,
    pause: () => () => undefined,
    resolveOffset: (offset: string) => kafka.resolved.push(offset),
    commitOffsetsIfNecessary: async (offsets: { topics: { partitions: { offset: string }[] }[] }) => {
      const offset = offsets.topics[0]!.partitions[0]!.offset
      if (kafka.refuseCommit(offset)) throw Object.assign(new Error('rebalancing'), { type: 'REBALANCE_IN_PROGRESS' })
      kafka.committed.push(offset)
    },
  } as unknown as EachBatchPayload
}

interface FakeKafka {
  resolved: string[]
  committed: string[]
  seeks: string[]
  refuseCommit: (offset: string) => boolean
}

function fakeKafka(refuseCommit: (offset: string) => boolean = () => false): FakeKafka {
  return { resolved: [], committed: [], seeks: [], refuseCommit }
}

/** Ingest's dependencies, with a store whose inserts wait for the test to let them through. */
function depsWithGate() {
  const inserted: string[] = []
  let open!: () => void
  const gate = new Promise<void>((resolve) => (open = resolve))
  const deps = {
    store: {
      storedHashes: async () => new Map<string, string>(),
      insert: async (_body: Buffer, token: string) => {
        await gate
        inserted.push(token)
      },
    },
    notifier: { daysTouched: async () => undefined },
    deadLetters: { sendDeadLetters: async () => undefined },
    timeZoneOf: async () => 'UTC',
    limits: () => defaultLimits(new Date('2026-04-01T00:00:00Z')),
    logger: pino({ level: 'silent' }),
  } as unknown as IngestDeps
  return { deps, inserted, open }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20))

describe('chunk writes carried from one batch to the next', () => {
  it('returns once its chunks are dispatched; the next fetch starts after them and the commits follow in order', async () => {
    const kafka = fakeKafka()
    const inFlight = new WritesInFlight((_t, _p, offset) => kafka.seeks.push(offset))
    const { deps, inserted, open } = depsWithGate()
    const outcome = await processBatch(batchAt(0, 20, kafka), deps, inFlight, { chunkMessages: 10 })
    // Nothing is stored yet, but the batch has handed back with both chunks' offsets resolved.
    expect(outcome.stored).toBe(0)
    expect(kafka.resolved).toEqual(['9', '19'])
    expect(kafka.committed).toEqual([])
    open()
    await inFlight.settled()
    expect(inserted).toEqual([`${topic}:${partition}:0-9`, `${topic}:${partition}:10-19`])
    expect(kafka.committed).toEqual(['10', '20'])
    expect(kafka.seeks).toEqual([])
  })

  it('moves the partition back to the first chunk whose offsets could not be committed', async () => {
    // The second chunk's commit is refused (the group is rebalancing): that chunk, and every later
    // one of the partition, must be fetched again, although the next batch was already fetched.
    const kafka = fakeKafka((offset) => offset === '20')
    const inFlight = new WritesInFlight((_t, _p, offset) => kafka.seeks.push(offset))
    const { deps, open } = depsWithGate()
    await processBatch(batchAt(0, 20, kafka), deps, inFlight, { chunkMessages: 10 })
    open()
    await settle()
    await expect(processBatch(batchAt(20, 20, kafka), deps, inFlight, { chunkMessages: 10 })).rejects.toThrow(
      /rebalancing/,
    )
    expect(kafka.committed).toEqual(['10'])
    expect(kafka.seeks).toEqual(['10'])
    expect(inFlight.writes).toEqual([])
  })
})
