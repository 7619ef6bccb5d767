// Reports people can read, on a generated org in the real engine: CSV parsed back equals JSON,
// names stand beside ids (and only when asked in JSON), and the default table fits a 100-column
// terminal for every report while --wide shows every column.
import { parse } from 'csv-parse/sync'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../../services/clickhouse/migrations.ts'
import { generateOrg } from '../../services/demo/org-generator.ts'
import { createProjectionActivities } from '../../services/projections/projection-activities.ts'
import { displayNames, withNames } from '../../services/reports/display-names.ts'
import { formatReport } from '../../services/reports/report-format.ts'
import { REPORT_COLUMNS, REPORT_NAMES, runReport, type ReportRow } from '../../services/reports/report-queries.ts'
import { testClickHouse } from '../support/env.ts'
import { insertRawEvents } from '../support/event-store-fixtures.ts'

const ch = testClickHouse('formats')
const ORG = 'formats'
const RANGE = { org: ORG, from: '2026-03-02', to: '2026-03-29' }

beforeAll(async () => {
  await migrate(ch)
  await insertRawEvents(ch, [
    ...generateOrg({ org: ORG, managers: 5, repsPerManager: 6, weeks: 4, seed: 3, start: RANGE.from }),
  ])
  const activities = createProjectionActivities({ ch })
  await activities.recomputeDays({ org: ORG, days: await activities.listEventDays({ org: ORG }) })
})
afterAll(() => ch.close())

/** A CSV cell back as the JSON value: empty is null, numbers are numbers, maps are JSON. */
function fromCsv(text: string): unknown {
  if (text === '') return null
  if (text.startsWith('{')) return JSON.parse(text)
  const n = Number(text)
  return Number.isNaN(n) ? text : n
}

async function namedReport(name: (typeof REPORT_NAMES)[number]): Promise<ReportRow[]> {
  const rows = await runReport(ch, name, RANGE)
  return withNames(rows, await displayNames(ch, { org: ORG, to: RANGE.to, tz: 'UTC' }))
}

describe.each(REPORT_NAMES)('%s', (name) => {
  it('as CSV parses back to the JSON rows, names included', async () => {
    const rows = await namedReport(name)
    expect(rows.length).toBeGreaterThan(0)
    const records = parse(formatReport(name, rows, 'csv'), { columns: true }) as Record<string, string>[]
    expect(records.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, fromCsv(v)])))).toEqual(
      JSON.parse(formatReport(name, rows, 'json')),
    )
    // Names beside their ids, in the order of docs/metrics.md otherwise.
    const header = Object.keys(records[0]!)
    expect(header.filter((c) => !c.endsWith('_name'))).toEqual(REPORT_COLUMNS[name])
    for (const id of ['manager_id', 'rep_id'].filter((c) => header.includes(c))) {
      expect(header[header.indexOf(id) + 1]).toBe(id.replace('_id', '_name'))
    }
  })

  it('names people by their display name', async () => {
    const rows = await namedReport(name)
    const nameKey = name === 'rep-volume' ? 'rep_name' : 'manager_name'
    expect(rows.every((r) => typeof r[nameKey] === 'string' && (r[nameKey] as string).length > 0)).toBe(true)
    const table = formatReport(name, rows, 'table')
    expect(table).toContain(
      `${rows[0]![nameKey] as string} (${rows[0]![name === 'rep-volume' ? 'rep_id' : 'manager_id'] as string})`,
    )
  })

  it('fits a 100-column terminal as a table, and shows every column with --wide', async () => {
    const rows = await namedReport(name)
    const table = formatReport(name, rows, 'table')
    for (const line of table.split('\n')) expect(line.length).toBeLessThanOrEqual(100)
    const wide = formatReport(name, rows, 'table', { wide: true, width: 1000 })
    // The rule under the header has one run of ─ per column.
    expect(wide.split('\n')[2]!.split(/\s+/)).toHaveLength(REPORT_COLUMNS[name].length)
    expect(wide).not.toContain('more columns')
  })
})
