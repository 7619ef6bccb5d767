/**
 * The range of a report when the user gives none or a relative one: `--last 4w` is the last four
 * whole ISO weeks (Monday to Sunday) before today, `--last 30d` the thirty days before today, and
 * no range at all the last whole week. "Today" is the org's, in its time zone: a manager in Tokyo
 * on Monday morning already sees last week as complete. Pure functions.
 */
import { addDays } from '../projections/days.ts'

/** The calendar day of `now` in time zone `tz`. */
export function todayIn(tz: string, now: Date): string {
  // en-CA formats a date as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    now,
  )
}

/** The Monday of the ISO week of `day`. */
export function mondayOf(day: string): string {
  const weekday = new Date(`${day}T00:00:00Z`).getUTCDay() // 0 = Sunday
  return addDays(day, -((weekday + 6) % 7))
}

/** A relative range, `4w` (whole weeks) or `30d` (days), before `today`. */
export type LastSpan = { unit: 'w' | 'd'; count: number }

/** Reads `4w` / `30d`; undefined when the text is neither (the caller names the option). */
export function parseLast(text: string): LastSpan | undefined {
  const m = /^([1-9]\d{0,3})([wd])$/.exec(text.trim())
  return m ? { unit: m[2] as 'w' | 'd', count: Number(m[1]) } : undefined
}

/** The days of `span` before `today`: whole weeks end on the last Sunday, days on yesterday. */
export function lastRange(span: LastSpan, today: string): { from: string; to: string } {
  if (span.unit === 'd') return { from: addDays(today, -span.count), to: addDays(today, -1) }
  const lastSunday = addDays(mondayOf(today), -1)
  return { from: addDays(lastSunday, -(7 * span.count - 1)), to: lastSunday }
}
