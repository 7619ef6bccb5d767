import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { z } from 'zod'
import { CrmEvent, EVENT_TYPES, type EventType } from '../../schemas/events.schema.ts'
import { compileEventCheck, type EventJsonSchema } from '../../schemas/event-validator-compiled.ts'
import { defaultLimits, validateEvent, validateEventWithZod } from '../../schemas/event-validation.ts'

// Property-based: the compiled validator and zod accept and refuse exactly the same values, and
// for an accepted one build the same event, keys in the same order (`bodyHash` hashes its JSON).
// Valid events are generated from the contract's own JSON Schema, written here afresh by
// `z.toJSONSchema`, so that a rule dropped from the compiled validator is not dropped here too.

const limits = defaultLimits(new Date('2026-03-10T12:00:00Z'))
const check = compileEventCheck()
const { oneOf } = z.toJSONSchema(CrmEvent, { target: 'draft-2020-12' }) as { oneOf: EventJsonSchema[] }
const branchOf = new Map(oneOf.map((branch) => [(branch.properties!['type'] as { const: EventType }).const, branch]))

// ---- Valid events, from the contract --------------------------------------------------------

const DAY_MS = 24 * 60 * 60 * 1000
const windowStart = limits.earliest.getTime()
const windowEnd = limits.now.getTime() + limits.maxFutureMs

/** An RFC 3339 timestamp of the instant `ms`, written in a random offset and precision. */
const timestampAt = (ms: fc.Arbitrary<number>) =>
  fc
    .record({
      ms,
      offset: fc.oneof(fc.constant(0), fc.integer({ min: -23 * 60 - 59, max: 23 * 60 + 59 })),
      zulu: fc.boolean(),
      fraction: fc.option(fc.stringMatching(/^\d{1,9}$/), { nil: undefined }),
    })
    .map(({ ms, offset, zulu, fraction }) => {
      const local = new Date(ms + offset * 60_000).toISOString().slice(0, 19)
      const sign = offset < 0 ? '-' : '+'
      const abs = Math.abs(offset)
      const hhmm = `${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
      const zone = offset === 0 && zulu ? 'Z' : `${sign}${hhmm}`
      return `${local}${fraction === undefined ? '' : `.${fraction}`}${zone}`
    })

// Mostly inside the `occurred_at` window, some just outside it, some anywhere in 0000–9999.
const occurredAt = fc.oneof(
  { weight: 6, arbitrary: timestampAt(fc.integer({ min: windowStart, max: windowEnd })) },
  { weight: 1, arbitrary: timestampAt(fc.integer({ min: windowStart - 2 * DAY_MS, max: windowStart + DAY_MS })) },
  { weight: 1, arbitrary: timestampAt(fc.integer({ min: windowEnd - DAY_MS, max: windowEnd + 2 * DAY_MS })) },
  { weight: 1, arbitrary: timestampAt(fc.integer({ min: -62_000_000_000_000, max: 253_000_000_000_000 })) },
)

const calendarDate = fc
  .integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2100, 11, 31) })
  .map((ms) => new Date(ms).toISOString().slice(0, 10))

// Strings counted in UTF-16 code units by zod: astral characters are two of them.
const textUnit = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('a', 'Z', '0', '-', ' ', 'é') },
  { weight: 1, arbitrary: fc.constantFrom('😀', '𝄞') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
)

function stringOf(schema: EventJsonSchema): fc.Arbitrary<string> {
  if (schema.format === 'date') return calendarDate
  if (schema.format === 'date-time') return occurredAt
  const min = (schema['minLength'] as number | undefined) ?? 0
  const max = (schema['maxLength'] as number | undefined) ?? 40
  if (typeof schema['pattern'] === 'string') {
    return fc.stringMatching(new RegExp(schema['pattern'])).filter((s) => s.length >= min && s.length <= max)
  }
  // Lengths near the bounds, where code points and code units disagree.
  return fc.oneof(
    fc.string({ unit: textUnit, minLength: min, maxLength: Math.min(max, min + 8) }),
    fc.string({ unit: textUnit, minLength: Math.max(min, max - 2), maxLength: max }),
  )
}

function numberOf(schema: EventJsonSchema): fc.Arbitrary<number> {
  const min = (schema['minimum'] as number | undefined) ?? (schema['exclusiveMinimum'] as number | undefined)
  const exclusive = schema['exclusiveMinimum'] !== undefined
  if (schema.type === 'integer') {
    return fc.oneof(
      fc.integer({ min: min ?? -1000, max: 100_000 }),
      fc.maxSafeInteger().filter((n) => n >= (min ?? -Infinity)),
    )
  }
  return fc.double({ min: min ?? -1e12, max: 1e12, noNaN: true, minExcluded: exclusive })
}

/** Values the JSON Schema `schema` accepts (and so, but for refinements, zod). */
function arbitraryOf(schema: EventJsonSchema): fc.Arbitrary<unknown> {
  if (schema.anyOf !== undefined) return fc.oneof(...schema.anyOf.map(arbitraryOf))
  if ('const' in schema) return fc.constant(schema['const'])
  if (Array.isArray(schema['enum'])) return fc.constantFrom(...(schema['enum'] as unknown[]))
  if (Array.isArray(schema.type)) return fc.oneof(...schema.type.map((type) => arbitraryOf({ ...schema, type })))
  switch (schema.type) {
    case 'string':
      return stringOf(schema)
    case 'number':
    case 'integer':
      return numberOf(schema)
    case 'boolean':
      return fc.boolean()
    case 'null':
      return fc.constant(null)
    case 'array':
      return fc.array(arbitraryOf(schema.items!), {
        minLength: (schema['minItems'] as number | undefined) ?? 0,
        maxLength: 4,
      })
    case 'object': {
      const model = Object.fromEntries(Object.entries(schema.properties ?? {}).map(([k, v]) => [k, arbitraryOf(v)]))
      return fc.record(model, { requiredKeys: schema.required ?? [] })
    }
    default:
      throw new Error(`no arbitrary for ${JSON.stringify(schema)}`)
  }
}

type Json = Record<string, unknown>
const eventOfType = new Map(EVENT_TYPES.map((type) => [type, arbitraryOf(branchOf.get(type)!) as fc.Arbitrary<Json>]))
const validEvent = fc.constantFrom(...EVENT_TYPES).chain((type) => eventOfType.get(type)!)

// ---- Mutations and hostile values -----------------------------------------------------------

const deep = (levels: number): unknown => {
  let value: unknown = 'leaf'
  for (let i = 0; i < levels; i++) value = i % 2 === 0 ? { a: value } : [value]
  return value
}

const HOSTILE_VALUES: unknown[] = [
  undefined,
  null,
  true,
  false,
  0,
  -0,
  -1,
  0.5,
  1.5,
  -1e-300,
  1e308,
  -1e308,
  2 ** 53,
  2 ** 53 - 1,
  Number.MAX_VALUE,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  'NaN',
  'Infinity',
  '1',
  '',
  ' ',
  'x'.repeat(64),
  'x'.repeat(65),
  'x'.repeat(128),
  'x'.repeat(129),
  'x'.repeat(200),
  'x'.repeat(201),
  'x'.repeat(1000),
  'x'.repeat(1001),
  '😀'.repeat(64),
  '😀'.repeat(65),
  `a${'😀'.repeat(500)}`,
  'ACME',
  'acme corp',
  'acme\n',
  'usd',
  'US',
  'USDX',
  'USD\n',
  '2026-02-28',
  '2026-02-29',
  '2024-02-29',
  '2100-02-29',
  '2000-02-29',
  '2026-13-01',
  '2026-00-10',
  '2026-1-01',
  '20260301',
  '2026-03-02T14:05:00',
  '2026-03-02T14:05:00Z',
  '2026-03-02t14:05:00z',
  '2026-03-02 14:05:00Z',
  '2026-03-02T14:05:00+0100',
  '2026-03-02T14:05:00+01',
  '2026-03-02T24:00:00Z',
  '2026-03-02T23:59:60Z',
  '2026-03-02T14:05:00.Z',
  '2026-03-02T14:05:00,5Z',
  '2026-03-02T14:05:00+24:00',
  ' 2026-03-02T14:05:00Z',
  '2026-03-02T14:05:00Z\n',
  '1999-12-31T23:59:59.999Z',
  '2000-01-01T00:00:00Z',
  '2000-01-01T01:00:00+01:00',
  'Rep',
  'won ',
  'Email',
  'user.Upserted',
  ...EVENT_TYPES,
  'hubspot',
  'constructor',
  '__proto__',
  'toString',
  [],
  [''],
  ['a'],
  ['a', 1],
  [null],
  {},
  { a: 1 },
  { system: 'api' },
  deep(20),
  new Date('2026-03-02T14:05:00Z'),
]

/** A copy of a value put in an event: mutations must not change shared values, or make cycles. */
const fresh = (v: unknown): unknown => {
  if (typeof v !== 'object' || v === null) return v
  if (v instanceof Date) return new Date(v.getTime())
  return Object.getPrototypeOf(v) === null
    ? Object.assign(Object.create(null), structuredClone({ ...v }))
    : structuredClone(v)
}

const hostileValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_VALUES).map(fresh) },
  { weight: 1, arbitrary: fc.constant(null).map(() => Object.create(null) as unknown) },
  { weight: 1, arbitrary: fc.anything() },
)

const EXTRA_KEYS = [
  'extra',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'Event_id',
  '',
  'valueOf',
]

/** Every object and array inside `root` with the path to it (the root's path is empty). */
function containers(root: unknown, path: (string | number)[] = []): { path: (string | number)[]; value: object }[] {
  if (typeof root !== 'object' || root === null) return []
  const children = Array.isArray(root) ? root.map((v, i) => [i, v] as const) : Object.entries(root)
  return [{ path, value: root }, ...children.flatMap(([k, v]) => containers(v, [...path, k]))]
}

/** Every field (object key or array index) inside `root`, with the container holding it. */
function fieldsOf(root: unknown): { value: object; key: string }[] {
  return containers(root).flatMap(({ value }) => Object.keys(value).map((key) => ({ value, key })))
}

/** Sets an own, enumerable property even for `__proto__`, as JSON.parse would. */
function setOwn(target: object, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

type Mutation = (event: Record<string, unknown>, pick: number, value: unknown, key: string) => unknown

const MUTATIONS: Record<string, Mutation> = {
  removed: (event, pick) => {
    const fields = fieldsOf(event)
    const { value, key } = fields[pick % fields.length]!
    if (Array.isArray(value)) value.splice(Number(key), 1)
    else delete (value as Record<string, unknown>)[key]
    return event
  },
  replaced: (event, pick, replacement) => {
    const fields = fieldsOf(event)
    const { value, key } = fields[pick % fields.length]!
    setOwn(value, key, replacement)
    return event
  },
  extra: (event, pick, extraValue, key) => {
    const places = containers(event).filter(({ value }) => !Array.isArray(value))
    setOwn(places[pick % places.length]!.value, key, extraValue)
    return event
  },
  retyped: (event, pick) => ({ ...event, type: EVENT_TYPES[pick % EVENT_TYPES.length] }),
  periodSwapped: (event) => {
    const payload = event['payload'] as Record<string, unknown>
    if ('period_start' in payload)
      [payload['period_start'], payload['period_end']] = [payload['period_end'], payload['period_start']]
    return event
  },
  keysShuffled: (event, pick) => {
    const keys = Object.keys(event)
    const rotated = [...keys.slice(pick % keys.length), ...keys.slice(0, pick % keys.length)]
    const payload = event['payload'] as Record<string, unknown>
    const payloadKeys = Object.keys(payload).reverse()
    return Object.fromEntries(
      rotated.map((k) => [k, k === 'payload' ? Object.fromEntries(payloadKeys.map((p) => [p, payload[p]])) : event[k]]),
    )
  },
  parsedFromJson: (event, pick, extraValue, key) => {
    const text = JSON.stringify(event)
    // A key JSON.parse makes own, `__proto__` included, inserted at the top or in the payload.
    const at = pick % 2 === 0 ? text.indexOf('{') + 1 : text.indexOf('"payload":{') + '"payload":{'.length
    const inserted = `${JSON.stringify(key)}:${JSON.stringify(extraValue) ?? 'null'},`
    const mutated = `${text.slice(0, at)}${inserted}${text.slice(at)}`
    return JSON.parse(mutated.replace(',}', '}')) as unknown
  },
}

const mutatedEvent = fc
  .record({
    event: validEvent,
    mutation: fc.constantFrom(...Object.keys(MUTATIONS)),
    times: fc.integer({ min: 1, max: 3 }),
    pick: fc.nat(),
    value: hostileValue,
    key: fc.oneof(fc.constantFrom(...EXTRA_KEYS), fc.string({ maxLength: 8 })),
  })
  .map(({ event, mutation, times, pick, value, key }) => {
    let mutated: unknown = structuredClone(event)
    for (let i = 0; i < times; i++) {
      if (typeof mutated !== 'object' || mutated === null || !('payload' in mutated)) break
      const payload = (mutated as { payload: unknown }).payload
      if (typeof payload !== 'object' || payload === null) break
      mutated = MUTATIONS[mutation]!(mutated as Record<string, unknown>, pick + i * 7, fresh(value), key)
    }
    return mutated
  })

// Tried in every field: one of each kind, and the edges of numbers and lengths.
const EDGE_VALUES: unknown[] = [
  undefined,
  null,
  true,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  -1,
  0,
  0.5,
  2 ** 53,
  '',
  'x'.repeat(129),
  '😀'.repeat(65),
  [],
  {},
]

/**
 * Every field of `event` removed, or replaced by each edge value and 6 other hostile ones; a key
 * added to each object.
 */
function variantsOf(event: Record<string, unknown>, shift: number): unknown[] {
  const variants: unknown[] = []
  fieldsOf(event).forEach((_, i) => {
    const removed = structuredClone(event)
    MUTATIONS['removed']!(removed, i, undefined, '')
    variants.push(removed)
    const others = [0, 1, 2, 3, 4, 5].map((k) => HOSTILE_VALUES[(shift + i * 6 + k) % HOSTILE_VALUES.length])
    for (const hostile of [...EDGE_VALUES, ...others]) {
      const replaced = structuredClone(event)
      MUTATIONS['replaced']!(replaced, i, fresh(hostile), '')
      variants.push(replaced)
    }
  })
  containers(event).forEach((_, i) => {
    const extended = structuredClone(event)
    MUTATIONS['extra']!(extended, i, 'x', EXTRA_KEYS[(shift + i) % EXTRA_KEYS.length]!)
    variants.push(extended)
  })
  return variants
}

const anyInput = fc.oneof(
  { weight: 3, arbitrary: validEvent },
  { weight: 6, arbitrary: mutatedEvent },
  { weight: 1, arbitrary: hostileValue },
)

/** The zod verdict and output on `value`, as JSON so that key order counts. */
const byZod = (value: unknown): string | undefined => {
  const parsed = CrmEvent.safeParse(value)
  return parsed.success ? JSON.stringify(parsed.data) : undefined
}

const byCompiled = (value: unknown): string | undefined => {
  const event = check(value)
  return event === undefined ? undefined : JSON.stringify(event)
}

const disagrees = (value: unknown) => byCompiled(value) !== byZod(value)

/** The value as `decodeEvent` hands it over: parsed from its JSON, owned by the check. */
const reparsed = (value: unknown): unknown => {
  const text = JSON.stringify(value)
  return text === undefined ? undefined : JSON.parse(text)
}

const byCompiledOwned = (value: unknown): string | undefined => {
  const event = check(value, true)
  return event === undefined ? undefined : JSON.stringify(event)
}

describe('compiled event validator', () => {
  it('builds a valid event of every type, and the generated valid events pass zod mostly', () => {
    const sample = fc.sample(validEvent, { numRuns: 1000, seed: 1 })
    expect(new Set(sample.map((e) => e['type']))).toEqual(new Set(EVENT_TYPES))
    expect(sample.filter((e) => CrmEvent.safeParse(e).success).length).toBeGreaterThan(sample.length * 0.5)
  })

  it('tries as many accepted values as refused ones, some refused for their time alone', () => {
    const sample = fc.sample(anyInput, { numRuns: 1000, seed: 7 })
    const byContract = sample.filter((v) => CrmEvent.safeParse(v).success).length
    const inWindow = sample.filter((v) => validateEventWithZod(v, limits).ok).length
    expect(byContract).toBeGreaterThan(300)
    expect(byContract).toBeLessThan(700)
    expect(inWindow).toBeGreaterThan(200)
    expect(inWindow).toBeLessThan(byContract)
  })

  it('agrees with zod on accept, refuse and the event built, for valid, mutated and hostile values', () => {
    fc.assert(
      fc.property(anyInput, (value) => {
        expect(byCompiled(value)).toBe(byZod(value))
        const accepted = check(value)
        const parsed = CrmEvent.safeParse(value)
        if (accepted !== undefined && parsed.success) expect(accepted).toStrictEqual(parsed.data)
      }),
      { numRuns: 2000 },
    )
  })

  it('agrees with zod on a value it owns, which it returns as it is only when its keys are in order', () => {
    let reused = 0
    let copied = 0
    fc.assert(
      fc.property(anyInput, (input) => {
        const value = reparsed(input)
        expect(byCompiledOwned(value)).toBe(byZod(value))
        const accepted = check(value, true)
        if (accepted === undefined) return
        if (accepted === value) reused++
        else copied++
        expect(accepted).toStrictEqual(CrmEvent.parse(value))
      }),
      { numRuns: 2000 },
    )
    // Both ways are tried: events as sent in order, and shuffled or otherwise out of order.
    expect(reused).toBeGreaterThan(100)
    expect(copied).toBeGreaterThan(20)
  })

  it.each(EVENT_TYPES)('agrees with zod on every field of a valid %s removed, replaced or joined by a key', (type) => {
    fc.assert(
      fc.property(eventOfType.get(type)!, fc.nat(), (event, shift) => {
        expect(variantsOf(event, shift).filter(disagrees)).toEqual([])
      }),
      { numRuns: 8 },
    )
  })

  it('gives validateEvent the same results as zod alone, messages included', () => {
    fc.assert(
      fc.property(anyInput, (value) => {
        expect(validateEvent(value, limits)).toStrictEqual(validateEventWithZod(value, limits))
      }),
      { numRuns: 1000 },
    )
  })

  it('returns a copy: changing the event built leaves the input alone', () => {
    const [event] = fc.sample(
      validEvent.filter((e) => e['type'] === 'message.sent' && check(e) !== undefined),
      { numRuns: 1, seed: 2 },
    )
    const before = JSON.stringify(event)
    const built = check(event) as unknown as { payload: { recipient_ids: string[] } }
    built.payload.recipient_ids.push('someone')
    expect(JSON.stringify(event)).toBe(before)
  })
})
