// Interop: events sent by a producer Dugout did not write — Kafka's own console producer, the Java
// client — with each of Kafka's five codecs, keyed and unkeyed, plus a null value and a value that
// is not JSON. Every valid event is stored exactly once, the others reach the dead-letter topic
// with their reason, and the reports equal those of the same events sent by `dugout import`.
import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultLimits } from '../../schemas/event-validation.ts'
import type { CrmEvent } from '../../schemas/events.schema.ts'
import { importEvents } from '../../services/collector/file-import.ts'
import { generateOrg } from '../../services/demo/org-generator.ts'
import { REPORT_NAMES, runReportFromEvents } from '../../services/reports/report-queries.ts'
import { testClickHouse, uniqueName } from '../support/env.ts'
import { ingestHarness, readTopic, storeSummary, waitForStored, type IngestHarness } from '../support/ingest-harness.ts'
import { consoleProduce } from '../support/kafka-tools.ts'

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
const RANGE = { from: '2026-03-02', to: '2026-03-15' }
const ch = testClickHouse('interop')
let harness: IngestHarness
const run = uniqueName('interop').toLowerCase().replaceAll('_', '-').slice(-12)

/** The same small org under another id: identical events otherwise, duplicates and late ones included. */
function orgEvents(org: string): { lines: string[]; unique: CrmEvent[] } {
  const lines: string[] = []
  const unique = new Map<string, CrmEvent>()
  for (const event of generateOrg({ org, managers: 2, repsPerManager: 3, weeks: 2, seed: 7, start: RANGE.from })) {
    lines.push(JSON.stringify(event))
    unique.set(event.event_id, event)
  }
  return { lines, unique: [...unique.values()] }
}

beforeAll(async () => {
  harness = await ingestHarness(ch, 'interop')
  await harness.start()
})
afterAll(async () => {
  await harness?.close()
  await ch.close()
})

describe('events from a producer Dugout did not write', () => {
  it('are stored exactly once with every codec, keyed or not, with the bad ones dead-lettered', async () => {
    const reference = `ref-${run}`
    const { lines: referenceLines, unique: referenceEvents } = orgEvents(reference)
    const imported = await importEvents(
      Readable.from(referenceLines.map((l) => `${l}\n`)),
      { format: 'ndjson', sourceName: 'interop.ndjson' },
      { producer: harness.producer, limits: () => defaultLimits(new Date()) },
    )
    expect(imported.rejected).toBe(0)

    for (const codec of CODECS) {
      const org = `${codec}-${run}`
      const { lines } = orgEvents(org)
      const half = Math.floor(lines.length / 2)
      // Keyed by org as Dugout's producer does, with a null value and a non-JSON value among them;
      // then unkeyed, as many producers send (the org is in the event, not the key).
      await consoleProduce(
        [...lines.slice(0, half).map((l) => `${org}\t${l}`), `${org}\tNULL`, `${org}\tnot json at all`],
        { topic: harness.topic, codec, keyed: true },
      )
      await consoleProduce(lines.slice(half), { topic: harness.topic, codec, keyed: false })
    }

    for (const codec of CODECS) {
      const org = `${codec}-${run}`
      const { unique } = orgEvents(org)
      const summary = await waitForStored(ch, org, unique)
      // Exactly once: one physical row per id although the generator sends some events twice.
      expect({ codec, rows: summary.rows, ids: summary.unique_ids }).toEqual({
        codec,
        rows: unique.length,
        ids: unique.length,
      })
    }
    await waitForStored(ch, reference, referenceEvents)

    const letters = await readTopic(harness.kafka, harness.dlqTopic, 2 * CODECS.length)
    expect(letters).toHaveLength(2 * CODECS.length)
    for (const letter of letters) {
      expect(letter.headers['dugout-rule']).toBe('invalid_json')
      expect(letter.headers['dugout-origin-topic']).toBe(harness.topic)
      expect(letter.headers['dugout-reason']).toBeTruthy()
    }
    expect(letters.map((l) => l.value.toString()).sort()).toEqual(
      [...CODECS.map(() => ''), ...CODECS.map(() => 'not json at all')].sort(),
    )

    for (const name of REPORT_NAMES) {
      const expected = await runReportFromEvents(ch, name, { org: reference, ...RANGE })
      expect(expected.length).toBeGreaterThan(0)
      for (const codec of CODECS) {
        const rows = await runReportFromEvents(ch, name, { org: `${codec}-${run}`, ...RANGE })
        expect({ codec, name, rows }).toEqual({ codec, name, rows: expected })
      }
    }
    // Nothing of the reference org leaked into another (tenancy) and nothing is left over.
    expect((await storeSummary(ch, reference)).rows).toBe(referenceEvents.length)
  })
})
