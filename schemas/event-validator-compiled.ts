/**
 * The fast path of event validation: one ajv validator per event type, compiled once from
 * `z.toJSONSchema(CrmEvent)`, which accepts exactly what the zod contract accepts and returns the
 * same value zod would (a copy, keys in the schema's order, which `bodyHash` relies on). It gives
 * no reasons: `validateEvent` asks zod for the messages of an event this refuses.
 *
 * Where JSON Schema and zod differ by default, the options below side with zod, and a property
 * test (`test/unit/event-validator-compiled.unit.test.ts`) proves that the two agree:
 * - string lengths count code points, a surrogate pair once and a lone surrogate once, in both;
 * - patterns run without the `u` flag, as zod's regular expressions do;
 * - numbers must be finite (`strictNumbers`), as `z.number()` refuses NaN and Infinity;
 * - `format` is not checked: zod's date and date-time checks are the `pattern` next to it;
 * - `period_start` ≤ `period_end`, a zod refinement JSON Schema cannot say, is checked in code.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import { z } from 'zod'
import { CrmEvent, EVENT_TYPES, type EventType } from './events.schema.ts'

/** The subset of JSON Schema that `z.toJSONSchema` writes for the contract. */
export interface EventJsonSchema {
  type?: string | string[]
  properties?: Record<string, EventJsonSchema>
  required?: string[]
  items?: EventJsonSchema
  anyOf?: EventJsonSchema[]
  format?: string
  [keyword: string]: unknown
}

/** Refinements of payloads that JSON Schema cannot express, checked in code after ajv. */
const PERIOD_ORDER_TYPES: ReadonlySet<EventType> = new Set(['quota.set', 'goal.set'])

/**
 * The JSON Schema of each event type, as `z.toJSONSchema` writes it, without `format` keywords
 * (their `pattern` is zod's check). Fails if the contract gained a refinement this module does
 * not check in code, since the JSON Schema would silently accept what zod refuses.
 */
export function eventJsonSchemas(): Map<EventType, EventJsonSchema> {
  assertKnownRefinements()
  const { oneOf } = z.toJSONSchema(CrmEvent, { target: 'draft-2020-12' }) as { oneOf: EventJsonSchema[] }
  const schemas = new Map<EventType, EventJsonSchema>()
  for (const branch of oneOf) {
    const type = (branch.properties?.['type'] as { const: EventType }).const
    schemas.set(type, withoutFormats(branch))
  }
  return schemas
}

/**
 * Checks one value; returns zod's output for it when the contract accepts it, else undefined.
 * With `owned` (a value the caller has just parsed and hands over, such as `JSON.parse`'s), a
 * value whose keys are already in the schema's order at every level is returned as it is rather
 * than copied: the same JSON, without building a second tree of every accepted event.
 */
export type CompiledEventCheck = (value: unknown, owned?: boolean) => CrmEvent | undefined

/** Compiles the per-type validators once; `schemas` defaults to `eventJsonSchemas()`. */
export function compileEventCheck(schemas: Map<EventType, EventJsonSchema> = eventJsonSchemas()): CompiledEventCheck {
  // The schemas are zod's output, not a person's: checking them against the draft's meta-schema
  // would double the time to compile (strict mode still refuses an unknown keyword).
  const ajv = new Ajv2020({
    strict: true,
    strictNumbers: true,
    unicodeRegExp: false,
    allErrors: false,
    validateSchema: false,
  })
  const byType = new Map<
    string,
    { validate: ValidateFunction; copy: Copier; inOrder: OrderCheck; periodOrder: boolean }
  >()
  for (const [type, schema] of schemas) {
    byType.set(type, {
      validate: ajv.compile(schema),
      copy: copierOf(schema),
      inOrder: orderCheckOf(schema) ?? (() => true),
      periodOrder: PERIOD_ORDER_TYPES.has(type),
    })
  }
  return (value, owned = false) => {
    if (typeof value !== 'object' || value === null) return undefined
    // A Map, not an object: `type: "constructor"` must not find Object.prototype's.
    const compiled = byType.get((value as { type?: unknown }).type as string)
    if (compiled === undefined || !compiled.validate(value)) return undefined
    if (compiled.periodOrder) {
      const payload = (value as { payload: { period_start: string; period_end: string } }).payload
      if (payload.period_start > payload.period_end) return undefined
    }
    return (owned && compiled.inOrder(value) ? value : compiled.copy(value)) as CrmEvent
  }
}

// ---- Output as zod builds it ----------------------------------------------------------------

type Copier = (value: unknown) => unknown

/**
 * Zod returns a new object per object schema with the declared keys in declaration order (a key
 * present in the input, even undefined, is kept; an absent optional key is not) and a new array
 * per array schema; primitives are returned as they are.
 */
function copierOf(schema: EventJsonSchema): Copier {
  if (schema.properties !== undefined) {
    const fields = Object.entries(schema.properties).map(([key, field]) => [key, copierOf(field)] as const)
    return (value) => {
      const input = value as Record<string, unknown>
      const out: Record<string, unknown> = {}
      for (const [key, copy] of fields) if (key in input) out[key] = copy(input[key])
      return out
    }
  }
  if (schema.items !== undefined) {
    const copy = copierOf(schema.items)
    return (value) => {
      const input = value as unknown[]
      const out = new Array<unknown>(input.length)
      for (let i = 0; i < input.length; i++) out[i] = copy(input[i])
      return out
    }
  }
  return (value) => value
}

type OrderCheck = (value: unknown) => boolean

/**
 * Whether a value the schema accepts already is what `copierOf` would build: every object's keys
 * in the schema's order, and no key the schema does not declare. Undefined for a schema whose
 * values are returned as they are (nothing to check).
 */
function orderCheckOf(schema: EventJsonSchema): OrderCheck | undefined {
  if (schema.properties !== undefined) {
    const fields = Object.entries(schema.properties)
    const keys = fields.map(([key]) => key)
    const checks = fields.map(([, field]) => orderCheckOf(field))
    return (value) => {
      const input = value as Record<string, unknown>
      let next = 0
      for (const key in input) {
        while (next < keys.length && keys[next] !== key) next++
        if (next === keys.length) return false
        const check = checks[next]
        if (check !== undefined && !check(input[key])) return false
        next++
      }
      return true
    }
  }
  if (schema.items !== undefined) {
    const check = orderCheckOf(schema.items)
    if (check === undefined) return undefined
    return (value) => {
      const input = value as unknown[]
      for (let i = 0; i < input.length; i++) if (!check(input[i])) return false
      return true
    }
  }
  return undefined
}

// ---- Schema preparation ---------------------------------------------------------------------

function withoutFormats(schema: EventJsonSchema): EventJsonSchema {
  const { format: _format, properties, items, anyOf, ...rest } = schema
  return {
    ...rest,
    ...(properties === undefined
      ? {}
      : { properties: Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, withoutFormats(v)])) }),
    ...(items === undefined ? {} : { items: withoutFormats(items) }),
    ...(anyOf === undefined ? {} : { anyOf: anyOf.map(withoutFormats) }),
  }
}

/** Every payload with a refinement is one whose refinement is checked in `compileEventCheck`. */
function assertKnownRefinements(): void {
  for (const option of CrmEvent.options) {
    const type = option.shape.type.value
    const refined = (option.shape.payload._zod.def.checks ?? []).length > 0
    if (refined !== PERIOD_ORDER_TYPES.has(type)) {
      throw new Error(`compiled event validator: the refinements of ${type} changed; check them in code too`)
    }
  }
  if (CrmEvent.options.length !== EVENT_TYPES.length) throw new Error('compiled event validator: event types changed')
}
