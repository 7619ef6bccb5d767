import { describe, expect, it } from 'vitest'
import {
  addDays,
  assertDay,
  dayRuns,
  daysBetween,
  DayError,
  instantBounds,
  isDay,
  normalizeDays,
} from '../../services/projections/days.ts'

describe('days', () => {
  it('accepts only real calendar dates', () => {
    expect(isDay('2028-02-29')).toBe(true)
    expect(isDay('2026-02-29')).toBe(false)
    expect(isDay('2026-3-01')).toBe(false)
    expect(isDay('1969-12-31')).toBe(false)
    expect(() => assertDay('x', 'from')).toThrow(DayError)
    expect(() => assertDay('x', 'from')).toThrow(/from/)
  })

  it('counts days across months and leap days', () => {
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29')
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28')
    expect(daysBetween('2026-12-30', '2027-01-02')).toEqual(['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02'])
    expect(daysBetween('2026-01-02', '2026-01-01')).toEqual([])
  })

  it('brackets the days in any timezone with a day of margin', () => {
    expect(instantBounds(['2026-03-08', '2026-03-02'])).toEqual({
      lo: '2026-03-01 00:00:00.000',
      hi: '2026-03-10 00:00:00.000',
    })
  })

  it('sorts, dedupes and splits days into bounded runs of consecutive days', () => {
    const days = normalizeDays([
      '2026-03-05',
      '2026-03-01',
      '2026-03-02',
      '2026-03-05',
      '2026-03-03',
      '2026-03-04',
      '2026-03-09',
    ])
    expect(days).toEqual(['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-09'])
    expect(dayRuns(days, 3)).toEqual([
      ['2026-03-01', '2026-03-02', '2026-03-03'],
      ['2026-03-04', '2026-03-05'],
      ['2026-03-09'],
    ])
    expect(dayRuns([], 3)).toEqual([])
    expect(() => normalizeDays(['2026-13-01'])).toThrow(DayError)
  })
})
