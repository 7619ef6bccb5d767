import { describe, it, expect, afterEach } from 'vitest'
import fc from 'fast-check'
import {
  decodeBatch,
  decodeEvent,
  defaultLimits,
  validateEvent,
  type DecodeResult,
  type ValidationResult,
} from '../../schemas/event-validation.ts'

// Property-based: whatever arrives, the validator answers with a value (never a throw), every
// refusal explains itself, and nothing leaks onto Object.prototype.

const limits = defaultLimits(new Date('2026-03-10T12:00:00Z'))
const RUNS = { numRuns: 400 }

const envelope = (type: string, payload: Record<string, unknown>) => ({
  event_id: `ev-${type}`,
  org_id: 'acme',
  type,
  schema_version: 1,
  occurred_at: '2026-03-02T14:05:00.250+01:00',
  source: { system: 'hubspot', ref: 'x-1' },
  payload,
})

const VALID_EVENTS = [
  envelope('user.upserted', {
    user_id: 'm1',
    display_name: 'Maya',
    email: 'maya@acme.test',
    role: 'manager',
    manager_id: null,
    active: true,
  }),
  envelope('quota.set', {
    user_id: 'r1',
    period_start: '2026-01-01',
    period_end: '2026-03-31',
    amount: 1000,
    currency: 'USD',
    set_by: 'm1',
  }),
  envelope('opportunity.created', {
    opportunity_id: 'o1',
    account_id: 'a1',
    owner_id: 'r1',
    amount: 12000,
    currency: 'USD',
    stage: 'Discovery',
    stage_category: 'prospecting',
  }),
  envelope('activity.logged', {
    activity_id: 'a1',
    kind: 'call',
    owner_id: 'r1',
    participant_ids: ['m1'],
    contact_ids: ['c1'],
    duration_seconds: 300,
  }),
  envelope('message.sent', {
    message_id: 'm1',
    thread_id: 't1',
    sender_id: 'u1',
    recipient_ids: ['u2', 'u3'],
    channel: 'email',
  }),
  envelope('meeting.held', {
    meeting_id: 'mt1',
    kind: 'coaching',
    organizer_id: 'm1',
    attendee_ids: ['r1'],
    duration_minutes: 45,
  }),
  envelope('recognition.given', { from_id: 'm1', to_ids: ['r1'], note: 'Nice close' }),
]

const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort()

afterEach(() => {
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys)
})

/** The invariant of every answer: ok with an event, or refused with at least one full issue. */
function expectWellFormed(result: ValidationResult | DecodeResult): void {
  if (result.ok) {
    expect(typeof result.event).toBe('object')
    return
  }
  expect(result.issues.length).toBeGreaterThan(0)
  for (const issue of result.issues) {
    expect(issue.path.length).toBeGreaterThan(0)
    expect(issue.rule.length).toBeGreaterThan(0)
    expect(issue.message.length).toBeGreaterThan(0)
    expect(issue.message.startsWith(`${issue.path}: `)).toBe(true)
  }
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
}

function expectDecoded(result: DecodeResult): void {
  expectWellFormed(result)
  expect(typeof result.raw).toBe('string')
}

// ---- Structural mutations of a valid event ----------------------------------------------------

type Path = (string | number)[]
type Container = Record<string, unknown> | unknown[]

const isContainer = (v: unknown): v is Container => typeof v === 'object' && v !== null

/** Every path of `root` (root included), without recursion. */
function pathsOf(root: unknown): Path[] {
  const paths: Path[] = []
  const stack: { value: unknown; path: Path }[] = [{ value: root, path: [] }]
  while (stack.length > 0) {
    const { value, path } = stack.pop()!
    paths.push(path)
    if (Array.isArray(value)) value.forEach((v, i) => stack.push({ value: v, path: [...path, i] }))
    else if (isContainer(value))
      for (const [k, v] of Object.entries(value)) stack.push({ value: v, path: [...path, k] })
  }
  return paths
}

function at(root: unknown, path: Path): unknown {
  return path.reduce<unknown>(
    (node, key) => (isContainer(node) ? (node as Record<string | number, unknown>)[key] : undefined),
    root,
  )
}

// defineProperty, so that "__proto__" becomes an own key as JSON.parse would make it.
function put(node: Container, key: string | number, value: unknown): void {
  Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true })
}

type Mutation =
  | { kind: 'drop'; pick: number }
  | { kind: 'add'; pick: number; key: string; value: unknown }
  | { kind: 'replace'; pick: number; value: unknown }
  | { kind: 'forbidden'; pick: number; key: string }
  | { kind: 'nest'; pick: number; depth: number; asObject: boolean }

// Deep nesting is refused before anything else is looked at, so it is kept rare enough for the
// other mutations to reach the schema.
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      pick: fc.nat(),
      key: fc.string(),
      value: fc.jsonValue({ maxDepth: 3 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('replace' as const),
      pick: fc.nat(),
      value: fc.jsonValue({ maxDepth: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('forbidden' as const),
      pick: fc.nat(),
      key: fc.constantFrom('__proto__', 'constructor', 'prototype'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('nest' as const),
      pick: fc.nat(),
      depth: fc.integer({ min: 1, max: 3000 }),
      asObject: fc.boolean(),
    }),
  },
)

/** The rest of object text `text` after a member spliced in first: `{}` takes no comma. */
const joinMembers = (text: string): string => (text === '{}' ? '}' : `,${text.slice(1)}`)

/** Applies mutations to a copy of `base`; returns the copy and its JSON text. */
function mutate(base: unknown, mutations: Mutation[]): { value: unknown; text: string } {
  let root: unknown = structuredClone(base)
  const nests: { path: Path; depth: number; asObject: boolean }[] = []
  for (const m of mutations) {
    const paths = pathsOf(root)
    const path = paths[m.pick % paths.length]!
    const parent = at(root, path.slice(0, -1))
    const key = path[path.length - 1]
    const node = at(root, path)
    if (m.kind === 'drop' && key !== undefined && isContainer(parent)) {
      if (Array.isArray(parent)) parent.splice(Number(key), 1)
      else delete parent[key]
    } else if (m.kind === 'add' && isContainer(node) && !Array.isArray(node)) {
      put(node, m.key, m.value)
    } else if (m.kind === 'replace') {
      if (key === undefined) root = m.value
      else if (isContainer(parent)) put(parent, key, m.value)
    } else if (m.kind === 'forbidden' && isContainer(node) && !Array.isArray(node)) {
      put(node, m.key, { polluted: 'yes' })
    } else if (m.kind === 'nest' && key !== undefined) {
      nests.push({ path, depth: m.depth, asObject: m.asObject })
    }
  }
  let text = JSON.stringify(root) ?? 'null'
  // Deep nesting is spliced into the text: JSON.stringify itself recurses.
  for (const { depth, asObject } of nests) {
    const open = asObject ? '{"n":'.repeat(depth) : '['.repeat(depth)
    const close = asObject ? '}'.repeat(depth) : ']'.repeat(depth)
    text = text.startsWith('{') ? `{"deep":${open}1${close}${joinMembers(text)}` : text
  }
  return { value: root, text }
}

/** Replaces the first number of `text` with `replacement` (JSON.stringify cannot write 1e999). */
function withNumber(text: string, replacement: string): string {
  const replaced = text.replace(/(?<=[:[,])-?\d+(\.\d+)?([eE][+-]?\d+)?(?=[,\]}])/, replacement)
  return replaced === text && text.startsWith('{') ? `{"n":${replacement}${joinMembers(text)}` : replaced
}

const hugeNumber = fc.constantFrom(
  '1e999',
  '-1e999',
  '1e308',
  '-0',
  '5e-324',
  '123456789012345678901234567890',
  '1E+400',
  '9007199254740993',
)

describe('event validation: fuzz', () => {
  it('answers every JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expectWellFormed(validateEvent(value, limits))
        expectDecoded(decodeEvent(JSON.stringify(value) ?? '', limits))
      }),
      RUNS,
    )
  })

  it('answers every string, including lone surrogates', () => {
    const anyCodeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: anyCodeUnit }), fc.string()), (text) => {
        expectDecoded(decodeEvent(text, limits))
        for (const item of decodeBatch(text, 'ndjson', limits)) expectDecoded(item)
        for (const item of decodeBatch(text, 'json-array', limits)) expectDecoded(item)
      }),
      RUNS,
    )
  })

  it('answers every byte array', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const buffer = Buffer.from(bytes)
        expectDecoded(decodeEvent(buffer, limits))
        for (const item of decodeBatch(buffer, 'ndjson', limits)) expectDecoded(item)
        for (const item of decodeBatch(buffer, 'json-array', limits)) expectDecoded(item)
      }),
      RUNS,
    )
  })

  it('answers every mutation of a valid event', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VALID_EVENTS),
        fc.array(mutationArb, { minLength: 1, maxLength: 4 }),
        fc.option(hugeNumber, { nil: undefined, freq: 2 }),
        (base, mutations, number) => {
          const { value, text } = mutate(base, mutations)
          const hostileText = number === undefined ? text : withNumber(text, number)
          expectWellFormed(validateEvent(value, limits))
          expectDecoded(decodeEvent(hostileText, limits))
          expectDecoded(decodeEvent(Buffer.from(hostileText), limits))
        },
      ),
      RUNS,
    )
  })

  it('refuses every injected forbidden key, at any depth', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VALID_EVENTS),
        fc.nat(),
        fc.constantFrom('__proto__', 'constructor', 'prototype'),
        (base, pick, key) => {
          const { text } = mutate(base, [{ kind: 'forbidden', pick, key }])
          const result = decodeEvent(text, limits)
          // The pick may land on a leaf, where nothing is injected.
          if (text.includes(`"${key}"`)) {
            expect(result.ok).toBe(false)
            expect(!result.ok && result.issues.some((i) => i.rule === 'forbidden_key')).toBe(true)
          }
        },
      ),
      RUNS,
    )
  })

  it('keeps valid events valid and mutated batches aligned line by line', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...VALID_EVENTS), fc.array(mutationArb, { maxLength: 2 })), {
          minLength: 1,
          maxLength: 8,
        }),
        (entries) => {
          const lines = entries.map(([base, mutations]) => mutate(base, mutations).text)
          const results = decodeBatch(lines.join('\n'), 'ndjson', limits)
          expect(results.map((r) => r.raw)).toEqual(lines)
          results.forEach((result, i) => {
            expectDecoded(result)
            expect(result).toMatchObject({ index: i, line: i + 1 })
            if (entries[i]![1].length === 0) expect(result).toMatchObject({ ok: true, event: entries[i]![0] })
          })
          const array = decodeBatch(`[${lines.join(',')}]`, 'json-array', limits)
          expect(array.map((r) => r.ok)).toEqual(results.map((r) => r.ok))
        },
      ),
      { numRuns: 200 },
    )
  })
})
