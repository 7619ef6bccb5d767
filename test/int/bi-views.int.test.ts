// The BI views of migration 0004 are a public interface (docs/bi.md): every row equals the
// report over the same period, every column is commented, and a reader filtering on one org sees
// nothing of another. chDB enforces no row policy: what is checked here is that every view has
// org_id and that a query filtered by org A returns only A (the policy SQL itself is parsed in
// test/int/bi-access.int.test.ts). The other org is generated with the same user and deal ids, so
// a join that mixed orgs would also break the equality with org A's reports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../../services/clickhouse/migrations.ts'
import { generateOrg } from '../../services/demo/org-generator.ts'
import { addDays } from '../../services/projections/days.ts'
import { setOrgSettings } from '../../services/projections/org-settings.ts'
import { createProjectionActivities } from '../../services/projections/projection-activities.ts'
import { BI_VIEWS } from '../../services/reports/bi-access.ts'
import { displayNames } from '../../services/reports/display-names.ts'
import { REPORT_COLUMNS, type ReportRow } from '../../services/reports/report-definitions.ts'
import { runReport } from '../../services/reports/report-queries.ts'
import { testClickHouse } from '../support/env.ts'
import { insertRawEvents } from '../support/event-store-fixtures.ts'

const ch = testClickHouse('bi')
const ORG = 'bi-a'
const OTHER = 'bi-b'
const START = '2026-03-02'
const WEEKS = 9
const TZ = 'America/New_York'
const activities = createProjectionActivities({ ch })

async function rows(query: string, params: Record<string, unknown> = {}): Promise<ReportRow[]> {
  const result = await ch.client.query({ query, query_params: { db: ch.database, ...params }, format: 'JSONEachRow' })
  return result.json<ReportRow>()
}

const viewRows = (view: string, org: string, from: string) =>
  rows(
    `SELECT * FROM {db:Identifier}.${view} WHERE org_id = {org:String} AND period_start = {from:Date}
     ORDER BY ${view.startsWith('bi_rep') ? 'rep_id' : 'manager_id'}`,
    { org, from },
  )

/** A view row with the columns of `report`, numbers as the report's (Decimal amounts as numbers). */
function asReportRow(row: ReportRow, columns: readonly string[]): ReportRow {
  const out: ReportRow = {}
  for (const column of columns) {
    const value = row[column]
    out[column] =
      value !== null && typeof value === 'object'
        ? Object.fromEntries(
            Object.entries(value as Record<string, unknown>)
              .sort()
              .map(([k, v]) => [k, Number(v)]),
          )
        : value
  }
  return out
}

/** The view rows over one period equal the base reports over it, names included. */
async function expectPeriodEqualsReports(grain: 'weekly' | 'monthly', from: string, to: string) {
  const range = { org: ORG, from, to }
  const names = await displayNames(ch, { org: ORG, to, tz: TZ })
  const managers = await viewRows(`bi_manager_${grain}`, ORG, from)
  expect(managers.length).toBeGreaterThan(0)
  for (const report of ['manager-autonomy', 'manager-direction', 'manager-care'] as const) {
    expect(
      managers.map((r) => asReportRow(r, REPORT_COLUMNS[report])),
      `${report} ${from}`,
    ).toEqual(await runReport(ch, report, range))
  }
  expect(managers.every((r) => r['period_end'] === to)).toBe(true)
  expect(managers.map((r) => r['manager_name'])).toEqual(
    managers.map((r) => names.get(r['manager_id'] as string) ?? null),
  )
  const reps = await viewRows(`bi_rep_${grain}`, ORG, from)
  expect(
    reps.map((r) => asReportRow(r, REPORT_COLUMNS['rep-volume'])),
    `rep-volume ${from}`,
  ).toEqual(await runReport(ch, 'rep-volume', range))
  expect(reps.map((r) => [r['rep_name'], r['manager_name']])).toEqual(
    reps.map((r) => [names.get(r['rep_id'] as string) ?? null, names.get(r['manager_id'] as string) ?? null]),
  )
  // Not all zeros: the comparison compared something.
  expect(reps.some((r) => (r['activities'] as number) > 0)).toBe(true)
}

beforeAll(async () => {
  await migrate(ch)
  await setOrgSettings(ch, ORG, { timezone: TZ })
  for (const [org, seed] of [
    [ORG, 12],
    [OTHER, 13],
  ] as const) {
    await insertRawEvents(ch, [
      ...generateOrg({ org, managers: 3, repsPerManager: 4, weeks: WEEKS, seed, start: START }),
    ])
    await activities.recomputeDays({ org, days: await activities.listEventDays({ org }) })
  }
}, 120_000)
afterAll(() => ch.close())

describe('the BI views', () => {
  // Seeded choice of weeks (a small LCG): different weeks than a fixed list would pick, same each run.
  const weeks: string[] = []
  for (let x = 7, i = 0; weeks.length < 3 && i < 100; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31
    const monday = addDays(START, 7 * (x % WEEKS))
    if (!weeks.includes(monday)) weeks.push(monday)
  }

  it.each(weeks)('equal the reports over the week of %s', async (monday) => {
    await expectPeriodEqualsReports('weekly', monday, addDays(monday, 6))
  })

  it('equal the reports over a calendar month', async () => {
    await expectPeriodEqualsReports('monthly', '2026-04-01', '2026-04-30')
  })

  it('list every week and month from the first to the last day, once per person', async () => {
    const [weekly] = await rows(
      `SELECT uniqExact(period_start) AS periods, count() AS n, uniqExact(period_start, manager_id) AS keys,
              countIf(toDayOfWeek(period_start) != 1 OR period_end != period_start + 6) AS bad
       FROM {db:Identifier}.bi_manager_weekly WHERE org_id = {org:String}`,
      { org: ORG },
    )
    expect(weekly!['n']).toBe(weekly!['keys'])
    expect(weekly!['bad']).toBe(0)
    expect(weekly!['periods']).toBeGreaterThanOrEqual(WEEKS)
    const months = await rows(
      `SELECT DISTINCT period_start, period_end FROM {db:Identifier}.bi_rep_monthly WHERE org_id = {org:String} ORDER BY period_start`,
      { org: ORG },
    )
    expect(months[0]).toEqual({ period_start: '2026-03-01', period_end: '2026-03-31' })
  })

  it('comment every column, and every view has org_id', async () => {
    const columns = await rows(
      `SELECT table, name, comment FROM system.columns
       WHERE database = {db:String} AND table IN {views:Array(String)} ORDER BY table, position`,
      { db: ch.database, views: BI_VIEWS },
    )
    expect([...new Set(columns.map((c) => c['table']))].sort()).toEqual([...BI_VIEWS].sort())
    expect(columns.filter((c) => c['comment'] === '')).toEqual([])
    for (const view of BI_VIEWS)
      expect(columns).toContainEqual(expect.objectContaining({ table: view, name: 'org_id' }))
    const managerMetrics = new Set(
      ['manager-autonomy', 'manager-direction', 'manager-care'].flatMap((r) => REPORT_COLUMNS[r as 'manager-care']),
    )
    const managerColumns = columns.filter((c) => c['table'] === 'bi_manager_weekly').map((c) => c['name'])
    expect([...managerMetrics].filter((m) => !managerColumns.includes(m))).toEqual([])
    const repColumns = columns.filter((c) => c['table'] === 'bi_rep_monthly').map((c) => c['name'])
    expect(REPORT_COLUMNS['rep-volume'].filter((m) => !repColumns.includes(m))).toEqual([])
  })

  it('filtered by one org, show nothing of another', async () => {
    for (const view of BI_VIEWS) {
      const seen = await rows(`SELECT DISTINCT org_id FROM {db:Identifier}.${view} WHERE org_id = {org:String}`, {
        org: ORG,
      })
      expect(seen, view).toEqual([{ org_id: ORG }])
      const [other] = await rows(`SELECT count() AS n FROM {db:Identifier}.${view} WHERE org_id = {org:String}`, {
        org: OTHER,
      })
      expect(other!['n'], `${view} holds the other org`).toBeGreaterThan(0)
    }
  })
})
