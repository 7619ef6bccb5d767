/**
 * The one validator of canonical CRM events, used by every producer and consumer.
 *
 * - `validateEvent` checks an in-memory value: the zod contract plus the `occurred_at` window,
 *   first with a validator compiled from the contract (`event-validator-compiled.ts`), and with zod
 *   itself only for a value that one refuses, for the reasons.
 * - `decodeEvent` takes one event's untrusted JSON text or bytes and guards it (size, UTF-8,
 *   nesting depth, forbidden keys, non-finite numbers) before zod sees it.
 * - `decodeBatch` splits an NDJSON or JSON-array body so that a bad event fails alone.
 *
 * Expected failures are values (`{ ok: false, issues }`), never thrown, so that a caller can
 * dead-letter the event with its reasons and go on with the next one.
 */
import type { z } from 'zod'
import { CrmEvent, EVENT_TYPES, EventEnvelope, Timestamp } from './events.schema.ts'
import { compileEventCheck, type CompiledEventCheck } from './event-validator-compiled.ts'

/** Machine-readable name of the rule an issue broke. */
export type ValidationRule =
  | 'required'
  | 'type'
  | 'integer'
  | 'not_finite'
  | 'too_short'
  | 'too_long'
  | 'min'
  | 'max'
  | 'pattern'
  | 'format'
  | 'enum'
  | 'unknown_field'
  | 'period_order'
  | 'timestamp_out_of_range'
  | 'invalid_json'
  | 'invalid_utf8'
  | 'too_deep'
  | 'too_large'
  | 'forbidden_key'
  | 'too_many_issues'
  | 'invalid'

/** Why an event was refused: which field, which rule, and a sentence naming both. */
export interface ValidationIssue {
  /** `payload.recipient_ids[0]`, `occurred_at`, or `(root)` for the whole event. */
  path: string
  rule: ValidationRule
  /** Human-readable, starting with the path: `payload.recipient_ids: must contain at least 1 id`. */
  message: string
}

/** Bounds that depend on the clock or protect the process; see `defaultLimits`. */
export interface ValidationLimits {
  /** The clock, injected so that validation is a pure function. */
  now: Date
  /** Earliest accepted `occurred_at`. */
  earliest: Date
  /** How far past `now` an `occurred_at` may lie (clock skew between CRM and us). */
  maxFutureMs: number
  /** Largest accepted event, in UTF-8 bytes. */
  maxEventBytes: number
  /** Deepest accepted nesting of objects and arrays; the event object itself is depth 1. */
  maxDepth: number
}

/** The limits of the pipeline at time `now`. */
export function defaultLimits(now: Date): ValidationLimits {
  return {
    now,
    earliest: new Date('2000-01-01T00:00:00Z'),
    maxFutureMs: 24 * 60 * 60 * 1000,
    maxEventBytes: 64 * 1024,
    maxDepth: 16,
  }
}

/**
 * The outcome of `validateEvent`. On failure, `eventId` and `orgId` are the values sent when they
 * are strings, even invalid ones, so that a rejection can name the event.
 */
export type ValidationResult =
  { ok: true; event: CrmEvent } | { ok: false; issues: ValidationIssue[]; eventId?: string; orgId?: string }

/** The outcome of `decodeEvent`; `raw` is the text received, for the dead-letter record. */
export type DecodeResult =
  | { ok: true; event: CrmEvent; raw: string }
  | { ok: false; raw: string; issues: ValidationIssue[]; eventId?: string; orgId?: string }

/** How a body carries many events. */
export type BatchFormat = 'ndjson' | 'json-array'

/**
 * One event of a batch: `index` is its 0-based position among the events of the body (blank
 * NDJSON lines are not events); `line` is its 1-based line number in an NDJSON body.
 */
export type BatchItem = DecodeResult & { index: number; line?: number }

/** At most this many issues are reported per event; a hostile event could produce thousands. */
export const MAX_ISSUES = 50

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])

// Compiled on first use, so that a process that validates nothing does not pay for it.
let compiledCheck: CompiledEventCheck | undefined

/**
 * Validates an in-memory value against the contract and the `occurred_at` window
 * [`limits.earliest`, `limits.now + limits.maxFutureMs`]. Never throws.
 */
export function validateEvent(value: unknown, limits: ValidationLimits): ValidationResult {
  return validateValue(value, limits, false)
}

/** `validateEvent`; an `owned` value (just parsed here) may be returned as the event itself. */
function validateValue(value: unknown, limits: ValidationLimits, owned: boolean): ValidationResult {
  // The compiled validator accepts exactly what zod does and builds the same value, in a fraction
  // of zod's time; zod then runs only for an event it refuses, to say why.
  compiledCheck ??= compileEventCheck()
  const event = compiledCheck(value, owned)
  if (event !== undefined && timeWindowIssues(event.occurred_at, limits).length === 0) return { ok: true, event }
  return validateEventWithZod(value, limits)
}

/**
 * `validateEvent` by zod alone, with the same result: the reference that the compiled path is
 * tested and measured against.
 */
export function validateEventWithZod(value: unknown, limits: ValidationLimits): ValidationResult {
  // Without a custom error map zod takes its compiled fast path, twice as fast; the house
  // messages are only needed for an event that fails, parsed again for them.
  const fast = CrmEvent.safeParse(value)
  const parsed = fast.success ? fast : CrmEvent.safeParse(value, { error: houseMessage })
  let issues: ValidationIssue[] = []
  if (!parsed.success) {
    let zodIssues = parsed.error.issues
    // With an unknown `type` the union reports that alone; the envelope schema still names
    // every other envelope problem, so the sender can fix them in one round trip.
    if (zodIssues.some(isDiscriminatorIssue)) {
      const envelope = EventEnvelope.safeParse(value, { error: houseMessage })
      if (!envelope.success) zodIssues = envelope.error.issues
    }
    issues = zodIssues.flatMap((issue) => fromZodIssue(issue, value))
  }
  const occurredAt = parsed.success ? parsed.data.occurred_at : ownProperty(value, 'occurred_at')
  // A malformed timestamp is already reported by the schema.
  if (parsed.success || Timestamp.safeParse(occurredAt).success)
    issues.push(...timeWindowIssues(occurredAt as string, limits))
  if (parsed.success && issues.length === 0) return { ok: true, event: parsed.data }
  return { ok: false, issues: capped(issues), ...identify(value) }
}

/**
 * Decodes and validates one event's JSON text. Bytes are checked in this order, each step
 * protecting the next: size, UTF-8, nesting depth (on the text, before anything is built),
 * JSON syntax, forbidden keys and non-finite numbers, then the contract. Never throws.
 */
export function decodeEvent(input: Uint8Array | string, limits: ValidationLimits): DecodeResult {
  const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength
  if (size > limits.maxEventBytes) {
    return refuse(
      lossyText(input),
      rootIssue('too_large', `is ${size} bytes, more than the limit of ${limits.maxEventBytes}`),
    )
  }
  const text = strictText(input)
  if (text === undefined) {
    return refuse(lossyText(input), rootIssue('invalid_utf8', 'is not valid UTF-8 text'))
  }
  if (nestingExceeds(text, limits.maxDepth)) {
    return refuse(text, rootIssue('too_deep', `nests objects and arrays deeper than ${limits.maxDepth} levels`))
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    return refuse(text, rootIssue('invalid_json', `is not valid JSON: ${(error as Error).message}`))
  }
  // Valid UTF-8 text holds no unpaired surrogate (strictText), so JSON.parse can only make one
  // from a \u escape.
  const mayHoldSurrogates = text.includes('\\u')
  const hostile = holdsHostileValue(value, mayHoldSurrogates) ? hostileValueIssues(value, mayHoldSurrogates) : []
  if (hostile.length > 0) return { ok: false, raw: text, issues: capped(hostile), ...identify(value) }
  // The value was built by JSON.parse above and nothing else holds it.
  const result = validateValue(value, limits, true)
  return result.ok ? { ok: true, event: result.event, raw: text } : { ...result, raw: text }
}

/**
 * Decodes a body of many events, in input order. A malformed event fails alone and the others
 * still decode; a JSON-array body that is not valid JSON or not an array is one failure.
 */
export function decodeBatch(body: Uint8Array | string, format: BatchFormat, limits: ValidationLimits): BatchItem[] {
  const split = splitBatch(body, format)
  if (!split.ok) return [split.failure]
  return split.parts.map((part, index) => decodePart(part, index, limits))
}

/** One event of a body, not decoded yet: its text or bytes as sent, and its NDJSON line. */
export interface BatchPart {
  input: Uint8Array | string
  line?: number
}

/**
 * A body cut into its events without decoding them (cheap, linear), or the one failure of a
 * JSON-array body that cannot be cut. With `decodePart` it is `decodeBatch` in steps, so that a
 * caller can count the events before paying for them, and decode a large body in slices.
 */
export type BatchSplit = { ok: true; parts: BatchPart[] } | { ok: false; failure: BatchItem }

export function splitBatch(body: Uint8Array | string, format: BatchFormat): BatchSplit {
  return format === 'ndjson' ? { ok: true, parts: splitNdjson(body) } : splitJsonArray(body)
}

/** Decodes the part at 0-based position `index` of a `splitBatch`. */
export function decodePart(part: BatchPart, index: number, limits: ValidationLimits): BatchItem {
  const item: BatchItem = { ...decodeEvent(part.input, limits), index }
  if (part.line !== undefined) item.line = part.line
  return item
}

/** One line for logs and dead-letter headers: `path: message (rule); path: message (rule)`. */
export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((issue) => `${issue.message} (${issue.rule})`).join('; ')
}

// ---- Batches --------------------------------------------------------------------------------

function splitNdjson(body: Uint8Array | string): BatchPart[] {
  const parts: BatchPart[] = []
  const lines = typeof body === 'string' ? splitTextLines(body) : splitByteLines(body)
  lines.forEach((line, i) => {
    if (!isBlank(line)) parts.push({ input: line, line: i + 1 })
  })
  return parts
}

// Lines are split before decoding so that one line of invalid UTF-8 fails alone.
function splitByteLines(body: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = []
  let start = 0
  for (;;) {
    const end = body.indexOf(0x0a, start)
    const stop = end === -1 ? body.length : end
    lines.push(body.subarray(start, stop > start && body[stop - 1] === 0x0d ? stop - 1 : stop))
    if (end === -1) return lines
    start = end + 1
  }
}

function splitTextLines(body: string): string[] {
  return body
    .replace(/^\uFEFF/, '')
    .split('\n')
    .map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line))
}

function isBlank(line: Uint8Array | string): boolean {
  if (typeof line === 'string') return /^[ \t\r]*$/.test(line)
  return line.every((byte) => byte === 0x20 || byte === 0x09 || byte === 0x0d)
}

function splitJsonArray(body: Uint8Array | string): BatchSplit {
  const whole = (issue: ValidationIssue, raw: string): BatchSplit => ({
    ok: false,
    failure: { ...refuse(raw, issue), index: 0 },
  })
  // Bytes that are not UTF-8 cannot be split into elements; an unpaired surrogate in a string body
  // can, and is then refused with its element only.
  const text = typeof body === 'string' ? body.replace(/^\uFEFF/, '') : strictText(body)
  if (text === undefined) return whole(rootIssue('invalid_utf8', 'is not valid UTF-8 text'), lossyText(body))
  let value: unknown
  try {
    // V8 parses iteratively, so a deeply nested body cannot overflow the stack here; depth is
    // then checked per element by `decodeEvent`.
    value = JSON.parse(text)
  } catch (error) {
    return whole(rootIssue('invalid_json', `is not valid JSON: ${(error as Error).message}`), text)
  }
  if (!Array.isArray(value))
    return whole(rootIssue('type', `must be a JSON array of events, got ${kindOf(value)}`), text)
  // Each element is decoded from its own slice of the body rather than re-serialised, so that
  // its raw text is exactly what was sent (JSON.stringify would turn 1e999 into null).
  return { ok: true, parts: arrayElementTexts(text).map((element) => ({ input: element })) }
}

/** The source text of each element of a JSON array; `text` must be valid JSON. */
function arrayElementTexts(text: string): string[] {
  const elements: string[] = []
  let depth = 0
  let inString = false
  let start = text.indexOf('[') + 1
  for (let i = start; i < text.length; i++) {
    const c = text[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
    } else if (c === '"') {
      inString = true
    } else if (c === '{' || c === '[') {
      depth++
    } else if (c === '}' || c === ']') {
      if (depth === 0) {
        const last = text.slice(start, i).trim()
        if (last !== '') elements.push(last)
        break
      }
      depth--
    } else if (c === ',' && depth === 0) {
      elements.push(text.slice(start, i).trim())
      start = i + 1
    }
  }
  return elements
}

// ---- Hostile input --------------------------------------------------------------------------

const utf8 = new TextDecoder('utf-8', { fatal: true })
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * The text of `input`, or undefined when it is not valid UTF-8 (or, for a string, not encodable
 * as UTF-8). A leading byte-order mark is dropped from strings as TextDecoder drops it from bytes.
 */
function strictText(input: Uint8Array | string): string | undefined {
  if (typeof input === 'string') return loneSurrogate.test(input) ? undefined : input.replace(/^\uFEFF/, '')
  try {
    return utf8.decode(input)
  } catch {
    return undefined
  }
}

function lossyText(input: Uint8Array | string): string {
  return typeof input === 'string'
    ? input
    : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8')
}

/** Whether objects and arrays in `text` nest deeper than `maxDepth`; a linear scan, no recursion. */
function nestingExceeds(text: string, maxDepth: number): boolean {
  // Nesting deeper than maxDepth needs more than maxDepth opening brackets: counting them with
  // indexOf is ten times faster than the scan below, and settles almost every event.
  let opening = 0
  for (const bracket of ['{', '[']) {
    for (let i = text.indexOf(bracket); i !== -1 && opening <= maxDepth; i = text.indexOf(bracket, i + 1)) opening++
  }
  if (opening <= maxDepth) return false
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return true
    } else if (c === 0x7d || c === 0x5d) {
      depth--
    }
  }
  return false
}

/**
 * Keys that could reach an object's prototype in a later merge, numbers JSON cannot round-trip
 * (`1e999` parses to Infinity) and strings UTF-8 cannot store. Iterative: depth is already bounded,
 * but a walk must not be the thing that overflows. A path is only built for an issue: this runs on
 * every event ingest reads, and allocating one per value cost more than the checks.
 */
function hostileValueIssues(root: unknown, mayHoldSurrogates: boolean): ValidationIssue[] {
  const issues: ValidationIssue[] = []
  const stack: Visit[] = [{ value: root, parent: undefined, key: undefined }]
  while (stack.length > 0 && issues.length <= MAX_ISSUES) {
    const visit = stack.pop()!
    const { value } = visit
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) issues.push(issueAt(pathOf(visit), 'not_finite', 'must be a finite number'))
    } else if (typeof value === 'string') {
      if (mayHoldSurrogates && loneSurrogate.test(value))
        issues.push(issueAt(pathOf(visit), 'invalid_utf8', 'contains an unpaired surrogate, which UTF-8 cannot encode'))
    } else if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) stack.push({ value: value[i], parent: visit, key: i })
    } else if (typeof value === 'object' && value !== null) {
      for (const key of Object.keys(value)) {
        if (FORBIDDEN_KEYS.has(key)) {
          issues.push(issueAt(pathOf(visit, key), 'forbidden_key', `is a forbidden key ("${key}")`))
        } else if (mayHoldSurrogates && loneSurrogate.test(key)) {
          issues.push(
            issueAt(
              pathOf(visit, key),
              'invalid_utf8',
              'is a key with an unpaired surrogate, which UTF-8 cannot encode',
            ),
          )
        } else {
          stack.push({ value: (value as Record<string, unknown>)[key], parent: visit, key })
        }
      }
    }
  }
  return issues
}

/**
 * Whether `hostileValueIssues` would find anything, allocating nothing: almost every event is
 * clean, and the walk with paths runs only for one that is not. Recursive, which is safe here:
 * the text's nesting was bounded (`nestingExceeds`) before it was parsed.
 */
function holdsHostileValue(value: unknown, mayHoldSurrogates: boolean): boolean {
  if (typeof value === 'number') return !Number.isFinite(value)
  if (typeof value === 'string') return mayHoldSurrogates && loneSurrogate.test(value)
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (holdsHostileValue(value[i], mayHoldSurrogates)) return true
    return false
  }
  if (typeof value === 'object' && value !== null) {
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue
      if (FORBIDDEN_KEYS.has(key) || (mayHoldSurrogates && loneSurrogate.test(key))) return true
      if (holdsHostileValue((value as Record<string, unknown>)[key], mayHoldSurrogates)) return true
    }
  }
  return false
}

interface Visit {
  value: unknown
  parent: Visit | undefined
  key: PropertyKey | undefined
}

/** The path of a visited value, and then of `tail` below it. */
function pathOf(visit: Visit, ...tail: PropertyKey[]): PropertyKey[] {
  const path = tail
  for (let at: Visit | undefined = visit; at?.parent; at = at.parent) path.unshift(at.key!)
  return path
}

// ---- Contract checks ------------------------------------------------------------------------

/** `occurredAt` is a well-formed timestamp; whether it lies in the accepted window. */
function timeWindowIssues(occurredAt: string, limits: ValidationLimits): ValidationIssue[] {
  const at = Date.parse(occurredAt)
  const latest = limits.now.getTime() + limits.maxFutureMs
  if (at >= limits.earliest.getTime() && at <= latest) return []
  return [
    issueAt(
      ['occurred_at'],
      'timestamp_out_of_range',
      `must lie between ${limits.earliest.toISOString()} and ${new Date(latest).toISOString()}, got ${String(occurredAt)}`,
    ),
  ]
}

function isDiscriminatorIssue(issue: z.core.$ZodIssue): boolean {
  return issue.code === 'invalid_union' && issue.discriminator !== undefined
}

/** Messages in house style for zod's default issues; messages set in the schema win over these. */
function houseMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.input === undefined && issue.code !== 'unrecognized_keys') return 'is required'
  switch (issue.code) {
    case 'invalid_type':
      if (typeof issue.input === 'number' && !Number.isFinite(issue.input)) return 'must be a finite number'
      if (issue.expected === 'int') return 'must be an integer'
      return `must be ${withArticle(issue.expected)}, got ${kindOf(issue.input)}`
    case 'too_small':
      return tooSmall(issue.origin, Number(issue.minimum), issue.inclusive !== false)
    case 'too_big':
      return tooBig(issue.origin, Number(issue.maximum), issue.inclusive !== false, issue.input)
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`
    case 'invalid_format':
      return `must be a valid ${issue.format}`
    case 'unrecognized_keys':
      return 'is not a known field'
    default:
      return undefined
  }
}

function tooSmall(origin: string, minimum: number, inclusive: boolean): string {
  if (origin === 'string') return minimum === 1 ? 'must not be empty' : `must be at least ${minimum} characters long`
  if (origin === 'array') return `must contain at least ${minimum} item${minimum === 1 ? '' : 's'}`
  return inclusive ? `must be at least ${minimum}` : `must be greater than ${minimum}`
}

function tooBig(origin: string, maximum: number, inclusive: boolean, input: unknown): string {
  if (origin === 'string') return `must be at most ${maximum} characters long, got ${(input as string).length}`
  if (origin === 'array') return `must contain at most ${maximum} items, got ${(input as unknown[]).length}`
  return inclusive ? `must be at most ${maximum}` : `must be less than ${maximum}`
}

/** One zod issue as our issues; an unknown-keys issue becomes one issue per key. */
function fromZodIssue(issue: z.core.$ZodIssue, root: unknown): ValidationIssue[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => issueAt([...issue.path, key], 'unknown_field', 'is not a known field'))
  }
  const value = valueAt(root, issue.path)
  if (value === MISSING || value === undefined) return [issueAt(issue.path, 'required', 'is required')]
  if (issue.code === 'invalid_union' && issue.discriminator !== undefined) {
    return [issueAt(issue.path, 'enum', `must be one of ${EVENT_TYPES.map((t) => JSON.stringify(t)).join(', ')}`)]
  }
  return [issueAt(issue.path, ruleOf(issue, value), issue.message)]
}

function ruleOf(issue: z.core.$ZodIssue, value: unknown): ValidationRule {
  switch (issue.code) {
    case 'invalid_type':
      if (typeof value === 'number' && !Number.isFinite(value)) return 'not_finite'
      return issue.expected === 'int' ? 'integer' : 'type'
    case 'too_small':
      return issue.origin === 'string' || issue.origin === 'array' ? 'too_short' : 'min'
    case 'too_big':
      return issue.origin === 'string' || issue.origin === 'array' ? 'too_long' : 'max'
    case 'invalid_format':
      return issue.format === 'regex' ? 'pattern' : 'format'
    case 'invalid_value':
      return 'enum'
    case 'custom':
      return issue.params?.['rule'] === 'period_order' ? 'period_order' : 'invalid'
    default:
      return 'invalid'
  }
}

// ---- Helpers --------------------------------------------------------------------------------

const MISSING = Symbol('missing')

/** The value at `path`, following own properties only (`constructor` must not find the prototype's). */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root
  for (const key of path) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return MISSING
    current = (current as Record<PropertyKey, unknown>)[key]
  }
  return current
}

function ownProperty(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined
}

function identify(value: unknown): { eventId?: string; orgId?: string } {
  const eventId = ownProperty(value, 'event_id')
  const orgId = ownProperty(value, 'org_id')
  return {
    ...(typeof eventId === 'string' ? { eventId } : {}),
    ...(typeof orgId === 'string' ? { orgId } : {}),
  }
}

function refuse(raw: string, issue: ValidationIssue): DecodeResult {
  return { ok: false, raw, issues: [issue] }
}

function rootIssue(rule: ValidationRule, text: string): ValidationIssue {
  return issueAt([], rule, text)
}

function issueAt(path: readonly PropertyKey[], rule: ValidationRule, text: string): ValidationIssue {
  const where = formatPath(path)
  return { path: where, rule, message: `${where}: ${text}` }
}

function capped(issues: ValidationIssue[]): ValidationIssue[] {
  if (issues.length <= MAX_ISSUES) return issues
  return [
    ...issues.slice(0, MAX_ISSUES),
    rootIssue('too_many_issues', `has more than ${MAX_ISSUES} issues; the rest are not listed`),
  ]
}

const MAX_KEY_SHOWN = 64

/** `payload.recipient_ids[0]`; keys that are not identifiers are quoted: `payload["a.b"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)'
  let out = ''
  for (const key of path) {
    if (typeof key === 'number') {
      out += `[${key}]`
    } else {
      const name = String(key)
      const shown = name.length > MAX_KEY_SHOWN ? `${name.slice(0, MAX_KEY_SHOWN)}…` : name
      out += /^[A-Za-z_$][\w$]*$/.test(shown) ? `${out === '' ? '' : '.'}${shown}` : `[${JSON.stringify(shown)}]`
    }
  }
  return out
}

function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

function withArticle(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`
}
