/**
 * Event validation, per event, on the demo generator's events: zod alone against the compiled
 * validator that `validateEvent` runs first (zod then only for the events it refuses), for valid
 * events and for a mix with 1 % invalid ones; and `decodeEvent` (text to event, as ingest runs it).
 * In-process and CPU-bound: no stack needed. Each figure is the median of several alternating
 * runs; on a shared machine compare the two paths within one run, not across runs.
 *
 * `npm run bench -- validation`, or `npx tsx bench/validation-bench.ts [events]`.
 */
import { pathToFileURL } from 'node:url'
import {
  decodeEvent,
  defaultLimits,
  validateEvent,
  validateEventWithZod,
  type ValidationResult,
} from '../schemas/event-validation.ts'
import { median, orgEventLines, printFigures, type Figure } from './bench-support.ts'

const RUNS = 7

interface Timing {
  /** Wall time per event, µs. */
  wallUs: number
  /** CPU time (user + system) per event, µs. */
  cpuUs: number
}

export function benchValidation(total: number): Figure[] {
  process.stderr.write(`validation: generating ${total} events…\n`)
  const lines = [...orgEventLines('benchvalidation', total)]
  const valid = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
  const mixed = valid.map((event, i) => (i % 100 === 50 ? spoiled(event, i / 100) : event))
  // After the generator's last event, so that every valid event lies in the occurred_at window.
  const limits = defaultLimits(new Date('2026-06-01T00:00:00Z'))
  const refused = (validate: typeof validateEvent, events: unknown[]) =>
    events.filter((event) => !validate(event, limits).ok).length
  const invalid = refused(validateEvent, mixed)
  if (refused(validateEvent, valid) !== 0 || refused(validateEventWithZod, mixed) !== invalid)
    throw new Error('validation bench: the two paths disagree on the generated events')
  const invalidShare = invalid / mixed.length

  const zod = (event: unknown) => validateEventWithZod(event, limits)
  const compiled = (event: unknown) => validateEvent(event, limits)
  const cases = {
    zodValid: () => time(valid, zod),
    compiledValid: () => time(valid, compiled),
    zodMixed: () => time(mixed, zod),
    compiledMixed: () => time(mixed, compiled),
    decoded: () => time(lines, (line) => decodeEvent(line, limits)),
  }
  const timings = Object.fromEntries(Object.keys(cases).map((name) => [name, [] as Timing[]])) as Record<
    keyof typeof cases,
    Timing[]
  >
  // Alternating, so that a busy spell of the machine slows every case alike; run 0 is a warm-up.
  for (let run = 0; run <= RUNS; run++) {
    for (const [name, measure] of Object.entries(cases)) {
      const timing = measure()
      if (run > 0) timings[name as keyof typeof cases].push(timing)
    }
  }
  const cpu = (name: keyof typeof cases) => median(timings[name].map((t) => t.cpuUs))
  const us = (name: keyof typeof cases) =>
    `${median(timings[name].map((t) => t.wallUs)).toFixed(2)} µs (cpu ${cpu(name).toFixed(2)})`
  return [
    { name: 'events (generator), runs (median of)', value: `${valid.length}, ${RUNS}` },
    { name: 'valid: zod alone, per event', value: us('zodValid') },
    { name: 'valid: compiled, per event', value: us('compiledValid') },
    { name: 'valid: zod ÷ compiled (cpu)', value: `${(cpu('zodValid') / cpu('compiledValid')).toFixed(1)} ×` },
    { name: `mix, ${(invalidShare * 100).toFixed(1)} % invalid: zod alone, per event`, value: us('zodMixed') },
    { name: 'mix: compiled, zod for the refused, per event', value: us('compiledMixed') },
    { name: 'mix: zod ÷ compiled (cpu)', value: `${(cpu('zodMixed') / cpu('compiledMixed')).toFixed(1)} ×` },
    { name: 'decodeEvent (text → event, compiled), per event', value: us('decoded') },
  ]
}

export function printValidation(figures: Figure[]): void {
  printFigures('Validation: one event, in process (shared machine: compare within the run)', figures)
}

/** One invalid event made of a valid one, in one of four ways. */
function spoiled(event: Record<string, unknown>, n: number): Record<string, unknown> {
  const payload = event['payload'] as Record<string, unknown>
  switch (n % 4) {
    case 0: {
      const [first] = Object.keys(payload)
      return { ...event, payload: Object.fromEntries(Object.entries(payload).filter(([key]) => key !== first)) }
    }
    case 1:
      return { ...event, org_id: 'Not An Org' }
    case 2:
      return { ...event, occurred_at: String(event['occurred_at']).replace(/(Z|[+-]\d\d:\d\d)$/, '') }
    default:
      return { ...event, payload: { ...payload, unexpected: true } }
  }
}

function time<T>(items: readonly T[], work: (item: T) => ValidationResult | { ok: boolean }): Timing {
  let ok = 0
  const cpu = process.cpuUsage()
  const start = performance.now()
  for (const item of items) if (work(item).ok) ok++
  const wallMs = performance.now() - start
  const used = process.cpuUsage(cpu)
  // `ok` is read so that the work cannot be optimised away.
  if (ok < 0) throw new Error('unreachable')
  return { wallUs: (wallMs * 1000) / items.length, cpuUs: (used.user + used.system) / items.length }
}


if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printValidation(benchValidation(Number(process.argv[2] ?? process.env.BENCH_VALIDATION_EVENTS ?? 100_000)))
}
