import { describe, expect, it } from 'vitest'
import {
  buildManagerReport,
  buildRepReport,
  pickColumns,
  ratio,
  REPORT_COLUMNS,
  REPORT_NAMES,
  type ManagerParts,
  type RepParts,
} from '../../services/reports/report-definitions.ts'
import {
  factCtes,
  MATERIALIZED_CTES,
  materializeCte,
  materializedTableParam,
} from '../../services/projections/metric-facts.ts'
import { sql, type SqlFragment } from '../../services/clickhouse/sql.ts'

const manager: ManagerParts = {
  manager_id: 'm1',
  deals_active: 4,
  deals_intervened: 1,
  takeovers: 0,
  team_wins: 0,
  rep_closed_wins: 0,
  team_size: 3,
  reps_with_quota: 3,
  goals_set: 2,
  reps_with_goals: 0,
  rep_messages: 2,
  replied_within_24h: 1,
  unanswered: 2,
  reply_quantiles: [0, 0],
  one_on_ones: 1,
  reps_with_one_on_one: 1,
  lunches: 0,
  recognitions: 5,
}

const rep: RepParts = {
  rep_id: 'r1',
  manager_id: '',
  opportunities_created: 1,
  pipeline_created_amount: { USD: 5, EUR: 1.5 },
  opportunities_qualified: 0,
  wins: 1,
  losses: 3,
  won_amount: {},
  activities: 0,
  calls: 0,
  emails: 0,
  meetings: 0,
  accounts_engaged: 0,
  contacts_engaged: 0,
  deals_worked: 2,
  multithreaded_deals: 1,
}

describe('report columns', () => {
  it('lists docs/metrics.md columns, ids first', () => {
    expect(REPORT_NAMES.map((n) => REPORT_COLUMNS[n][0])).toEqual([
      'manager_id',
      'manager_id',
      'manager_id',
      'rep_id',
      'manager_id',
    ])
    expect(REPORT_COLUMNS['rep-volume'][1]).toBe('manager_id')
    expect(REPORT_COLUMNS['manager-care']).toHaveLength(12)
    for (const name of REPORT_NAMES) expect(new Set(REPORT_COLUMNS[name]).size).toBe(REPORT_COLUMNS[name].length)
  })

  it('keeps exactly the columns, in order', () => {
    expect(
      Object.keys(
        pickColumns('manager-direction', {
          goal_coverage: 1,
          zzz: 2,
          manager_id: 'm',
          team_size: 0,
          reps_with_quota: 0,
          quota_coverage: null,
          goals_set: 0,
          reps_with_goals: 0,
        }),
      ),
    ).toEqual(REPORT_COLUMNS['manager-direction'])
    expect(() => pickColumns('manager-direction', { manager_id: 'm' })).toThrow(/team_size/)
  })
})

describe('report rows', () => {
  it('takes ratios from summed parts, null on a zero denominator', () => {
    expect(ratio(1, 3)).toBe(1 / 3)
    expect(ratio(0, 0)).toBeNull()
    const [autonomy] = buildManagerReport('manager-autonomy', [manager])
    expect(autonomy).toEqual({
      manager_id: 'm1',
      deals_active: 4,
      deals_intervened: 1,
      intervention_rate: 0.25,
      takeovers: 0,
      team_wins: 0,
      rep_closed_wins: 0,
      rep_led_win_share: null,
    })
  })

  it('has no reply quantiles when nothing was replied', () => {
    const [care] = buildManagerReport('manager-care', [manager])
    expect(care).toMatchObject({
      reply_within_24h_share: 0.5,
      median_reply_minutes: null,
      p90_reply_minutes: null,
      one_on_one_coverage: 1 / 3,
    })
    const [replied] = buildManagerReport('manager-care', [{ ...manager, unanswered: 1, reply_quantiles: [12.5, 40] }])
    expect(replied).toMatchObject({ median_reply_minutes: 12.5, p90_reply_minutes: 40 })
  })

  it('builds rep rows: null manager, sorted currencies, numbers from quoted 64-bit integers', () => {
    const [row] = buildRepReport([{ ...rep, wins: '1' as unknown as number }])
    expect(row).toMatchObject({
      manager_id: null,
      win_rate: 0.25,
      contacts_per_account: null,
      multithreaded_share: 0.5,
      wins: 1,
    })
    expect(Object.keys(row?.pipeline_created_amount as object)).toEqual(['EUR', 'USD'])
    expect(Object.keys(row ?? {})).toEqual(REPORT_COLUMNS['rep-volume'])
  })
})

describe('sql tag', () => {
  it('joins fragments and refuses values', () => {
    const inner = sql`x = {x:String}`
    expect(sql`SELECT 1 WHERE ${inner}`.text).toBe('SELECT 1 WHERE x = {x:String}')
    expect(() => sql`SELECT ${'1; DROP TABLE t' as unknown as SqlFragment}`).toThrow(TypeError)
  })
})

describe('fact CTEs', () => {
  it('reads materialized CTEs from their Memory tables, in dependency order', () => {
    const all = factCtes().text
    const some = factCtes(['w', 'uv']).text
    expect(all).toMatch(/^w AS \(\s+SELECT event_id/)
    expect(some).toMatch(/^w AS \(SELECT \* FROM \{db:Identifier\}\.\{tmp_w:Identifier\}\)/)
    expect(some).toContain('uv AS (SELECT * FROM {db:Identifier}.{tmp_uv:Identifier})')
    expect(some).toContain('dt AS (\n')
    expect(MATERIALIZED_CTES.map(materializedTableParam)).toEqual(['tmp_w', 'tmp_uv', 'tmp_oa', 'tmp_dt'])
    // dt is built from the tables of w, uv and oa, never from itself.
    const dt = materializeCte('dt').text
    expect(dt).toContain('{tmp_dt:Identifier} ENGINE = Memory AS')
    expect(dt).toContain('oa AS (SELECT * FROM {db:Identifier}.{tmp_oa:Identifier})')
    expect(dt).not.toContain('dt AS (SELECT * FROM')
  })
})
