// The Grafana dashboard (infra/grafana/dashboards/dugout.json) reads only the BI views: every
// variable and panel query runs on the embedded engine against a generated org, with the
// variables substituted as Grafana and the ClickHouse data source plugin would, and returns rows
// with the columns its panel shows.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROJECT_ROOT } from '../../schemas/config.schema.ts'
import { migrate } from '../../services/clickhouse/migrations.ts'
import { generateOrg } from '../../services/demo/org-generator.ts'
import { createProjectionActivities } from '../../services/projections/projection-activities.ts'
import { BI_VIEWS } from '../../services/reports/bi-access.ts'
import { testClickHouse } from '../support/env.ts'
import { insertRawEvents } from '../support/event-store-fixtures.ts'

interface Target {
  rawSql: string
  datasource: { type: string; uid: string }
}
interface Dashboard {
  panels: { id: number; title: string; targets: Target[]; datasource: { type: string } }[]
  templating: { list: { name: string; type: string; query: string }[] }
}
const dashboard = JSON.parse(
  fs.readFileSync(path.join(PROJECT_ROOT, 'infra/grafana/dashboards/dugout.json'), 'utf8'),
) as Dashboard

const ch = testClickHouse('grafana')
const ORG = 'grafana-org'
const RANGE = { from: '2026-03-02', to: '2026-04-26' }

/** The columns each panel shows, by panel id. */
const EXPECTED_COLUMNS: Record<number, string[]> = {
  1: ['time', 'intervention_rate', 'rep_led_win_share'],
  2: ['time', 'takeovers', 'team_wins', 'rep_closed_wins'],
  3: ['time', 'quota_coverage', 'goal_coverage'],
  4: ['time', 'reply_within_24h_share', 'one_on_one_coverage'],
  5: ['time', 'median_reply_minutes', 'p90_reply_minutes', 'unanswered'],
  6: ['time', 'rep', 'activities'],
  7: ['time', 'rep', 'opportunities_created', 'opportunities_qualified'],
  8: ['time', 'rep', 'win_rate', 'multithreaded_share'],
  9: [
    'period_start',
    'period_end',
    'rep',
    'opportunities_created',
    'opportunities_qualified',
    'wins',
    'losses',
    'win_rate',
    'pipeline_created',
    'won',
    'activities',
    'calls',
    'emails',
    'meetings',
    'accounts_engaged',
    'contacts_per_account',
    'deals_worked',
    'multithreaded_share',
  ],
}

type Variables = Record<string, string | string[]>

/**
 * Grafana's variable interpolation (`$name`, `${name}`, `${name:singlequote}`) and the plugin's
 * `$__dateFilter(column)`, which it documents as `column >= toDate('from') AND column <= toDate('to')`.
 */
function substitute(sql: string, vars: Variables): string {
  const out = sql
    .replace(
      /\$__dateFilter\((\w+)\)/g,
      (_, c: string) => `${c} >= toDate('${RANGE.from}') AND ${c} <= toDate('${RANGE.to}')`,
    )
    .replace(/\$\{(\w+)(?::(\w+))?\}|\$(\w+)/g, (whole, braced?: string, format?: string, bare?: string) => {
      const name = braced ?? bare!
      const value = vars[name]
      if (value === undefined) throw new Error(`no value for ${whole} in ${sql}`)
      const values = Array.isArray(value) ? value : [value]
      if (format === 'singlequote') return values.map((v) => `'${v.replace(/'/g, "\\'")}'`).join(',')
      if (format !== undefined) throw new Error(`format ${format} not substituted by this test`)
      return values.join(',')
    })
  expect(out, 'every variable substituted').not.toMatch(/\$/)
  return out
}

async function run(sql: string): Promise<{ columns: string[]; rows: Record<string, unknown>[] }> {
  const result = await ch.client.query({ query: sql, format: 'JSON' })
  const json = await result.json<Record<string, unknown>>()
  return { columns: (json.meta ?? []).map((m) => m.name), rows: json.data }
}

const variable = (name: string) => dashboard.templating.list.find((v) => v.name === name)!
let vars: Variables = {}

beforeAll(async () => {
  await migrate(ch)
  await insertRawEvents(ch, [
    ...generateOrg({ org: ORG, managers: 3, repsPerManager: 3, weeks: 8, seed: 4, start: RANGE.from }),
  ])
  const activities = createProjectionActivities({ ch })
  await activities.recomputeDays({ org: ORG, days: await activities.listEventDays({ org: ORG }) })
  // The variables in dependency order, each from its own query, as Grafana resolves them.
  vars = { database: ch.database, period: 'weekly' }
  const orgs = (await run(substitute(variable('org').query, vars))).rows.map((r) => String(r['org_id']))
  expect(orgs).toEqual([ORG])
  vars['org'] = ORG
  const managers = (await run(substitute(variable('manager').query, vars))).rows
  expect(managers.length).toBe(3)
  vars['manager'] = String(managers[0]!['__value'])
  const reps = (await run(substitute(variable('rep').query, vars))).rows
  expect(reps.length).toBeGreaterThan(0)
  vars['rep'] = reps.map((r) => String(r['__value']))
}, 120_000)
afterAll(() => ch.close())

describe('the Grafana dashboard', () => {
  const queries = [
    ...dashboard.templating.list.filter((v) => v.type === 'query').map((v) => v.query),
    ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.rawSql)),
  ]

  it('reads only the BI views, through the provisioned ClickHouse data source', () => {
    for (const sql of queries) {
      const tables = [...sql.matchAll(/\b(?:FROM|JOIN)\s+([^\s(]+)/gi)].map((m) => m[1]!)
      expect(tables.length, sql).toBeGreaterThan(0)
      for (const table of tables) {
        const view = substitute(table, { database: 'db', period: 'weekly' }).replace(/^db\./, '')
        expect(BI_VIEWS, sql).toContain(view)
      }
    }
    for (const panel of dashboard.panels) {
      expect(panel.datasource.type).toBe('grafana-clickhouse-datasource')
      for (const target of panel.targets) expect(target.datasource.uid).toBe('dugout-clickhouse')
    }
    expect(Object.keys(EXPECTED_COLUMNS).map(Number).sort()).toEqual(dashboard.panels.map((p) => p.id).sort())
  })

  for (const period of ['weekly', 'monthly']) {
    it(`runs every panel query over ${period} rows, with the columns the panel shows`, async () => {
      for (const panel of dashboard.panels) {
        for (const target of panel.targets) {
          const { columns, rows } = await run(substitute(target.rawSql, { ...vars, period }))
          expect(columns, panel.title).toEqual(EXPECTED_COLUMNS[panel.id])
          expect(rows.length, panel.title).toBeGreaterThan(0)
        }
      }
    })
  }
})
