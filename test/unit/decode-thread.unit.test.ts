import { afterAll, describe, expect, it } from 'vitest'
import { defaultLimits } from '../../schemas/event-validation.ts'
import { decodeMessages } from '../../services/ingest/batch-classifier.ts'
import { threadDecoder } from '../../services/ingest/decode-thread.ts'
import { activityEvent, prng } from '../support/synthetic-events.ts'

const limits = defaultLimits(new Date())
const random = prng(5)
const valid = Array.from({ length: 50 }, (_, i) => activityEvent('acme', i, random))
const messages = [
  ...valid.slice(0, 20).map((e) => JSON.stringify(e)),
  // Non-ASCII text, whose line is longer in bytes than in characters.
  JSON.stringify({ ...valid[20]!, event_id: 'ünïcødé-🦆', source: { system: 'hubspot', ref: 'Zürich ✓' } }),
  '{"event_id":',
  JSON.stringify({ ...valid[21]!, type: 'deal.made' }),
  null,
  Buffer.from([0x7b, 0xff, 0x7d]),
  ...valid.slice(22).map((e) => JSON.stringify(e)),
].map((value, i) => ({ value: value === null ? null : Buffer.from(value), offset: String(100 + i) }))

describe('decoding on a thread of its own', () => {
  const decoder = threadDecoder(1)
  afterAll(() => decoder.close())

  it('gives the verdicts, rows and lines of decoding on this thread, in order', async () => {
    const onThread = await decoder.decode(messages, limits)
    const here = decodeMessages(messages, limits)
    expect(onThread.map((c) => c.kind)).toEqual(here.map((c) => c.kind))
    expect(onThread.filter((c) => c.kind === 'dlq')).toHaveLength(4)
    const comparable = (classified: typeof here) =>
      classified.map((c) => ({
        ...c,
        raw: c.raw.toString('hex'),
        ...('line' in c ? { line: Buffer.from(c.line).toString() } : {}),
      }))
    expect(comparable(onThread)).toEqual(comparable(here))
  })

  it('keeps chunks apart when several are in flight', async () => {
    const [a, b] = await Promise.all([
      decoder.decode(messages.slice(0, 10), limits),
      decoder.decode(messages.slice(10), limits),
    ])
    expect([...a!, ...b!].map((c) => c.offset)).toEqual(messages.map((m) => m.offset))
  })
})
