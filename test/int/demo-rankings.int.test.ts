// The demo generator's styles are the ground truth (services/demo/README.md): over the default
// org, the reports must rank the managers and reps the way the styles say.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../../services/clickhouse/migrations.ts'
import { generateOrg } from '../../services/demo/org-generator.ts'
import { toEventRow } from '../../services/ingest/event-rows.ts'
import { createProjectionActivities } from '../../services/projections/projection-activities.ts'
import { runReport, type ReportRow } from '../../services/reports/report-queries.ts'
import { testClickHouse } from '../support/env.ts'

const ch = testClickHouse('rankings')
const org = 'styles'
const range = { org, from: '2026-08-03', to: '2026-10-25' }
const reports: Record<string, ReportRow[]> = {}

beforeAll(async () => {
  await migrate(ch)
  const seen = new Set<string>()
  let rows: ReturnType<typeof toEventRow>[] = []
  const flush = async () => {
    await ch.client.insert({ table: `${ch.database}.events`, values: rows, format: 'JSONEachRow' })
    rows = []
  }
  for (const event of generateOrg({ org, managers: 4, repsPerManager: 6, weeks: 12, seed: 42, start: range.from })) {
    if (seen.has(event.event_id)) continue
    seen.add(event.event_id)
    rows.push(toEventRow(event))
    if (rows.length === 20_000) await flush()
  }
  await flush()
  const projections = createProjectionActivities({ ch })
  const days = await projections.listEventDays({ org })
  for (let i = 0; i < days.length; i += 31) await projections.recomputeDays({ org, days: days.slice(i, i + 31) })
  for (const name of ['manager-autonomy', 'manager-direction', 'manager-care', 'rep-volume'] as const) {
    reports[name] = await runReport(ch, name, range)
  }
}, 600_000)
afterAll(() => ch.close())

const value = (rows: ReportRow[], id: string, key: string, idKey = 'manager_id') =>
  rows.find((r) => r[idKey] === id)?.[key] as number
const order = (rows: ReportRow[], key: string, idKey = 'manager_id') =>
  [...rows].sort((a, b) => (b[key] as number) - (a[key] as number)).map((r) => r[idKey])

// mgr-1 micromanager, mgr-2 absent, mgr-3 coach, mgr-4 balanced (styleOfManager).
describe('the demo styles, as the reports tell them', () => {
  it('ranks intervention rate micromanager > balanced > absent > coach', () => {
    expect(order(reports['manager-autonomy']!, 'intervention_rate')).toEqual(['mgr-1', 'mgr-4', 'mgr-2', 'mgr-3'])
  })

  it('gives the micromanager the most takeovers and the lowest rep-led win share', () => {
    const autonomy = reports['manager-autonomy']!
    expect(order(autonomy, 'takeovers')[0]).toBe('mgr-1')
    expect(order(autonomy, 'rep_led_win_share').at(-1)).toBe('mgr-1')
  })

  it('shows the absent manager slowest to reply, least within 24 h, fewest one-on-ones', () => {
    const care = reports['manager-care']!
    expect(order(care, 'median_reply_minutes')[0]).toBe('mgr-2')
    expect(order(care, 'reply_within_24h_share').at(-1)).toBe('mgr-2')
    expect(order(care, 'one_on_one_coverage').at(-1)).toBe('mgr-2')
    expect(value(care, 'mgr-2', 'unanswered')).toBeGreaterThan(value(care, 'mgr-3', 'unanswered'))
  })

  it('shows the absent manager giving the least direction', () => {
    const direction = reports['manager-direction']!
    expect(order(direction, 'quota_coverage').at(-1)).toBe('mgr-2')
    expect(order(direction, 'goal_coverage').at(-1)).toBe('mgr-2')
  })

  it('shows the coach with full one-on-one coverage and the most recognitions', () => {
    const care = reports['manager-care']!
    expect(order(care, 'one_on_one_coverage')[0]).toBe('mgr-3')
    expect(value(care, 'mgr-3', 'one_on_one_coverage')).toBe(1)
    expect(order(care, 'recognitions')[0]).toBe('mgr-3')
  })

  it('ranks the hunters first on new deals and the farmers first on multi-threading', () => {
    const volume = reports['rep-volume']!
    const hunters = ['rep-1', 'rep-7', 'rep-13', 'rep-19']
    const farmers = ['rep-2', 'rep-8', 'rep-14', 'rep-20']
    expect(order(volume, 'opportunities_created', 'rep_id').slice(0, 4).sort()).toEqual([...hunters].sort())
    expect(order(volume, 'multithreaded_share', 'rep_id').slice(0, 4).sort()).toEqual([...farmers].sort())
  })
})
