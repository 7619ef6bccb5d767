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
import { orgEventLines, percentile, printFigures, type Figure } from './bench-support.ts'

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
  const invalidShare = refused(validateEvent, mixed) / mixed.length
  if (refused(validateEvent, valid) !== 0 || refused(validateEventWithZod, mixed) !== invalidShare * mixed.length)
    throw new Error('validation bench: the two paths disagree on the generated events')

  const zodValid = [] as Timing[]
  const compiledValid = [] as Timing[]
  const zodMixed = [] as Timing[]
  const compiledMixed = [] as Timing[]
  const decoded = [] as Timing[]
  for (let run = 0; run <= RUNS; run++) {
    // Run 0 warms both paths up and is not counted.
    const keep = (into: Timing[], timing: Timing) => run > 0 && into.push(timing)
    keep(
      zodValid,
      time(valid, (event) => validateEventWithZod(event, limits)),
    )
    keep(
      compiledValid,
      time(valid, (event) => validateEvent(event, limits)),
    )
    keep(
      zodMixed,
      time(mixed, (event) => validateEventWithZod(event, limits)),
    )
    keep(
      compiledMixed,
      time(mixed, (event) => validateEvent(event, limits)),
    )
    keep(
      decoded,
      time(lines, (line) => decodeEvent(line, limits)),
    )
  }
  const us = (timings: Timing[]) => {
    const wall = median(timings.map((t) => t.wallUs))
    const cpu = median(timings.map((t) => t.cpuUs))
    return `${wall.toFixed(2)} µs (cpu ${cpu.toFixed(2)})`
  }
  const ratio = (zod: Timing[], compiled: Timing[]) =>
    `${(median(zod.map((t) => t.cpuUs)) / median(compiled.map((t) => t.cpuUs))).toFixed(1)} ×`
  return [
    { name: 'events (generator), runs (median of)', value: `${valid.length}, ${RUNS}` },
    { name: 'valid: zod alone, per event', value: us(zodValid) },
    { name: 'valid: compiled, per event', value: us(compiledValid) },
    { name: 'valid: zod ÷ compiled (cpu)', value: ratio(zodValid, compiledValid) },
    { name: `mix, ${(invalidShare * 100).toFixed(1)} % invalid: zod alone, per event`, value: us(zodMixed) },
    { name: `mix: compiled then zod for the refused, per event`, value: us(compiledMixed) },
    { name: 'mix: zod ÷ compiled (cpu)', value: ratio(zodMixed, compiledMixed) },
    { name: 'decodeEvent (text → event, compiled), per event', value: us(decoded) },
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

const median = (values: number[]) => percentile(values, 0.5)

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printValidation(benchValidation(Number(process.argv[2] ?? process.env.BENCH_VALIDATION_EVENTS ?? 100_000)))
}
