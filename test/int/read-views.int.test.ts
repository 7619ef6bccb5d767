// The read views of migration 0003 state the visibility rule for every reader: one generation per
// (org, day), none computed under another time zone, and the same numbers as the reports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../../services/clickhouse/migrations.ts'
import { generateOrg } from '../../services/demo/org-generator.ts'
import { setOrgSettings } from '../../services/projections/org-settings.ts'
import { createProjectionActivities } from '../../services/projections/projection-activities.ts'
import { runReport } from '../../services/reports/report-queries.ts'
import { testClickHouse } from '../support/env.ts'
import { insertRawEvents } from '../support/event-store-fixtures.ts'

const ch = testClickHouse('views')
const ORG = 'views'
const OTHER = 'views-other'
const RANGE = { org: ORG, from: '2026-03-02', to: '2026-03-22' }
const activities = createProjectionActivities({ ch })

async function rows<T>(query: string): Promise<T[]> {
  const result = await ch.client.query({ query, query_params: { db: ch.database }, format: 'JSONEachRow' })
  return result.json<T>()
}

async function recompute(org: string) {
  await activities.recomputeDays({ org, days: await activities.listEventDays({ org }) })
}

beforeAll(async () => {
  await migrate(ch)
  for (const org of [ORG, OTHER]) {
    await insertRawEvents(ch, [...generateOrg({ org, managers: 3, repsPerManager: 4, weeks: 3, seed: 9, start: RANGE.from })])
    await recompute(org)
  }
  // A second recomputation: two generations of every day exist, the views show one.
  await recompute(ORG)
})
afterAll(() => ch.close())

describe('the read views', () => {
  it('show one generation per org and day', async () => {
    const [counts] = await rows<{ days: number; pairs: number; markers: number }>(
      `SELECT count() AS pairs, uniqExact(org_id, day) AS days,
              (SELECT uniqExact(org_id, day, generation) FROM {db:Identifier}.metric_days) AS markers
       FROM {db:Identifier}.visible_generations`,
    )
    expect(counts!.pairs).toBe(counts!.days)
    expect(counts!.markers).toBeGreaterThan(counts!.pairs)
    const duplicated = await rows(
      `SELECT org_id, day, manager_id FROM {db:Identifier}.manager_days
       GROUP BY org_id, day, manager_id HAVING count() > 1 LIMIT 1`,
    )
    expect(duplicated).toEqual([])
  })

  it('add up to the reports', async () => {
    const managers = await runReport(ch, 'manager-care', RANGE)
    const care = await rows<{ manager_id: string; rep_messages: number; one_on_ones: number; recognitions: number }>(
      `SELECT manager_id, sum(rep_messages) AS rep_messages, sum(one_on_ones) AS one_on_ones,
              sum(recognitions) AS recognitions
       FROM {db:Identifier}.manager_days
       WHERE org_id = '${ORG}' AND day BETWEEN '${RANGE.from}' AND '${RANGE.to}'
       GROUP BY manager_id`,
    )
    expect(managers.length).toBeGreaterThan(0)
    for (const m of managers) {
      const v = care.find((c) => c.manager_id === m.manager_id)
      expect({ id: m.manager_id, rep_messages: v?.rep_messages ?? 0, one_on_ones: v?.one_on_ones ?? 0 }).toEqual({
        id: m.manager_id,
        rep_messages: m.rep_messages,
        one_on_ones: m.one_on_ones,
      })
    }
    const reps = await runReport(ch, 'rep-volume', RANGE)
    const volume = await rows<{ rep_id: string; activities: number; wins: number; losses: number }>(
      `SELECT rep_id, sum(activities) AS activities, sum(wins) AS wins, sum(losses) AS losses
       FROM {db:Identifier}.rep_days
       WHERE org_id = '${ORG}' AND day BETWEEN '${RANGE.from}' AND '${RANGE.to}'
       GROUP BY rep_id`,
    )
    for (const r of reps) {
      const v = volume.find((x) => x.rep_id === r.rep_id)
      expect({ id: r.rep_id, activities: v?.activities ?? 0, wins: v?.wins ?? 0, losses: v?.losses ?? 0 }).toEqual({
        id: r.rep_id,
        activities: r.activities,
        wins: r.wins,
        losses: r.losses,
      })
    }
  })

  it("hide the days computed under an org's former time zone until they are recomputed", async () => {
    const visible = async (org: string) =>
      (await rows<{ n: number }>(`SELECT count() AS n FROM {db:Identifier}.rep_days WHERE org_id = '${org}'`))[0]!.n
    const before = await visible(ORG)
    const other = await visible(OTHER)
    expect(before).toBeGreaterThan(0)
    await setOrgSettings(ch, ORG, { timezone: 'Asia/Tokyo' })
    expect(await visible(ORG)).toBe(0)
    expect(await visible(OTHER)).toBe(other)
    await recompute(ORG)
    expect(await visible(ORG)).toBeGreaterThan(0)
  })
})
