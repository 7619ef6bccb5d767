import { describe, expect, it } from 'vitest'
import { lastRange, mondayOf, parseLast, todayIn } from '../../services/reports/report-range.ts'

describe('report ranges', () => {
  it('takes whole ISO weeks before today, whatever the weekday', () => {
    // 2026-12-03 is a Thursday; the last whole week is Mon 23 Nov to Sun 29 Nov.
    expect(lastRange({ unit: 'w', count: 1 }, '2026-12-03')).toEqual({ from: '2026-11-23', to: '2026-11-29' })
    expect(lastRange({ unit: 'w', count: 4 }, '2026-12-03')).toEqual({ from: '2026-11-02', to: '2026-11-29' })
    // On a Monday the week that just ended is whole; on a Sunday it is not.
    expect(lastRange({ unit: 'w', count: 1 }, '2026-11-30')).toEqual({ from: '2026-11-23', to: '2026-11-29' })
    expect(lastRange({ unit: 'w', count: 1 }, '2026-11-29')).toEqual({ from: '2026-11-16', to: '2026-11-22' })
  })

  it('takes days before today, today excluded', () => {
    expect(lastRange({ unit: 'd', count: 7 }, '2026-03-01')).toEqual({ from: '2026-02-22', to: '2026-02-28' })
  })

  it('finds the Monday of a week across a year end', () => {
    expect(mondayOf('2027-01-01')).toBe('2026-12-28')
    expect(mondayOf('2026-12-28')).toBe('2026-12-28')
    expect(mondayOf('2027-01-03')).toBe('2026-12-28')
  })

  it("cuts today in the org's time zone", () => {
    const now = new Date('2026-11-29T23:30:00Z') // Sunday night in London, Monday morning in Tokyo
    expect(todayIn('UTC', now)).toBe('2026-11-29')
    expect(todayIn('Asia/Tokyo', now)).toBe('2026-11-30')
    expect(lastRange({ unit: 'w', count: 1 }, todayIn('Asia/Tokyo', now)).to).toBe('2026-11-29')
    expect(lastRange({ unit: 'w', count: 1 }, todayIn('UTC', now)).to).toBe('2026-11-22')
  })

  it('reads 4w and 30d, and nothing else', () => {
    expect(parseLast('4w')).toEqual({ unit: 'w', count: 4 })
    expect(parseLast('30d')).toEqual({ unit: 'd', count: 30 })
    for (const bad of ['', 'w', '0w', '4 weeks', '4m', '-4w', '4w; DROP TABLE events'])
      expect(parseLast(bad)).toBeUndefined()
  })
})
