// File import logic with an in-memory EventProducer (our own interface; the Kafka path is
// covered by the integration tests).
import { Readable, Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { defaultLimits } from '../../schemas/event-validation.ts'
import { importEvents } from '../../services/collector/file-import.ts'
import type { DeadLetter, EventProducer, OutgoingEvent } from '../../services/kafka/event-producer.ts'

const valid = (id: string, org = 'acme') =>
  JSON.stringify({
    event_id: id,
    org_id: org,
    type: 'recognition.given',
    schema_version: 1,
    occurred_at: '2026-03-02T10:00:00Z',
    source: { system: 'import' },
    payload: { from_id: 'm1', to_ids: ['r1'] },
  })

function recordingProducer(failAfter = Infinity) {
  const sent: OutgoingEvent[] = []
  const dead: DeadLetter[] = []
  let calls = 0
  const producer: EventProducer = {
    async send(events) {
      if (++calls > failAfter) throw new Error('broker unreachable')
      sent.push(...events)
    },
    async sendDeadLetters(letters) {
      dead.push(...letters)
    },
    async disconnect() {},
  }
  return { producer, sent, dead }
}

function sink() {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...chunk.toString().trim().split('\n'))
      done()
    },
  })
  return { stream, lines }
}

const limits = () => defaultLimits(new Date('2026-04-01T00:00:00Z'))

describe('importEvents', () => {
  it('sends valid NDJSON events keyed by org, rejects the rest with line numbers and reasons', async () => {
    const { producer, sent, dead } = recordingProducer()
    const rejected = sink()
    const body = [valid('e1'), '', 'not json', valid('e2', 'globex'), valid('e3').replace('"m1"', '""')].join('\n')
    const summary = await importEvents(
      Readable.from([body]),
      { format: 'ndjson', sourceName: 'events.ndjson', batchSize: 2 },
      { producer, limits, rejected: rejected.stream },
    )
    expect(summary).toMatchObject({ read: 4, accepted: 2, rejected: 2, orgs: ['acme', 'globex'] })
    expect(sent.map((e) => [e.orgId, JSON.parse(e.value.toString()).event_id])).toEqual([
      ['acme', 'e1'],
      ['globex', 'e2'],
    ])
    expect(dead.map((d) => d.source)).toEqual(['import:events.ndjson:3', 'import:events.ndjson:5'])
    expect(dead[1]!.reason).toContain('payload.from_id')
    const lines = rejected.lines.map((l) => JSON.parse(l))
    expect(lines.map((l) => l.line)).toEqual([3, 5])
    expect(lines[1].reasons[0]).toMatchObject({ path: 'payload.from_id', rule: 'too_short' })
    expect(lines[0].raw).toBe('not json')
  })

  it('imports a JSON array', async () => {
    const { producer, sent } = recordingProducer()
    const summary = await importEvents(
      Readable.from([`[${valid('e1')},${valid('e2')}]`]),
      { format: 'json-array', sourceName: 'events.json' },
      { producer, limits },
    )
    expect(summary).toMatchObject({ read: 2, accepted: 2, rejected: 0 })
    expect(sent).toHaveLength(2)
  })

  it('stops with a clear error saying how far it got, and that re-running is safe', async () => {
    const { producer } = recordingProducer(1)
    const body = Array.from({ length: 10 }, (_, i) => valid(`e${i}`)).join('\n')
    await expect(
      importEvents(
        Readable.from([body]),
        { format: 'ndjson', sourceName: 'x', batchSize: 3, maxInFlight: 1 },
        { producer, limits },
      ),
    ).rejects.toMatchObject({
      code: 'IMPORT_SEND_FAILED',
      message: expect.stringContaining('Running the same import again is safe'),
    })
  })
})

describe('importEvents and invalid UTF-8', () => {
  it('rejects an NDJSON line of invalid UTF-8 with its line number (invalid_utf8), as the API does', async () => {
    const { producer, sent, dead } = recordingProducer()
    const rejected = sink()
    // Line 2 holds a Latin-1 "é" (0xE9), not UTF-8; line 3 a valid "é", split across two chunks.
    const [before, after] = valid('e2').split('m1')
    const bad = Buffer.concat([Buffer.from(`${before}m`), Buffer.from([0xe9]), Buffer.from(after!)])
    const good = Buffer.from(valid('e3').replace('"m1"', '"mé"'))
    const body = Buffer.concat([Buffer.from(`${valid('e1')}\r\n`), bad, Buffer.from('\n'), good, Buffer.from('\n')])
    const cut = body.indexOf(Buffer.from('é')) + 1
    const summary = await importEvents(
      Readable.from([body.subarray(0, cut), body.subarray(cut)]),
      { format: 'ndjson', sourceName: 'latin1.ndjson' },
      { producer, limits, rejected: rejected.stream },
    )
    expect(summary).toMatchObject({
      read: 3,
      accepted: 2,
      rejected: 1,
      firstRejections: [{ line: 2, reason: '(root): is not valid UTF-8 text (invalid_utf8)' }],
    })
    expect(sent.map((e) => JSON.parse(e.value.toString()).event_id)).toEqual(['e1', 'e3'])
    expect(sent.map((e) => e.value.toString()).join()).not.toContain('\uFFFD')
    expect(dead.map((d) => [d.source, d.rules])).toEqual([['import:latin1.ndjson:2', ['invalid_utf8']]])
    expect(JSON.parse(rejected.lines[0]!)).toMatchObject({ line: 2, reasons: [{ rule: 'invalid_utf8' }] })
  })

  it('rejects a JSON-array file of invalid UTF-8 as a whole, as the API does', async () => {
    const { producer, sent, dead } = recordingProducer()
    const body = Buffer.concat([Buffer.from(`[${valid('e1')},`), Buffer.from([0xff]), Buffer.from(`${valid('e2')}]`)])
    const summary = await importEvents(
      Readable.from([body]),
      { format: 'json-array', sourceName: 'bad.json' },
      { producer, limits },
    )
    expect(summary).toMatchObject({ accepted: 0, rejected: 1 })
    expect(sent).toEqual([])
    expect(dead[0]!.rules).toEqual(['invalid_utf8'])
  })
})
