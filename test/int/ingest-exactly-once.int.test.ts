// Ingest stores every valid event exactly once, whatever the duplication and order, sends every
// invalid one to the dead-letter topic with its reason, and signals Temporal once per batch per
// org. Real Kafka, real ClickHouse engine (chDB), real Temporal server.
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CrmEvent } from '../../schemas/events.schema.ts'
import { metricsShardOf, metricsShardWorkflowId } from '../../workflows/metrics-shard-workflow.ts'
import { testClickHouse, uniqueName } from '../support/env.ts'
import { createClickHouseEventStore, type EventStore } from '../../services/ingest/event-store.ts'
import {
  checksumOf,
  committedAll,
  ingestHarness,
  readTopic,
  storeSummary,
  waitUntil,
  type IngestHarness,
} from '../support/ingest-harness.ts'
import { activityEvent, prng, shuffle } from '../support/synthetic-events.ts'

const ch = testClickHouse('ingest')
let harness: IngestHarness

beforeAll(async () => {
  harness = await ingestHarness(ch, 'ingest')
})
afterAll(async () => {
  await harness.close()
  await ch.close()
})

const storeSummaryOf = (org: string) => storeSummary(ch, org)

describe('ingest', () => {
  it('stores exactly the unique valid events of a shuffled stream with 5% duplicates and 1% invalid', async () => {
    const org = uniqueName('org').toLowerCase()
    const total = Number(process.env.INGEST_TEST_EVENTS ?? 200_000)
    const random = prng(42)
    const unique = Array.from({ length: Math.round(total * 0.94) }, (_, i) => activityEvent(org, i, random))
    const duplicates = Array.from(
      { length: Math.round(total * 0.05) },
      () => unique[Math.floor(random() * unique.length)]!,
    )
    const invalid = Array.from({ length: total - unique.length - duplicates.length }, (_, i) =>
      i % 2 === 0
        ? JSON.stringify({ ...activityEvent(org, 10_000_000 + i, random), type: 'activity.deleted' })
        : `{"event_id":"broken-${i}","org_id":"${org}"`,
    )
    const stream = shuffle(
      [...unique.map((e) => JSON.stringify(e)), ...duplicates.map((e) => JSON.stringify(e)), ...invalid],
      random,
    )
    for (let i = 0; i < stream.length; i += 5000) {
      await harness.producer.send(stream.slice(i, i + 5000).map((value) => ({ orgId: org, value })))
    }
    const ingest = await harness.start()
    const summary = await waitUntil(
      'all unique events stored',
      async () => {
        const s = await storeSummaryOf(org)
        return s.unique_ids >= unique.length ? s : undefined
      },
      300_000,
    )
    expect(summary.rows).toBe(unique.length)
    expect(summary.unique_ids).toBe(unique.length)
    expect(summary.checksum).toBe(checksumOf(unique))

    const letters = await readTopic(harness.kafka, harness.dlqTopic, invalid.length)
    expect(letters).toHaveLength(invalid.length)
    expect(new Set(letters.map((l) => l.value.toString()))).toEqual(new Set(invalid))
    for (const letter of letters) {
      expect(letter.headers['dugout-reason']).toMatch(/^(type|\(root\))/)
      expect(letter.headers['dugout-origin-topic']).toBe(harness.topic)
      expect(Number(letter.headers['dugout-origin-offset'])).toBeGreaterThanOrEqual(0)
    }
    await ingest.stop()
  })

  it('keeps the first body of an event_id and dead-letters a conflicting one', async () => {
    const org = uniqueName('conflict').toLowerCase()
    const first = activityEvent(org, 1, prng(7))
    const second = { ...first, payload: { ...first.payload, duration_seconds: 1 } } as CrmEvent
    await harness.producer.send([{ orgId: org, value: JSON.stringify(first) }])
    const ingest = await harness.start()
    await waitUntil('first stored', async () => ((await storeSummaryOf(org)).rows === 1 ? true : undefined))
    await harness.producer.send([
      { orgId: org, value: JSON.stringify(second) },
      { orgId: org, value: JSON.stringify(first) },
    ])
    const letters = await readTopic(harness.kafka, harness.dlqTopic, 1)
    const conflict = letters.find((l) => l.headers['dugout-event-id'] === first.event_id)
    expect(conflict?.headers['dugout-rule']).toBe('conflict')
    expect(JSON.parse(conflict!.value.toString())).toEqual(second)
    const summary = await storeSummaryOf(org)
    expect(summary.rows).toBe(1)
    expect(summary.checksum).toBe(checksumOf([first]))
    await ingest.stop()
  })

  it('checks each chunk against the chunks before it while they are still being stored', async () => {
    // Chunks of 100, and a store that takes its time before writing: the ids of the second and
    // the third chunk are looked up while the first chunk is not in the store yet (two chunks are
    // stored at once), and both carry redeliveries of it. Decoded on a thread of its own.
    const org = uniqueName('pipeline').toLowerCase()
    const random = prng(11)
    const first = Array.from({ length: 100 }, (_, i) => activityEvent(org, i, random))
    const later = Array.from({ length: 100 }, (_, i) => activityEvent(org, 100 + i, random))
    const conflicting = first.slice(50, 60).map((e) => {
      const { duration_seconds } = e.payload as { duration_seconds: number }
      return { ...e, payload: { ...e.payload, duration_seconds: duration_seconds + 1 } } as CrmEvent
    })
    const stream = [
      ...[...first],
      ...[...first.slice(0, 50), ...conflicting, ...later.slice(0, 40)],
      ...[...first.slice(60), ...later.slice(40)],
    ]
    // A harness of its own, so that its dead-letter topic holds only this test's letters.
    const own = await ingestHarness(ch, 'pipeline')
    await own.producer.send(stream.map((e) => ({ orgId: org, value: JSON.stringify(e) })))
    const store = createClickHouseEventStore(ch)
    const slowStore: EventStore = {
      storedHashes: (keys) => store.storedHashes(keys),
      insert: async (rows, token) => {
        await sleep(500)
        await store.insert(rows, token)
      },
    }
    const ingest = await own.start({ store: slowStore, chunkMessages: 100, decodeThreads: 1 })
    const expected = [...first, ...later]
    const summary = await waitUntil('every unique event stored', async () => {
      const s = await storeSummaryOf(org)
      return s.unique_ids >= expected.length ? s : undefined
    })
    await waitUntil('every offset committed', async () =>
      (await committedAll(own.kafka, own.groupId, own.topic)) ? true : undefined,
    )
    expect(await storeSummaryOf(org)).toEqual({ ...summary, rows: expected.length })
    expect(summary.checksum).toBe(checksumOf(expected))
    const letters = await readTopic(own.kafka, own.dlqTopic, conflicting.length)
    expect(letters.map((l) => [l.headers['dugout-event-id'], l.headers['dugout-rule']])).toEqual(
      conflicting.map((e) => [e.event_id, 'conflict']),
    )
    await ingest.stop()
    await own.close()
  })

  it('shares the partitions between two ingest processes of one group, each event stored once', async () => {
    // Several ingest processes scale out by joining one consumer group: Kafka gives each a share
    // of the partitions. Here both share one engine, as processes share a ClickHouse server.
    const own = await ingestHarness(ch, 'group')
    const random = prng(23)
    const orgs = Array.from({ length: 12 }, (_, i) => uniqueName(`group-${i}`).toLowerCase())
    const events = orgs.flatMap((org) => Array.from({ length: 300 }, (_, i) => activityEvent(org, i, random)))
    const stream = shuffle([...events, ...events.slice(0, 500)], random)
    // Each process's own store, counting the rows it wrote.
    const written = [0, 0]
    const countingStore = (n: number): EventStore => {
      const store = createClickHouseEventStore(ch)
      return {
        storedHashes: (keys) => store.storedHashes(keys),
        insert: async (body, token) => {
          await store.insert(body, token)
          written[n]! += body.toString().split('\n').filter(Boolean).length
        },
      }
    }
    const first = await own.start({ store: countingStore(0), chunkMessages: 200 })
    const second = await own.start({ store: countingStore(1), chunkMessages: 200 })
    const admin = own.kafka.admin()
    await admin.connect()
    await waitUntil('both processes in the group, each with partitions', async () => {
      const { groups } = await admin.describeGroups([own.groupId])
      const members = groups[0]?.members ?? []
      return groups[0]?.state === 'Stable' && members.length === 2 ? true : undefined
    })
    await admin.disconnect()
    await own.producer.send(stream.map((e) => ({ orgId: e.org_id, value: JSON.stringify(e) })))
    await waitUntil('every offset committed', async () =>
      (await committedAll(own.kafka, own.groupId, own.topic)) ? true : undefined,
    )
    expect(written[0]).toBeGreaterThan(0)
    expect(written[1]).toBeGreaterThan(0)
    expect(written[0]! + written[1]!).toBe(events.length)
    for (const org of orgs) {
      const expected = events.filter((e) => e.org_id === org)
      expect(await storeSummaryOf(org)).toEqual({
        rows: expected.length,
        unique_ids: expected.length,
        checksum: checksumOf(expected),
      })
    }
    await first.stop()
    await second.stop()
    await own.close()
  })

  it("signals the org's metrics shard once per batch with the days the batch touched", async () => {
    const org = uniqueName('signal').toLowerCase()
    const events = [
      { ...activityEvent(org, 1, prng(1)), occurred_at: '2026-03-02T10:00:00Z' },
      { ...activityEvent(org, 2, prng(2)), occurred_at: '2026-03-02T11:00:00Z' },
      { ...activityEvent(org, 3, prng(3)), occurred_at: '2026-03-05T23:59:00Z' },
    ] as CrmEvent[]
    await harness.producer.send(events.map((e) => ({ orgId: org, value: JSON.stringify(e) })))
    const ingest = await harness.start()
    const handle = harness.temporal.workflow.getHandle(metricsShardWorkflowId(harness.taskQueue, metricsShardOf(org)))
    // The shard is shared with the other orgs of this file: only the signals naming this org count.
    const ofOrg = (e: { workflowExecutionSignaledEventAttributes?: unknown }) => {
      const attributes = e.workflowExecutionSignaledEventAttributes as
        { input?: { payloads?: { data?: Uint8Array | null }[] | null } | null } | undefined
      const data = attributes?.input?.payloads?.[0]?.data
      if (!data) return undefined
      const body = JSON.parse(Buffer.from(data).toString()) as { orgs: Record<string, string[]> }
      return body.orgs[org]
    }
    const signals = await waitUntil('the signal', async () => {
      const history = await handle.fetchHistory()
      const received = (history.events ?? []).filter((e) => ofOrg(e) !== undefined)
      return received.length > 0 ? received : undefined
    })
    const attributes = signals[0]!.workflowExecutionSignaledEventAttributes!
    expect(attributes.signalName).toBe('orgsTouched')
    expect(ofOrg(signals[0]!)).toEqual(['2026-03-02', '2026-03-05'])
    expect(signals).toHaveLength(1)
    await ingest.stop()
    await handle.terminate('test over')
  })
})
