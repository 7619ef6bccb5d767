// The parameter schemas that the CLI, the HTTP API and the activities share: each refusal names
// the parameter and its rule, in the one message shape `<parameter>: <rule> (got …)`.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Day, MAX_RANGE_DAYS, parseParams, RebuildParams, ReportParams } from '../../schemas/report-params.schema.ts'
import { ReportParamsError } from '../../services/errors.ts'
import { addDays, isDay } from '../../services/projections/days.ts'
import { validateReportParams } from '../../services/reports/report-queries.ts'

const DAY_RULE = 'must be a calendar date YYYY-MM-DD between 1970-01-01 and 2149-06-05'

describe('Day', () => {
  it('takes real calendar dates that ClickHouse Date holds, and nothing else', () => {
    for (const ok of ['1970-01-01', '2028-02-29', '2149-06-05']) expect(Day.safeParse(ok).success, ok).toBe(true)
    for (const bad of ['2026-02-30', '2026-02-29', '1969-12-31', '2149-06-06', '2026-3-01', '', 20260301])
      expect(Day.safeParse(bad).success, String(bad)).toBe(false)
  })

  it('agrees with isDay on any string of the shape', () => {
    const shaped = fc
      .tuple(fc.integer({ min: 1960, max: 2160 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }))
      .map(([y, m, d]) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`)
    fc.assert(fc.property(shaped, (value) => Day.safeParse(value).success === isDay(value)))
  })
})

describe('RebuildParams', () => {
  it('refuses a day that does not exist, naming the parameter as given and the rule', () => {
    const result = parseParams(RebuildParams, { org: 'holdout', from: '2026-02-30', to: '2026-03-05' }, (p) => `--${p}`)
    expect(result).toEqual({
      ok: false,
      issues: [{ parameter: '--from', rule: DAY_RULE, message: `--from: ${DAY_RULE} (got "2026-02-30")` }],
    })
  })

  it('refuses an inverted range, an org id events could not carry, and unknown parameters', () => {
    const result = parseParams(RebuildParams, { org: 'Hold out', from: '2026-03-05', to: '2026-03-01', form: 'x' })
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.issues.map((i) => i.message).sort()).toEqual([
      'form: is not a parameter (got "x")',
      'from: must not be after to (got 2026-03-05 > 2026-03-01)',
      'org: must contain only lower-case letters, digits, "_" and "-" (got "Hold out")',
    ])
  })

  it('takes an org alone (every day with events) or with either bound', () => {
    expect(parseParams(RebuildParams, { org: 'holdout' })).toEqual({ ok: true, value: { org: 'holdout' } })
    expect(parseParams(RebuildParams, { org: 'holdout', to: '2026-03-05' }).ok).toBe(true)
  })
})

describe('ReportParams', () => {
  it(`covers at most ${MAX_RANGE_DAYS} days`, () => {
    const from = '2020-01-01'
    expect(parseParams(ReportParams, { org: 'a', from, to: addDays(from, MAX_RANGE_DAYS - 1) }).ok).toBe(true)
    const to = addDays(from, MAX_RANGE_DAYS)
    expect(parseParams(ReportParams, { org: 'a', from, to })).toMatchObject({
      ok: false,
      issues: [{ parameter: 'to', message: `to: a range covers at most ${MAX_RANGE_DAYS} days (got ${from}..${to})` }],
    })
  })

  it('is what validateReportParams checks, with its messages', () => {
    const check = (params: { org: string; from: string; to: string }) => () =>
      validateReportParams('rep-volume', params)
    expect(check({ org: 'a', from: '2026-02-30', to: '2026-03-05' })).toThrow(ReportParamsError)
    expect(check({ org: 'a', from: '2026-02-30', to: '2026-03-05' })).toThrow(`from: ${DAY_RULE} (got "2026-02-30")`)
    expect(check({ org: '', from: '2026-03-01', to: '2026-03-05' })).toThrow('org: must not be empty (got "")')
    expect(() => validateReportParams('nope', { org: 'a', from: '2026-03-01', to: '2026-03-05' })).toThrow(
      /^report: must be one of manager-autonomy, .* \(got "nope"\)$/,
    )
    expect(thrown(check({ org: 'a', from: '2026-03-05', to: '2026-03-01' }))).toMatchObject({
      code: 'REPORT_PARAMS_INVALID',
      issues: [{ parameter: 'from', rule: 'must not be after to' }],
    })
  })
})

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('did not throw')
}
