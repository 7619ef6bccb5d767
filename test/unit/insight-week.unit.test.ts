// The week a Monday 08:00 run covers: the Monday–Sunday before it, in the org's time zone.
import { describe, expect, it } from 'vitest'
import { previousWeek } from '../../services/insights/insight-activities.ts'

describe('previousWeek', () => {
  it('is the Monday–Sunday that just ended, at Monday 08:00 in the zone', () => {
    // Monday 2026-03-09 08:00 in Tokyo is Sunday 23:00 UTC: Tokyo's week just ended, UTC's has not.
    const tokyoMonday8 = new Date('2026-03-08T23:00:00Z')
    expect(previousWeek(tokyoMonday8, 'Asia/Tokyo')).toBe('2026-03-02')
    expect(previousWeek(tokyoMonday8, 'UTC')).toBe('2026-02-23')
    expect(previousWeek(new Date('2026-03-09T08:00:00Z'), 'UTC')).toBe('2026-03-02')
    // Monday 08:00 in Los Angeles (PDT, UTC-7) is Monday 15:00 UTC.
    expect(previousWeek(new Date('2026-03-09T15:00:00Z'), 'America/Los_Angeles')).toBe('2026-03-02')
  })

  it('stays the same week for a run caught up later in the week, and on a Sunday is the week before', () => {
    expect(previousWeek(new Date('2026-03-12T10:00:00Z'), 'UTC')).toBe('2026-03-02')
    expect(previousWeek(new Date('2026-03-15T23:59:00Z'), 'UTC')).toBe('2026-03-02')
    expect(previousWeek(new Date('2026-03-15T23:59:00Z'), 'Asia/Tokyo')).toBe('2026-03-09')
  })
})
