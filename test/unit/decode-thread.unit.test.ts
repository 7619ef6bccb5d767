import { afterAll, describe, expect, it } from 'vitest'
import { defaultLimits } from '../../schemas/event-validation.ts'
import { judgeMessages, validIndices } from '../../services/ingest/batch-classifier.ts'
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
    const here = judgeMessages(messages, limits)
    expect(validIndices(onThread)).toHaveLength(messages.length - 4)
    const comparable = ({ lines, ...columns }: typeof here) => ({ ...columns, lines: Buffer.from(lines).toString() })
    expect(comparable(onThread)).toEqual(comparable(here))
  })

  it('keeps chunks apart when several are in flight', async () => {
    const [a, b] = await Promise.all([
      decoder.decode(messages.slice(0, 10), limits),
      decoder.decode(messages.slice(10), limits),
    ])
    expect([...a!.eventIds, ...b!.eventIds]).toEqual(judgeMessages(messages, limits).eventIds)
  })
})
