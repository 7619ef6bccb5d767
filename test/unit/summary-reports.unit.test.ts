// The pure parts of team-summary and trend (docs/metrics.md "Reports"): ISO weeks of days, the
// composition of team-summary from base report rows, the metrics a trend follows, its parameters.
import { describe, expect, it } from 'vitest'
import {
  FIRST_TREND_DAY,
  LAST_TREND_DAY,
  MAX_TREND_WEEKS,
  parseParams,
  TREND_MANAGER_METRICS,
  TREND_METRICS,
  TREND_REP_METRICS,
  TrendParams,
} from '../../schemas/report-params.schema.ts'
import { dayIn, lastFullWeeks, weekOf, weeksBetween, widenToWeeks } from '../../services/projections/days.ts'
import {
  buildTeamSummary,
  REPORT_COLUMNS,
  type BaseReports,
  type ReportRow,
} from '../../services/reports/report-definitions.ts'
import { trendColumns, trendRange, trendSource } from '../../services/reports/summary-reports.ts'

describe('ISO weeks of days', () => {
  it('finds the Monday of a day, across months, years and a leap day', () => {
    // 2026-03-02 is a Monday, 2026-03-08 a Sunday.
    expect(weekOf('2026-03-02')).toBe('2026-03-02')
    expect(weekOf('2026-03-05')).toBe('2026-03-02')
    expect(weekOf('2026-03-08')).toBe('2026-03-02')
    expect(weekOf('2026-03-09')).toBe('2026-03-09')
    expect(weekOf('2026-03-01')).toBe('2026-02-23')
    // 2027-01-01 is a Friday: its week began in 2026. 2028-03-01 is a Wednesday after 02-29.
    expect(weekOf('2027-01-01')).toBe('2026-12-28')
    expect(weekOf('2028-03-01')).toBe('2028-02-28')
  })

  it('widens a range to whole weeks, and leaves whole weeks alone', () => {
    expect(widenToWeeks({ from: '2026-03-04', to: '2026-03-18' })).toEqual({ from: '2026-03-02', to: '2026-03-22' })
    expect(widenToWeeks({ from: '2026-03-02', to: '2026-03-08' })).toEqual({ from: '2026-03-02', to: '2026-03-08' })
    expect(widenToWeeks({ from: '2026-03-08', to: '2026-03-09' })).toEqual({ from: '2026-03-02', to: '2026-03-15' })
  })

  it('lists the Mondays of the weeks a range touches, oldest first', () => {
    expect(weeksBetween('2026-03-04', '2026-03-16')).toEqual(['2026-03-02', '2026-03-09', '2026-03-16'])
    expect(weeksBetween('2026-03-08', '2026-03-08')).toEqual(['2026-03-02'])
    expect(weeksBetween('2026-03-09', '2026-03-08')).toEqual([])
  })

  it('takes the last full weeks before the current one; on a Sunday the current week is not full', () => {
    expect(lastFullWeeks(3, '2026-03-25')).toEqual({ from: '2026-03-02', to: '2026-03-22' })
    expect(lastFullWeeks(1, '2026-03-23')).toEqual({ from: '2026-03-16', to: '2026-03-22' })
    expect(lastFullWeeks(1, '2026-03-22')).toEqual({ from: '2026-03-09', to: '2026-03-15' })
  })

  it('reads the calendar day of an instant in a timezone', () => {
    const instant = new Date('2026-03-08T23:30:00Z')
    expect(dayIn(instant, 'UTC')).toBe('2026-03-08')
    expect(dayIn(instant, 'Asia/Tokyo')).toBe('2026-03-09')
    expect(dayIn(new Date('2026-03-09T06:30:00Z'), 'America/Los_Angeles')).toBe('2026-03-08')
  })
})

// ---------------------------------------------------------------------------------------------

const manager = (manager_id: string, more: Record<string, unknown> = {}) => ({ manager_id, ...more })
const AUTONOMY = { intervention_rate: 0.25, team_wins: 7, rep_led_win_share: 0.5 }
const DIRECTION = { team_size: 2, quota_coverage: 1, goal_coverage: 0.5 }
const CARE = {
  reply_within_24h_share: 0.75,
  median_reply_minutes: 42.5,
  unanswered: 3,
  one_on_one_coverage: 0,
  recognitions: 4,
}
const rep = (rep_id: string, manager_id: string | null, v: number[]): ReportRow => {
  const [created = 0, qualified = 0, wins = 0, losses = 0, activities = 0, multi = 0, worked = 0] = v
  return {
    rep_id,
    manager_id,
    opportunities_created: created,
    opportunities_qualified: qualified,
    wins,
    losses,
    activities,
    multithreaded_deals: multi,
    deals_worked: worked,
  }
}

function baseReports(reps: ReportRow[]): BaseReports {
  return {
    'manager-autonomy': [manager('m1', AUTONOMY), manager('m2', AUTONOMY)],
    'manager-direction': [manager('m1', DIRECTION), manager('m2', DIRECTION)],
    'manager-care': [manager('m1', CARE), manager('m2', CARE)],
    'rep-volume': reps,
  }
}

describe('buildTeamSummary', () => {
  it("copies each manager's columns and sums the rep-volume rows of its team", () => {
    const rows = buildTeamSummary(
      baseReports([
        // created, qualified, wins, losses, activities, multithreaded, worked
        rep('r1', 'm1', [2, 1, 1, 3, 10, 1, 4]),
        rep('r2', 'm1', [1, 1, 2, 0, 5, 2, 2]),
        rep('r3', 'x1', [9, 9, 9, 9, 9, 9, 9]), // no manager row: in no team
        rep('r4', null, [9, 9, 9, 9, 9, 9, 9]),
        rep('r5', 'm2', [0, 0, 0, 0, 0, 0, 0]),
      ]),
    )
    expect(rows).toEqual([
      {
        manager_id: 'm1',
        team_size: 2,
        intervention_rate: 0.25,
        rep_led_win_share: 0.5,
        quota_coverage: 1,
        goal_coverage: 0.5,
        reply_within_24h_share: 0.75,
        median_reply_minutes: 42.5,
        unanswered: 3,
        one_on_one_coverage: 0,
        recognitions: 4,
        team_opportunities_created: 3,
        team_opportunities_qualified: 2,
        // Σ wins of the reps (3), not manager-autonomy's team_wins (7).
        team_wins: 3,
        team_losses: 3,
        team_win_rate: 0.5,
        team_activities: 15,
        team_multithreaded_share: 3 / 6,
      },
      {
        ...manager('m2', { ...DIRECTION, ...AUTONOMY, ...CARE }),
        team_opportunities_created: 0,
        team_opportunities_qualified: 0,
        team_wins: 0,
        team_losses: 0,
        team_win_rate: null,
        team_activities: 0,
        team_multithreaded_share: null,
      },
    ])
    for (const row of rows) expect(Object.keys(row)).toEqual(REPORT_COLUMNS['team-summary'])
  })

  it('refuses manager reports that do not have the same managers', () => {
    const reports = baseReports([])
    expect(() => buildTeamSummary({ ...reports, 'manager-care': [manager('m1', CARE)] })).toThrow(/m2/)
  })
})

// ---------------------------------------------------------------------------------------------

describe('trend metrics', () => {
  const metricColumns = (name: keyof typeof REPORT_COLUMNS) =>
    REPORT_COLUMNS[name].filter((c) => c !== 'manager_id' && c !== 'rep_id')

  it('are every metric column of the base reports, then the team columns only team-summary has', () => {
    const managerColumns = [
      ...metricColumns('manager-autonomy'),
      ...metricColumns('manager-direction'),
      ...metricColumns('manager-care'),
    ]
    const teamOnly = metricColumns('team-summary').filter((c) => !managerColumns.includes(c))
    expect([...TREND_MANAGER_METRICS]).toEqual([...managerColumns, ...teamOnly])
    expect([...TREND_REP_METRICS]).toEqual(metricColumns('rep-volume'))
    expect(new Set(TREND_METRICS).size).toBe(TREND_METRICS.length)
  })

  it('are read from the first report that has them', () => {
    expect(trendSource('team_wins')).toEqual({ report: 'manager-autonomy', id: 'manager_id' })
    expect(trendSource('team_size')).toEqual({ report: 'manager-direction', id: 'manager_id' })
    expect(trendSource('median_reply_minutes')).toEqual({ report: 'manager-care', id: 'manager_id' })
    expect(trendSource('team_losses')).toEqual({ report: 'team-summary', id: 'manager_id' })
    expect(trendSource('wins')).toEqual({ report: 'rep-volume', id: 'rep_id' })
    for (const metric of TREND_METRICS) expect(REPORT_COLUMNS[trendSource(metric).report]).toContain(metric)
    expect(trendColumns('wins')).toEqual(['week', 'wins'])
  })
})

describe('TrendParams', () => {
  const ok = { org: 'acme', metric: 'intervention_rate', manager: 'm1', from: '2026-03-04', to: '2026-03-18' }
  const issues = (input: unknown) => {
    const result = parseParams(TrendParams, input)
    return result.ok ? [] : result.issues.map(({ parameter, rule }) => ({ parameter, rule }))
  }

  it('accepts a manager metric for a manager, a rep metric for a rep, a range or a number of weeks', () => {
    expect(parseParams(TrendParams, ok)).toEqual({ ok: true, value: ok })
    expect(parseParams(TrendParams, { org: 'acme', metric: 'won_amount', rep: 'r1', weeks: '12' })).toEqual({
      ok: true,
      value: { org: 'acme', metric: 'won_amount', rep: 'r1', weeks: 12 },
    })
    expect(issues({ ...ok, metric: 'team_multithreaded_share' })).toEqual([])
  })

  it('refuses a metric that is not in the list, naming metric and the list', () => {
    const [issue] = issues({ ...ok, metric: 'manager_id' })
    expect(issue?.parameter).toBe('metric')
    expect(issue?.rule).toMatch(/^must be one of deals_active, .*, multithreaded_share$/)
  })

  it('wants exactly one of manager and rep, of the kind of the metric', () => {
    expect(issues({ ...ok, rep: 'r1' })).toEqual([
      { parameter: 'rep', rule: 'must not be given with manager: a trend follows one manager or one rep' },
    ])
    const { manager: _m, ...nobody } = ok
    expect(issues(nobody)).toEqual([
      { parameter: 'manager', rule: 'is required for the manager metric intervention_rate' },
    ])
    expect(issues({ ...nobody, metric: 'wins' })).toEqual([
      { parameter: 'rep', rule: 'is required for the rep metric wins' },
    ])
    // The checks across fields wait for valid fields: an unknown metric is the one issue.
    expect(issues({ ...nobody, metric: 'nope', rep: 'r1' }).map((i) => i.parameter)).toEqual(['metric'])
    expect(issues({ ...ok, metric: 'wins' })).toEqual([
      { parameter: 'metric', rule: 'must be a manager metric when manager is given' },
    ])
    expect(issues({ ...nobody, rep: 'r1' })).toEqual([
      { parameter: 'metric', rule: 'must be a rep metric when rep is given' },
    ])
  })

  it('wants either from and to or weeks', () => {
    expect(issues({ ...ok, weeks: 4 })).toEqual([{ parameter: 'weeks', rule: 'must not be given with from and to' }])
    const { from: _f, to: _t, ...noRange } = ok
    expect(issues(noRange)).toEqual([{ parameter: 'weeks', rule: 'is required unless from and to are given' }])
    expect(issues({ ...noRange, from: ok.from })).toEqual([{ parameter: 'to', rule: 'is required with from' }])
    expect(issues({ ...noRange, to: ok.to })).toEqual([{ parameter: 'from', rule: 'is required with to' }])
    expect(issues({ ...ok, from: ok.to, to: ok.from })).toEqual([{ parameter: 'from', rule: 'must not be after to' }])
    for (const weeks of [0, 105, 2.5, 'abc', -1]) {
      expect(issues({ ...noRange, weeks })).toEqual([
        { parameter: 'weeks', rule: `must be a whole number of weeks from 1 to ${MAX_TREND_WEEKS}` },
      ])
    }
    expect(issues({ ...noRange, weeks: MAX_TREND_WEEKS })).toEqual([])
  })

  it('refuses more than MAX_TREND_WEEKS weeks once widened, and weeks ClickHouse cannot hold', () => {
    // 2026-03-04 (Wed) .. 2028-02-27 (Sun): widened from 2026-03-02, 104 weeks; a day more is 105.
    expect(issues({ ...ok, to: '2028-02-27' })).toEqual([])
    expect(issues({ ...ok, to: '2028-02-28' })).toEqual([
      { parameter: 'to', rule: `a trend covers at most ${MAX_TREND_WEEKS} weeks` },
    ])
    expect(issues({ ...ok, from: '1970-01-04', to: '1970-01-10' })).toEqual([
      { parameter: 'from', rule: `must be in a whole week on or after ${FIRST_TREND_DAY}` },
    ])
    expect(issues({ ...ok, from: '2149-05-30', to: '2149-06-02' })).toEqual([
      { parameter: 'to', rule: `must be in a whole week on or before ${LAST_TREND_DAY}` },
    ])
  })

  it('is strict: a misspelt parameter is refused', () => {
    expect(issues({ ...ok, manger: 'm1' })).toEqual([{ parameter: 'manger', rule: 'is not a parameter' }])
  })
})

describe('trendRange', () => {
  it('widens from..to to whole weeks, or takes the last full weeks before today', () => {
    const base = { org: 'acme', metric: 'wins', rep: 'r1' } as const
    expect(trendRange({ ...base, from: '2026-03-04', to: '2026-03-18' }, '2030-01-01')).toEqual({
      from: '2026-03-02',
      to: '2026-03-22',
    })
    expect(trendRange({ ...base, weeks: 3 }, '2026-03-25')).toEqual({ from: '2026-03-02', to: '2026-03-22' })
  })
})
