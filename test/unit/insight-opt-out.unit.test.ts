// The opt-out link's token (services/insights/opt-out.ts) and the instants the weekly send waits
// for (dayStart in services/projections/days.ts).
import { describe, expect, it } from 'vitest'
import { optOutToken, optOutUrl, verifyOptOutToken } from '../../services/insights/opt-out.ts'
import { dayIn, dayStart, isTimeZone } from '../../services/projections/days.ts'

const SECRET = 'unit-test-secret-of-at-least-32-characters'

describe('the opt-out token', () => {
  const subject = { org: 'acme', manager: 'mgr-1' }

  it('verifies for its own org and manager under its own secret only', () => {
    const token = optOutToken(SECRET, subject)
    expect(verifyOptOutToken(SECRET, subject, token)).toBe(true)
    expect(verifyOptOutToken(SECRET, { ...subject, manager: 'mgr-2' }, token)).toBe(false)
    expect(verifyOptOutToken(SECRET, { ...subject, org: 'acme2' }, token)).toBe(false)
    expect(verifyOptOutToken(`${SECRET}x`, subject, token)).toBe(false)
    expect(verifyOptOutToken(SECRET, subject, token.slice(0, -1))).toBe(false)
    expect(verifyOptOutToken(SECRET, subject, '')).toBe(false)
  })

  it('keeps the parts apart: moving a character from the org to the manager breaks it', () => {
    const token = optOutToken(SECRET, { org: 'ab', manager: 'c' })
    expect(verifyOptOutToken(SECRET, { org: 'a', manager: 'bc' }, token)).toBe(false)
  })

  it('is a link under the public URL naming the org and the manager', () => {
    const url = new URL(optOutUrl('https://dugout.example.com', SECRET, { org: 'acme', manager: 'mgr &1' }))
    expect(url.origin + url.pathname).toBe('https://dugout.example.com/v1/insights/opt-out')
    expect(url.searchParams.get('manager')).toBe('mgr &1')
    expect(url.searchParams.get('token')).toBe(optOutToken(SECRET, { org: 'acme', manager: 'mgr &1' }))
  })
})

describe('dayStart', () => {
  it.each([
    ['2026-03-09', 'UTC', '2026-03-09T00:00:00.000Z'],
    ['2026-03-09', 'America/New_York', '2026-03-09T04:00:00.000Z'],
    ['2026-03-02', 'America/New_York', '2026-03-02T05:00:00.000Z'],
    ['2026-03-09', 'Asia/Tokyo', '2026-03-08T15:00:00.000Z'],
    ['2026-03-09', 'Pacific/Kiritimati', '2026-03-08T10:00:00.000Z'],
    ['2026-03-09', 'Pacific/Pago_Pago', '2026-03-09T11:00:00.000Z'],
    ['2026-03-30', 'Asia/Kolkata', '2026-03-29T18:30:00.000Z'],
  ])('%s begins in %s at %s', (day, zone, instant) => {
    const start = dayStart(day, zone)
    expect(start.toISOString()).toBe(instant)
    expect(dayIn(start, zone)).toBe(day)
    expect(dayIn(new Date(start.getTime() - 1), zone)).not.toBe(day)
  })

  it('knows the zones Intl knows', () => {
    expect(isTimeZone('Europe/Paris')).toBe(true)
    expect(isTimeZone('Mars/Olympus_Mons')).toBe(false)
  })
})
