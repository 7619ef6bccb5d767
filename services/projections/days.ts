/**
 * Calendar days (`YYYY-MM-DD`, in an org's timezone) and the arithmetic the metrics need on them.
 * Pure functions: dates are handled as UTC calendar dates, never as instants.
 */
import { FIRST_DAY, isCalendarDay, LAST_DAY } from '../../schemas/report-params.schema.ts'
import { DayError } from '../errors.ts'

export { DayError }

const DAY_MS = 86_400_000

/** True for a real calendar date `YYYY-MM-DD` that ClickHouse's `Date` can hold (the schemas' `Day`). */
export function isDay(value: string): boolean {
  return isCalendarDay(value)
}

/** Throws a DayError naming `what` unless `value` is a valid day. */
export function assertDay(value: string, what: string): void {
  if (!isDay(value))
    throw new DayError(
      `${what}: must be a calendar date YYYY-MM-DD between ${FIRST_DAY} and ${LAST_DAY} (got ${JSON.stringify(value)})`,
    )
}

/** `day` shifted by `n` days. */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10)
}

/** Every day from `from` to `to`, inclusive, in order. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = []
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d)
  return out
}

/**
 * Instants (UTC, ClickHouse DateTime64 text) that contain every instant of the given days in any
 * timezone: a local day lies within [its date 00:00 UTC - 14 h, its date 24:00 UTC + 12 h], so a day
 * of margin on each side is enough. Used only to prune partitions; the exact filter is by day.
 */
export function instantBounds(days: readonly string[]): { lo: string; hi: string } {
  const sorted = [...days].sort()
  const first = sorted[0]
  const last = sorted[sorted.length - 1]
  if (first === undefined || last === undefined) throw new DayError('instantBounds: no days')
  return { lo: `${addDays(first, -1)} 00:00:00.000`, hi: `${addDays(last, 2)} 00:00:00.000` }
}

/** Distinct valid days, sorted; throws a DayError on the first invalid one. */
export function normalizeDays(days: readonly string[]): string[] {
  for (const d of days) assertDay(d, 'days')
  return [...new Set(days)].sort()
}

/**
 * Splits sorted distinct days into runs of consecutive days of at most `max` days each, so that each
 * query of a recomputation reads a compact time span.
 */
export function dayRuns(sortedDays: readonly string[], max: number): string[][] {
  const runs: string[][] = []
  let run: string[] = []
  for (const day of sortedDays) {
    const previous = run[run.length - 1]
    if (previous !== undefined && (addDays(previous, 1) !== day || run.length >= max)) {
      runs.push(run)
      run = []
    }
    run.push(day)
  }
  if (run.length > 0) runs.push(run)
  return runs
}

/** The Monday of `day`'s ISO week (weeks run Monday–Sunday). */
export function weekOf(day: string): string {
  const weekday = (new Date(Date.parse(`${day}T00:00:00Z`)).getUTCDay() + 6) % 7
  return addDays(day, -weekday)
}

/** `from`..`to` widened to whole ISO weeks: from the Monday of `from`'s week to the Sunday of `to`'s. */
export function widenToWeeks(range: { from: string; to: string }): { from: string; to: string } {
  return { from: weekOf(range.from), to: addDays(weekOf(range.to), 6) }
}

/** The Mondays of the ISO weeks that `from`..`to` touches, oldest first (none when `to` < `from`). */
export function weeksBetween(from: string, to: string): string[] {
  const out: string[] = []
  if (to < from) return out
  for (let monday = weekOf(from); monday <= to; monday = addDays(monday, 7)) out.push(monday)
  return out
}

/**
 * The last `n` full ISO weeks before the week of `today`, as a range (a week is full once its
 * Sunday is over, so on a Sunday the current week is not yet counted).
 */
export function lastFullWeeks(n: number, today: string): { from: string; to: string } {
  const monday = weekOf(today)
  return { from: addDays(monday, -7 * n), to: addDays(monday, -1) }
}

/** The calendar day of an instant in an IANA timezone, `YYYY-MM-DD`. */
export function dayIn(instant: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(instant)
    .reduce<Record<string, string>>((out, part) => ({ ...out, [part.type]: part.value }), {})
  return `${parts['year']}-${parts['month']}-${parts['day']}`
}

/**
 * The instant `day` begins in `timeZone` (its first millisecond there): found by bisection, as a
 * day begins between 14 hours before and 12 hours after its midnight in UTC in every zone.
 */
export function dayStart(day: string, timeZone: string): Date {
  const midnightUtc = Date.parse(`${day}T00:00:00Z`)
  let lo = midnightUtc - 15 * 3_600_000
  let hi = midnightUtc + 15 * 3_600_000
  // Invariant: dayIn(lo) < day <= dayIn(hi).
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2)
    if (dayIn(new Date(mid), timeZone) >= day) hi = mid
    else lo = mid
  }
  return new Date(hi)
}

/** Whether `timeZone` is an IANA time zone this runtime knows (ClickHouse knows the same set). */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone })
    return true
  } catch {
    return false
  }
}
