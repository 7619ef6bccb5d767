import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { defaultLimits, validateEvent } from '../../schemas/event-validation.ts'
import type { CrmEvent } from '../../schemas/events.schema.ts'
import {
  bodyOf,
  conflictReason,
  deadLetterIndices,
  deduplicate,
  eventKey,
  judgeMessages,
  lineOf,
  validIndices,
  VerdictColumns,
} from '../../services/ingest/batch-classifier.ts'
import {
  bodyHash,
  dayIn,
  daysTouched,
  encodeEvent,
  encodeEventRow,
  toClickHouseTime,
  toEventRow,
} from '../../services/ingest/event-rows.ts'
import { activityEvent, prng } from '../support/synthetic-events.ts'

const event: CrmEvent = {
  event_id: 'e-2',
  org_id: 'acme',
  type: 'opportunity.created',
  schema_version: 1,
  occurred_at: '2026-03-02T10:00:00+02:00',
  source: { system: 'hubspot', ref: 'deal-991' },
  payload: {
    opportunity_id: 'o1',
    account_id: 'a1',
    owner_id: 'r1',
    amount: 12000,
    currency: 'USD',
    stage: 'Discovery',
    stage_category: 'prospecting',
  },
}
const limits = defaultLimits(new Date('2026-04-01T00:00:00Z'))
/** The validator's output for an event known to be valid. */
const validateOk = (e: unknown): CrmEvent => {
  const result = validateEvent(e, limits)
  if (!result.ok) throw new Error(JSON.stringify(result.issues))
  return result.event
}
const message = (value: unknown, offset: string) => ({
  value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  offset,
})

describe('event rows', () => {
  it('builds the event store row: UTC time, envelope columns, the payload as JSON', () => {
    expect(toEventRow(event)).toEqual({
      org_id: 'acme',
      event_id: 'e-2',
      type: 'opportunity.created',
      schema_version: 1,
      occurred_at: '2026-03-02 08:00:00.000',
      source_system: 'hubspot',
      source_ref: 'deal-991',
      payload: JSON.stringify(event.payload),
      body_hash: bodyHash(event),
    })
  })

  it('hashes the validated body: the same event sent with keys in another order hashes alike', () => {
    const reversed = (o: object) => Object.fromEntries(Object.entries(o).reverse())
    const reordered = { ...reversed(event), payload: reversed(event.payload), source: reversed(event.source) }
    expect(Object.keys(reordered)).not.toEqual(Object.keys(event))
    const a = validateEvent(event, limits)
    const b = validateEvent(
      { ...reordered, payload: Object.fromEntries(Object.entries(event.payload).reverse()) },
      limits,
    )
    if (!a.ok || !b.ok) throw new Error('expected valid events')
    expect(bodyHash(b.event)).toBe(bodyHash(a.event))
    expect(bodyHash({ ...a.event, occurred_at: '2026-03-02T10:00:01+02:00' })).not.toBe(bodyHash(a.event))
    expect(bodyHash(a.event)).toMatch(/^\d+$/)
  })

  it('keeps the hash stored by earlier versions: a changed hash would turn redeliveries into conflicts', () => {
    // The first 64 bits of SHA-256 of the JSON body, big-endian, as the event store holds them.
    expect(bodyHash(event)).toBe('7630186315522597419')
  })

  it('converts offsets to UTC with millisecond precision', () => {
    expect(toClickHouseTime('2026-03-01T23:30:00.5-05:00')).toBe('2026-03-02 04:30:00.500')
  })

  it('gives every instant the day Intl gives it, across clock changes and odd offsets', () => {
    const zones = [
      'UTC',
      'Europe/Berlin',
      'America/St_Johns',
      'Asia/Kathmandu',
      'Australia/Lord_Howe',
      'Pacific/Chatham',
      'Asia/Gaza',
      'America/Santiago',
    ]
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: Date.parse('2000-01-01T00:00:00Z'), max: Date.parse('2040-01-01T00:00:00Z') }),
        (zone, at) => {
          const expected = new Intl.DateTimeFormat('en-CA', { timeZone: zone, dateStyle: 'short' }).format(at)
          expect(dayIn(zone, new Date(at).toISOString())).toBe(expected)
        },
      ),
      { numRuns: 5000 },
    )
    // Every minute around a spring-forward and a fall-back at midnight (Santiago, 2022).
    for (const start of ['2022-09-11T02:00:00Z', '2022-04-03T01:00:00Z']) {
      for (let minute = 0; minute < 240; minute++) {
        const at = Date.parse(start) + minute * 60_000
        const expected = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Santiago', dateStyle: 'short' })
        expect(dayIn('America/Santiago', new Date(at).toISOString())).toBe(expected.format(at))
      }
    }
  })

  it('cuts days in the org time zone', () => {
    expect(dayIn('UTC', '2026-03-01T23:30:00Z')).toBe('2026-03-01')
    expect(dayIn('Asia/Tokyo', '2026-03-01T23:30:00Z')).toBe('2026-03-02')
    expect(dayIn('America/Los_Angeles', '2026-03-02T03:00:00Z')).toBe('2026-03-01')
    const a = { ...event, occurred_at: '2026-03-01T23:30:00Z' }
    const b = { ...event, org_id: 'globex', occurred_at: '2026-03-01T23:30:00Z' }
    const c = { ...event, occurred_at: '2026-03-01T10:00:00Z' }
    expect(daysTouched([a, b, c], (org) => (org === 'acme' ? 'Asia/Tokyo' : 'UTC'))).toEqual(
      new Map([
        ['acme', ['2026-03-01', '2026-03-02']],
        ['globex', ['2026-03-01']],
      ]),
    )
  })
})

describe('batch classification', () => {
  it('turns invalid messages into dead letters with the field and rule, keeping the valid ones', () => {
    const verdicts = judgeMessages(
      [
        message(event, '10'),
        message('{"event_id":', '11'),
        message({ ...event, type: 'deal.made' }, '12'),
        { value: null, offset: '13' },
      ],
      limits,
    )
    expect([...verdicts.ok]).toEqual([1, 0, 0, 0])
    expect(validIndices(verdicts)).toEqual([0])
    expect(deadLetterIndices(verdicts)).toEqual([1, 2, 3])
    expect(verdicts.rules).toEqual(['', 'invalid_json', 'enum', 'invalid_json'])
    expect(verdicts.orgIds).toEqual(['acme', null, 'acme', null])
    expect(verdicts.eventIds).toEqual(['e-2', null, 'e-2', null])
    expect(verdicts.reasons[2]).toMatch(/^type: /)
    // Only the valid event has a line, and a dead letter's is empty.
    const { line, bodyHash } = encodeEvent(validateOk(event))
    expect(Buffer.from(lineOf(verdicts, 0)).toString()).toBe(`${line}\n`)
    for (const i of [1, 2, 3]) expect(lineOf(verdicts, i)).toHaveLength(0)
    expect(verdicts.hashes).toEqual([bodyHash, '', '', ''])
    expect(verdicts.occurredAts).toEqual([event.occurred_at, '', '', ''])
  })

  it('writes each valid line once into the chunk, growing it past its first size, whatever its bytes', () => {
    const wide = { ...event, source: { system: 'hubspot', ref: '日本語のテキスト😀'.repeat(300) } }
    const events = Array.from({ length: 40 }, (_, n) => ({ ...(n % 3 === 0 ? wide : event), event_id: `e-${n}` }))
    // Sized for far fewer bytes than the lines take, so that it must grow, several times.
    const columns = new VerdictColumns(events.length + 1, 64)
    events.forEach((e, n) => columns.judge(n, Buffer.from(JSON.stringify(e)), limits))
    columns.judge(events.length, Buffer.from('not json'), limits)
    const verdicts = columns.finish()
    const expected = events.map((e) => `${encodeEvent(validateOk(e)).line}\n`).join('')
    expect(Buffer.from(verdicts.lines).toString()).toBe(expected)
    expect(verdicts.lineEnds.at(-1)).toBe(Buffer.byteLength(expected))
    events.forEach((e, n) =>
      expect(Buffer.from(lineOf(verdicts, n)).toString()).toBe(`${encodeEvent(validateOk(e)).line}\n`),
    )
  })

  it("makes the body of the fresh rows alone, or the chunk's own lines when they all are", () => {
    const events = [0, 1, 2, 3].map((n) => ({ ...event, event_id: `e-${n}` }))
    const verdicts = judgeMessages(
      [
        message(events[0], '1'),
        message('nope', '2'),
        message(events[1], '3'),
        message(events[2], '4'),
        message(events[3], '5'),
      ],
      limits,
    )
    const lineText = (n: number) => `${encodeEvent(validateOk(events[n]!)).line}\n`
    const all = bodyOf(verdicts, validIndices(verdicts), 4)
    expect(all.toString()).toBe([0, 1, 2, 3].map(lineText).join(''))
    expect(all.buffer).toBe(verdicts.lines.buffer)
    expect(bodyOf(verdicts, [2, 4], 4).toString()).toBe(lineText(1) + lineText(3))
    expect(bodyOf(verdicts, [], 4)).toHaveLength(0)
  })

  it('collapses redeliveries, keeps the first body of an id, and reports later bodies as conflicts', () => {
    const changed = { ...event, payload: { ...event.payload, amount: 1 } }
    const other = { ...event, event_id: 'e-3' }
    const verdicts = judgeMessages(
      [message(event, '1'), message(event, '2'), message(changed, '3'), message(other, '4'), message(other, '5')],
      limits,
    )
    const stored = new Map([[eventKey('acme', 'e-3'), bodyHash(other)]])
    const result = deduplicate(verdicts, validIndices(verdicts), stored)
    expect(result.fresh).toEqual([0])
    expect(result.freshHashes).toEqual(new Map([[eventKey('acme', 'e-2'), bodyHash(event)]]))
    expect(result.duplicates).toBe(3)
    expect(result.conflicts).toEqual([2])
    expect(conflictReason('e-2')).toMatch(/^event_id: e-2 was already received with a different body/)
  })

  it('finds ids among the rows in flight, oldest first, as if stored', () => {
    const verdicts = judgeMessages([message(event, '1'), message({ ...event, event_id: 'e-9' }, '2')], limits)
    const inFlight = [
      new Map([[eventKey('acme', 'e-9'), 'other']]),
      new Map([[eventKey('acme', 'e-2'), bodyHash(event)]]),
    ]
    const result = deduplicate(verdicts, validIndices(verdicts), new Map(), inFlight)
    expect(result).toMatchObject({ fresh: [], duplicates: 1, conflicts: [1] })
  })

  it('treats an id already stored with another body as a conflict, not a new event', () => {
    const verdicts = judgeMessages([message(event, '7')], limits)
    const result = deduplicate(verdicts, validIndices(verdicts), new Map([[eventKey('acme', 'e-2'), '12345']]))
    expect(result.fresh).toEqual([])
    expect(result.conflicts).toEqual([0])
  })
})

describe('event rows, fast paths', () => {
  // The reference: the definitions as first written, without the shortcuts of event-rows.ts.
  const referenceTime = (timestamp: string) => {
    const iso = new Date(timestamp).toISOString()
    return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`
  }
  const referenceRow = (e: CrmEvent) => ({
    ...toEventRow(e),
    occurred_at: referenceTime(e.occurred_at),
    payload: JSON.stringify(e.payload),
    body_hash: BigInt(`0x${createHash('sha256').update(JSON.stringify(e)).digest('hex').slice(0, 16)}`).toString(),
  })
  const timestamp = fc
    .record({
      ms: fc.integer({ min: Date.parse('2000-01-01T00:00:00Z'), max: Date.parse('2030-12-31T23:59:59Z') }),
      form: fc.constantFrom('Z', 'ms Z', 'µs Z', 'offset', 'ms offset'),
      offsetMinutes: fc.integer({ min: -14 * 60, max: 14 * 60 }),
    })
    .map(({ ms, form, offsetMinutes }) => {
      const at = new Date(ms)
      const iso = at.toISOString()
      if (form === 'Z') return `${iso.slice(0, 19)}Z`
      if (form === 'ms Z') return iso
      if (form === 'µs Z') return `${iso.slice(0, 23)}456Z`
      const local = new Date(ms + offsetMinutes * 60_000).toISOString()
      const sign = offsetMinutes < 0 ? '-' : '+'
      const hh = String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(2, '0')
      const mm = String(Math.abs(offsetMinutes) % 60).padStart(2, '0')
      return `${local.slice(0, form === 'offset' ? 19 : 23)}${sign}${hh}:${mm}`
    })

  it('cuts UTC times from the text exactly as Date would write them', () => {
    fc.assert(
      fc.property(timestamp, (t) => {
        expect(toClickHouseTime(t)).toBe(referenceTime(t))
      }),
      { numRuns: 2000 },
    )
  })

  it('builds the same row, payload and hash as stringifying the whole event', () => {
    const random = prng(3)
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), timestamp, fc.boolean(), (i, occurredAt, withRef) => {
        const e = { ...activityEvent('acme', i, random), occurred_at: occurredAt }
        const candidate = withRef ? e : { ...e, source: { system: e.source.system } }
        const decoded = validateEvent(candidate, defaultLimits(new Date('2031-01-01T00:00:00Z')))
        if (!decoded.ok) throw new Error(JSON.stringify(decoded.issues))
        expect(toEventRow(decoded.event)).toEqual(referenceRow(decoded.event))
      }),
      { numRuns: 500 },
    )
    // An event whose keys are not in the validator's order takes the plain path, same answer.
    const reordered = Object.fromEntries([
      ['payload', event.payload],
      ...Object.entries(event).filter(([key]) => key !== 'payload'),
    ]) as CrmEvent
    expect(toEventRow(reordered)).toEqual(referenceRow(reordered))
  })

  it("encodes the row's line as encodeEventRow does, with the payload as its JSON object, and its hash", () => {
    // The line as the store reads it: the payload object as its text (input_format_json_read_objects_as_strings).
    const asStored = (line: string) => {
      const columns = JSON.parse(line) as unknown[]
      return JSON.stringify(columns.map((c, i) => (i === 7 ? JSON.stringify(c) : c)))
    }
    const random = prng(5)
    const awkward = ['', ',"payload":{"x":1}', 'a "quoted" \\ ref', '\u2028 ünï 😀']
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.constantFrom(...awkward), (i, ref) => {
        const e = activityEvent('acme', i, random)
        const decoded = validateEvent({ ...e, source: { system: e.source.system, ref } }, limits)
        if (!decoded.ok) throw new Error(JSON.stringify(decoded.issues))
        const { line, bodyHash: hash } = encodeEvent(decoded.event)
        const row = referenceRow(decoded.event)
        expect(asStored(line)).toBe(encodeEventRow(row))
        expect(hash).toBe(row.body_hash)
      }),
      { numRuns: 300 },
    )
    const reordered = Object.fromEntries([
      ['payload', { ...event.payload, payload: { nested: true } }],
      ...Object.entries(event).filter(([key]) => key !== 'payload'),
    ]) as CrmEvent
    expect(asStored(encodeEvent(reordered).line)).toBe(encodeEventRow(referenceRow(reordered)))
    // Every key in order, and one more after them: the payload is no longer the JSON's last key.
    const extended = { ...event, extra: 1 } as CrmEvent
    expect(asStored(encodeEvent(extended).line)).toBe(encodeEventRow(referenceRow(extended)))
  })
})
