import { describe, it, expect } from 'vitest'
import {
  decodeBatch,
  decodeEvent,
  defaultLimits,
  formatIssues,
  validateEvent,
  type DecodeResult,
} from '../../schemas/event-validation.ts'

const NOW = new Date('2026-03-10T12:00:00Z')
const limits = defaultLimits(NOW)

const VALID = {
  event_id: 'e-1',
  org_id: 'acme',
  type: 'message.sent',
  schema_version: 1,
  occurred_at: '2026-03-02T14:05:00Z',
  source: { system: 'api' },
  payload: { message_id: 'm1', thread_id: 't1', sender_id: 'u1', recipient_ids: ['u2'], channel: 'chat' },
}
const VALID_TEXT = JSON.stringify(VALID)

/** VALID as JSON text with `replacement` spliced in place of the recipient list. */
const withRecipients = (replacement: string) => VALID_TEXT.replace('["u2"]', replacement)

function refused(result: DecodeResult) {
  if (result.ok) throw new Error('expected the event to be refused')
  return result
}

describe('defaultLimits', () => {
  it('holds the pipeline defaults', () => {
    expect(limits).toEqual({
      now: NOW,
      earliest: new Date('2000-01-01T00:00:00Z'),
      maxFutureMs: 86_400_000,
      maxEventBytes: 65_536,
      maxDepth: 16,
    })
  })
})

describe('validateEvent: occurred_at window', () => {
  const at = (occurred_at: string) => validateEvent({ ...VALID, occurred_at }, limits)

  it('accepts now, the earliest instant and now + 1 day', () => {
    expect(at(NOW.toISOString()).ok).toBe(true)
    expect(at('2000-01-01T00:00:00Z').ok).toBe(true)
    expect(at('2026-03-11T12:00:00Z').ok).toBe(true)
    expect(at('2026-03-11T13:00:00+01:00').ok).toBe(true)
  })

  it('refuses 1999 and now + 2 days', () => {
    for (const occurredAt of [
      '1999-12-31T23:59:59Z',
      '1999-06-01T00:00:00Z',
      '2026-03-12T12:00:00Z',
      '2026-03-11T12:00:00.001Z',
    ]) {
      const result = at(occurredAt)
      expect(result.ok).toBe(false)
      expect(!result.ok && result.issues).toEqual([
        {
          path: 'occurred_at',
          rule: 'timestamp_out_of_range',
          message: `occurred_at: must lie between 2000-01-01T00:00:00.000Z and 2026-03-11T12:00:00.000Z, got ${occurredAt}`,
        },
      ])
    }
  })

  it('applies the offset before comparing', () => {
    expect(at('2000-01-01T00:30:00+01:00').ok).toBe(false)
    expect(at('2026-03-11T11:30:00-01:00').ok).toBe(false)
  })

  it('reports the window together with other problems', () => {
    const result = validateEvent({ ...VALID, occurred_at: '1999-01-01T00:00:00Z', org_id: 'ACME' }, limits)
    expect(!result.ok && result.issues.map((i) => i.rule)).toEqual(['pattern', 'timestamp_out_of_range'])
  })
})

describe('decodeEvent', () => {
  it('decodes a valid event from text and from bytes, keeping the raw text', () => {
    expect(decodeEvent(VALID_TEXT, limits)).toEqual({ ok: true, event: VALID, raw: VALID_TEXT })
    expect(decodeEvent(Buffer.from(VALID_TEXT), limits)).toEqual({ ok: true, event: VALID, raw: VALID_TEXT })
    expect(decodeEvent(`\uFEFF${VALID_TEXT}\n`, limits).ok).toBe(true)
  })

  it('refuses invalid JSON', () => {
    const result = refused(decodeEvent('{"event_id":"e-1",', limits))
    expect(result.raw).toBe('{"event_id":"e-1",')
    expect(result.issues).toEqual([expect.objectContaining({ path: '(root)', rule: 'invalid_json' })])
    expect(result.issues[0]!.message).toMatch(/^\(root\): is not valid JSON: /)
    expect(refused(decodeEvent('', limits)).issues[0]!.rule).toBe('invalid_json')
  })

  it('refuses invalid UTF-8 bytes', () => {
    const inString = Buffer.concat([Buffer.from('{"event_id":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')])
    const overlong = Buffer.from([0x7b, 0xc0, 0xaf, 0x7d])
    const encodedSurrogate = Buffer.concat([Buffer.from('"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"')])
    for (const bytes of [inString, overlong, encodedSurrogate, Buffer.from([0xff])]) {
      const result = refused(decodeEvent(bytes, limits))
      expect(result.issues).toEqual([
        { path: '(root)', rule: 'invalid_utf8', message: '(root): is not valid UTF-8 text' },
      ])
      expect(typeof result.raw).toBe('string')
    }
  })

  it('refuses strings that UTF-8 cannot encode', () => {
    expect(refused(decodeEvent(`${VALID_TEXT}\uD800`, limits)).issues[0]!.rule).toBe('invalid_utf8')
    const escaped = refused(decodeEvent(withRecipients('["\\ud800"]'), limits))
    expect(escaped.issues).toEqual([
      expect.objectContaining({ path: 'payload.recipient_ids[0]', rule: 'invalid_utf8' }),
    ])
    expect(escaped.eventId).toBe('e-1')
  })

  it('refuses __proto__, constructor and prototype keys at any depth without polluting', () => {
    const texts = [
      '{"__proto__":{"polluted":"yes"}}',
      VALID_TEXT.replace('"payload":{', '"payload":{"__proto__":{"polluted":"yes"},'),
      VALID_TEXT.replace('"source":{', '"source":{"constructor":{"prototype":{"polluted":"yes"}},'),
      withRecipients('[{"prototype":{"polluted":"yes"}}]'),
    ]
    const paths = ['__proto__', 'payload.__proto__', 'source.constructor', 'payload.recipient_ids[0].prototype']
    texts.forEach((text, i) => {
      const result = refused(decodeEvent(text, limits))
      expect(result.issues).toContainEqual(expect.objectContaining({ path: paths[i], rule: 'forbidden_key' }))
    })
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty('polluted')
  })

  it('refuses numbers that are not finite', () => {
    const text = VALID_TEXT.replace('"payload":{', '"payload":{"amount":1e999,"n":-1e999,')
    const result = refused(decodeEvent(text, limits))
    expect(result.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'payload.amount', rule: 'not_finite' }),
        expect.objectContaining({ path: 'payload.n', rule: 'not_finite' }),
      ]),
    )
    expect(result.raw).toContain('1e999')
  })

  it('refuses deep nesting without overflowing the stack', () => {
    for (const depth of [1000, 200_000]) {
      const deep = withRecipients(`${'['.repeat(depth)}${']'.repeat(depth)}`)
      const result = refused(decodeEvent(deep, { ...limits, maxEventBytes: 1 << 20 }))
      expect(result.issues).toEqual([expect.objectContaining({ path: '(root)', rule: 'too_deep' })])
    }
    const objects = `${'{"a":'.repeat(1000)}1${'}'.repeat(1000)}`
    expect(refused(decodeEvent(objects, limits)).issues[0]!.rule).toBe('too_deep')
  })

  it('counts depth from the event object and ignores brackets inside strings', () => {
    expect(decodeEvent(VALID_TEXT, { ...limits, maxDepth: 3 }).ok).toBe(true)
    expect(refused(decodeEvent(VALID_TEXT, { ...limits, maxDepth: 2 })).issues[0]!.rule).toBe('too_deep')
    const brackets = VALID_TEXT.replace('"m1"', `"${'[{'.repeat(50)}\\"["`)
    expect(decodeEvent(brackets, limits).ok).toBe(true)
  })

  it('refuses an event larger than maxEventBytes, counted in UTF-8 bytes', () => {
    const big = VALID_TEXT.replace('"t1"', `"${'x'.repeat(70_000)}"`)
    const result = refused(decodeEvent(big, limits))
    expect(result.issues).toEqual([expect.objectContaining({ path: '(root)', rule: 'too_large' })])
    expect(result.raw).toBe(big)
    // 30 000 characters, 90 000 bytes.
    const wide = VALID_TEXT.replace('"t1"', `"${'€'.repeat(30_000)}"`)
    expect(refused(decodeEvent(Buffer.from(wide), limits)).issues[0]!.rule).toBe('too_large')
    expect(refused(decodeEvent(wide, limits)).issues[0]!.rule).toBe('too_large')
  })

  it('names the event of a refusal when it can', () => {
    const result = refused(decodeEvent(withRecipients('[]'), limits))
    expect(result).toMatchObject({ eventId: 'e-1', orgId: 'acme' })
    expect(formatIssues(result.issues)).toBe('payload.recipient_ids: must contain at least 1 id (too_short)')
    const unnamed = refused(decodeEvent('{"event_id":5}', limits))
    expect(unnamed.eventId).toBeUndefined()
  })

  it('checks the time window', () => {
    const future = VALID_TEXT.replace('2026-03-02T14:05:00Z', '2026-03-12T12:00:01Z')
    expect(refused(decodeEvent(future, limits)).issues[0]!.rule).toBe('timestamp_out_of_range')
  })
})

describe('decodeBatch', () => {
  it('decodes a mixed NDJSON batch: each bad line fails alone with its field and rule', () => {
    const invalidField = withRecipients('[]')
    const body = [
      VALID_TEXT,
      '{"event_id": nope}',
      invalidField,
      '',
      '   ',
      `${VALID_TEXT.replace('e-1', 'e-2')}\r`,
      '',
    ].join('\n')
    const results = decodeBatch(body, 'ndjson', limits)
    expect(results.map((r) => [r.index, r.line, r.ok])).toEqual([
      [0, 1, true],
      [1, 2, false],
      [2, 3, false],
      [3, 6, true],
    ])
    expect(results[0]).toMatchObject({ ok: true, raw: VALID_TEXT, event: VALID })
    expect(results[1]).toMatchObject({ raw: '{"event_id": nope}', issues: [{ path: '(root)', rule: 'invalid_json' }] })
    expect(results[2]).toMatchObject({
      raw: invalidField,
      eventId: 'e-1',
      issues: [{ path: 'payload.recipient_ids', rule: 'too_short' }],
    })
    expect(results[3]).toMatchObject({ ok: true, event: { event_id: 'e-2' } })
  })

  it('decodes NDJSON bytes line by line, so invalid UTF-8 fails only its line', () => {
    const body = Buffer.concat([
      Buffer.from(`${VALID_TEXT}\r\n`),
      Buffer.from([0x7b, 0xff, 0x7d, 0x0a]),
      Buffer.from(VALID_TEXT),
    ])
    const results = decodeBatch(body, 'ndjson', limits)
    expect(results.map((r) => r.ok)).toEqual([true, false, true])
    expect(results[1]).toMatchObject({ index: 1, line: 2, issues: [{ rule: 'invalid_utf8' }] })
  })

  it('returns nothing for an empty or blank NDJSON body', () => {
    expect(decodeBatch('', 'ndjson', limits)).toEqual([])
    expect(decodeBatch('\n \r\n\t\n', 'ndjson', limits)).toEqual([])
    expect(decodeBatch(Buffer.alloc(0), 'ndjson', limits)).toEqual([])
  })

  it('decodes a JSON array, each element with its own raw text', () => {
    const bad = withRecipients('[]')
    const body = Buffer.from(`[ ${VALID_TEXT},\n ${bad}, 42, {"amount": 1e999, "s": "],[{"} ]`)
    const results = decodeBatch(body, 'json-array', limits)
    expect(results.map((r) => [r.index, r.ok, r.raw])).toEqual([
      [0, true, VALID_TEXT],
      [1, false, bad],
      [2, false, '42'],
      [3, false, '{"amount": 1e999, "s": "],[{"}'],
    ])
    expect(results[1]).toMatchObject({ issues: [{ path: 'payload.recipient_ids', rule: 'too_short' }] })
    expect(results[2]).toMatchObject({ issues: [{ path: '(root)', rule: 'type' }] })
    expect(results[3]).toMatchObject({ issues: [{ path: 'amount', rule: 'not_finite' }] })
    expect(results.every((r) => r.line === undefined)).toBe(true)
  })

  it('treats a JSON body that is not an array, or not JSON, as one failure', () => {
    expect(decodeBatch(VALID_TEXT, 'json-array', limits)).toEqual([
      {
        ok: false,
        index: 0,
        raw: VALID_TEXT,
        issues: [{ path: '(root)', rule: 'type', message: '(root): must be a JSON array of events, got object' }],
      },
    ])
    expect(decodeBatch(`[${VALID_TEXT},`, 'json-array', limits)).toMatchObject([
      { ok: false, index: 0, issues: [{ rule: 'invalid_json' }] },
    ])
    expect(decodeBatch(Buffer.from([0x5b, 0xff, 0x5d]), 'json-array', limits)).toMatchObject([
      { ok: false, index: 0, issues: [{ rule: 'invalid_utf8' }] },
    ])
    expect(decodeBatch(' [ ] ', 'json-array', limits)).toEqual([])
  })

  it('refuses an unpaired surrogate in a JSON array string body with its element only', () => {
    const body = `[${VALID_TEXT},${withRecipients('["\uD800"]')}]`
    expect(decodeBatch(body, 'json-array', limits).map((r) => (r.ok ? 'ok' : r.issues[0]!.rule))).toEqual([
      'ok',
      'invalid_utf8',
    ])
  })

  it('checks the depth of each element of a JSON array', () => {
    const body = `[${VALID_TEXT},${withRecipients(`${'['.repeat(1000)}${']'.repeat(1000)}`)}]`
    expect(decodeBatch(body, 'json-array', limits).map((r) => (r.ok ? 'ok' : r.issues[0]!.rule))).toEqual([
      'ok',
      'too_deep',
    ])
  })
})
