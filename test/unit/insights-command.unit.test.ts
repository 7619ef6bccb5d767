// `dugout insights preview` options: the week as a Monday or an ISO week, errors naming the option.
import { describe, expect, it } from 'vitest'
import { isoWeekMonday, parsePreviewOptions } from '../../services/cli/insights-command.ts'
import { ParamsError } from '../../services/errors.ts'

const base = { org: 'acme', manager: 'mgr-1' }

describe('--week', () => {
  it('takes a Monday as it is', () => {
    expect(parsePreviewOptions({ ...base, week: '2026-03-02' }).week).toBe('2026-03-02')
  })

  it('takes an ISO week as its Monday, across year boundaries', () => {
    expect(parsePreviewOptions({ ...base, week: '2026-W10' }).week).toBe('2026-03-02')
    expect(isoWeekMonday(2026, 1)).toBe('2025-12-29')
    expect(isoWeekMonday(2021, 1)).toBe('2021-01-04')
    expect(isoWeekMonday(2020, 53)).toBe('2020-12-28')
    expect(isoWeekMonday(2026, 53)).toBe('2026-12-28')
    expect(isoWeekMonday(2027, 52)).toBe('2027-12-27')
    expect(isoWeekMonday(2027, 53)).toBeUndefined()
    expect(isoWeekMonday(2026, 0)).toBeUndefined()
  })

  it.each([
    ['2026-03-03', '2026-03-03 is not a Monday'],
    ['2027-W53', '2027 has no week 53'],
    ['2026-W00', '2026 has no week 0'],
    ['2026-02-30', ''],
    ['last week', ''],
  ])('refuses %s, naming --week and the rule', (week, why) => {
    const error = (() => {
      try {
        parsePreviewOptions({ ...base, week })
      } catch (e) {
        return e
      }
      return undefined
    })()
    expect(error).toBeInstanceOf(ParamsError)
    const issues = (error as ParamsError).issues
    expect(issues.map((i) => i.parameter)).toEqual(['--week'])
    expect(issues[0]!.rule).toContain('must be a Monday (2026-03-02) or an ISO week (2026-W10)')
    expect(issues[0]!.rule).toContain(why)
    expect((error as Error).message).toMatch(/^insights preview: --week: /)
  })
})

describe('the other options', () => {
  it('writes to ./out by default', () => {
    expect(parsePreviewOptions({ ...base, week: '2026-W10' })).toEqual({ ...base, week: '2026-03-02', out: 'out' })
  })

  it('names a missing or bad --org and --manager', () => {
    expect(() => parsePreviewOptions({ week: '2026-W10' })).toThrow(/--org: .*--manager: /)
    expect(() => parsePreviewOptions({ org: 'Not An Org!', manager: 'mgr-1', week: '2026-W10' })).toThrow(
      /^insights preview: --org: /,
    )
  })
})
