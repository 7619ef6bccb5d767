// Fault: ClickHouse writes fail for 30 s (the event store table is detached). Ingest pauses and
// retries with backoff, commits nothing past unstored events, and resumes by itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testClickHouse, uniqueName } from '../support/env.ts'
import {
  checksumOf,
  ingestHarness,
  produceAll,
  storeSummary,
  streamWithDuplicates,
  waitForStored,
  waitUntil,
  type IngestHarness,
} from '../support/ingest-harness.ts'

const ch = testClickHouse('outage')
let harness: IngestHarness
beforeAll(async () => {
  harness = await ingestHarness(ch, 'outage')
})
afterAll(async () => {
  await harness.close()
  await ch.close()
})

const outageSeconds = Number(process.env.INGEST_OUTAGE_SECONDS ?? 30)

describe('ClickHouse failing for a while', () => {
  it('pauses, retries, and ends with every event stored once', async () => {
    const org = uniqueName('outage').toLowerCase()
    const before = streamWithDuplicates(org, 10_000, 21)
    const during = streamWithDuplicates(org, 10_000, 22, 10_000)
    await produceAll(harness.producer, before.messages)
    const ingest = await harness.start({ maxBackoffMs: 4000 })
    await waitUntil('the first events stored', async () => ((await storeSummary(ch, org)).rows > 0 ? true : undefined))

    await ch.client.command({ query: 'DETACH TABLE {db:Identifier}.events', query_params: { db: ch.database } })
    await produceAll(harness.producer, during.messages)
    await new Promise((resolve) => setTimeout(resolve, outageSeconds * 1000))
    const admin = harness.kafka.admin()
    await admin.connect()
    const ends = await admin.fetchTopicOffsets(harness.topic)
    const total = ends.reduce((sum, p) => sum + Number(p.high), 0)
    await ch.client.command({ query: 'ATTACH TABLE {db:Identifier}.events', query_params: { db: ch.database } })

    const expected = [...before.unique, ...during.unique]
    const summary = await waitForStored(ch, org, expected)
    expect(summary.rows).toBe(expected.length)
    expect(summary.checksum).toBe(checksumOf(expected))
    expect(total).toBe(before.messages.length + during.messages.length)
    await admin.disconnect()
    await ingest.stop()
  })
})
