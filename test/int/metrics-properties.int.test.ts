// Properties of the metrics on small random orgs (2 managers, 4 reps, a few deals, activities,
// messages, meetings): the reports do not depend on arrival order, duplication or how the days
// were recomputed; the projections agree with the reference; additive metrics add up over ranges.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ClickHouse } from '../../services/clickhouse/clickhouse-client.ts'
import { migrate } from '../../services/clickhouse/migrations.ts'
import { addDays } from '../../services/projections/days.ts'
import { setOrgSettings } from '../../services/projections/org-settings.ts'
import { createProjectionActivities } from '../../services/projections/projection-activities.ts'
import {
  REPORT_NAMES,
  runReport,
  runReportFromEvents,
  type ReportName,
  type ReportRow,
} from '../../services/reports/report-queries.ts'
import { testClickHouse } from '../support/env.ts'
import { insertRawEvents, type RawEvent } from '../support/event-store-fixtures.ts'
import {
  BASE,
  FULL,
  MANAGERS,
  randomOrg,
  randomOrgEvents,
  range,
  WINDOW_DAYS,
  type RandomOrg,
} from '../support/random-orgs.ts'

// ---------------------------------------------------------------------------------------------
// A random small org: test/support/random-orgs.ts

let orgs = 0

/** The org's events under a fresh org id (ids of events and users are the same in every org). */
async function newOrg(spec: RandomOrg): Promise<{ org: string; events: RawEvent[] }> {
  const org = `prop-${process.pid}-${++orgs}`
  await setOrgSettings(ch, org, { timezone: spec.timezone, defaultCurrency: spec.defaultCurrency })
  return { org, events: randomOrgEvents(org, spec) }
}

/** The day of an instant in a timezone, `YYYY-MM-DD`. */
function localDay(instant: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    new Date(instant),
  )
}

type Report = (
  ch: ClickHouse,
  name: ReportName,
  params: { org: string; from: string; to: string },
) => Promise<ReportRow[]>

async function allReports(report: Report, org: string, ranges: { from: string; to: string }[]): Promise<unknown[]> {
  const out: unknown[] = []
  for (const r of ranges)
    for (const name of REPORT_NAMES) out.push({ ...r, name, rows: await report(ch, name, { org, ...r }) })
  return out
}

// ---------------------------------------------------------------------------------------------

// Properties run many reports each; generous, as the machine may be shared.
const TIMEOUT = 900_000
// A run costs seconds of ClickHouse work, and shrinking would take hundreds of runs: report the
// first counterexample with its seed and path, and replay it locally to shrink.
const RUNS = { endOnFailure: true }

let ch: ClickHouse
const projections = () => createProjectionActivities({ ch })

async function projectAll(org: string): Promise<void> {
  const p = projections()
  await p.recomputeDays({ org, days: await p.listEventDays({ org }) })
}

// Every visible fact row of an org (the latest generation of each day), without the generation
// and timestamps, arrays sorted: what a recomputation must reproduce.
const VISIBLE_FACTS = `
  WITH vis AS (
    SELECT day, argMax(generation, (computed_at, generation)) AS generation
    FROM {db:Identifier}.metric_days WHERE org_id = {org:String} GROUP BY day
  )
  SELECT row FROM (
    SELECT toString((day, manager_id, arraySort(deals_active), arraySort(deals_intervened), arraySort(takeovers),
                     team_wins, rep_closed_wins, goals_set, rep_messages, replied_within_24h, unanswered,
                     arraySort(reply_minutes), one_on_ones, arraySort(one_on_one_people), lunches, recognitions)) AS row
    FROM {db:Identifier}.metric_manager_daily WHERE org_id = {org:String} AND (day, generation) IN (SELECT day, generation FROM vis)
    UNION ALL
    SELECT toString((day, rep_id, opportunities_created, pipeline_created_amount, opportunities_qualified, wins, losses,
                     won_amount, activities, calls, emails, meetings, arraySort(accounts_engaged),
                     arraySort(contacts_engaged), arraySort(deals_worked)))
    FROM {db:Identifier}.metric_rep_daily WHERE org_id = {org:String} AND (day, generation) IN (SELECT day, generation FROM vis)
    UNION ALL
    SELECT toString((day, opportunity_id))
    FROM {db:Identifier}.metric_multithreaded_deals WHERE org_id = {org:String} AND (day, generation) IN (SELECT day, generation FROM vis)
    UNION ALL
    SELECT toString((day, user_id, occurred_at, event_id, role, manager_id, active))
    FROM {db:Identifier}.metric_user_versions WHERE org_id = {org:String} AND (day, generation) IN (SELECT day, generation FROM vis)
    UNION ALL
    SELECT toString((day, kind, user_id, set_by, period_start, period_end))
    FROM {db:Identifier}.metric_expectations WHERE org_id = {org:String} AND (day, generation) IN (SELECT day, generation FROM vis)
  )
  ORDER BY row`

async function visibleFacts(org: string): Promise<string[]> {
  const result = await ch.client.query({
    query: VISIBLE_FACTS,
    query_params: { db: ch.database, org },
    format: 'JSONEachRow',
  })
  return (await result.json<{ row: string }>()).map((r) => r.row)
}

beforeAll(async () => {
  ch = testClickHouse('metrics_props')
  await migrate(ch)
})

afterAll(async () => {
  await ch?.close()
})

describe('metric properties', () => {
  it(
    'the projections equal the reference on random orgs and ranges',
    async () => {
      await fc.assert(
        fc.asyncProperty(randomOrg, range, async (spec, r) => {
          const { org, events } = await newOrg(spec)
          await insertRawEvents(ch, events)
          await projectAll(org)
          const ranges = [FULL, r]
          expect(await allReports(runReport, org, ranges)).toEqual(await allReports(runReportFromEvents, org, ranges))
        }),
        { ...RUNS, numRuns: 10 },
      )
    },
    TIMEOUT,
  )

  it(
    'events in any order and with any duplication give the same reports',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          randomOrg,
          fc.noBias(fc.infiniteStream(fc.nat())),
          fc.integer({ min: 1, max: 3 }),
          range,
          async (spec, randomness, batches, r) => {
            const once = await newOrg(spec)
            await insertRawEvents(ch, once.events)
            const shuffled = await newOrg(spec)
            // Every event once or twice, the whole in random order, over several inserts.
            const delivered = shuffled.events.flatMap((e) => (randomness.next().value % 3 === 0 ? [e, e] : [e]))
            const order = delivered
              .map((e) => ({ e, key: randomness.next().value }))
              .sort((a, b) => a.key - b.key)
              .map((x) => x.e)
            const size = Math.ceil(order.length / batches)
            for (let i = 0; i < order.length; i += size) await insertRawEvents(ch, order.slice(i, i + size))
            const ranges = [FULL, r]
            expect(await allReports(runReportFromEvents, shuffled.org, ranges)).toEqual(
              await allReports(runReportFromEvents, once.org, ranges),
            )
            await projectAll(once.org)
            await projectAll(shuffled.org)
            expect(await allReports(runReport, shuffled.org, ranges)).toEqual(
              await allReports(runReport, once.org, ranges),
            )
          },
        ),
        { ...RUNS, numRuns: 10 },
      )
    },
    TIMEOUT,
  )

  it(
    'recomputing day by day in any order, some days twice, equals recomputing all at once',
    async () => {
      await fc.assert(
        fc.asyncProperty(randomOrg, fc.noBias(fc.infiniteStream(fc.nat())), async (spec, randomness) => {
          const { org, events } = await newOrg(spec)
          await insertRawEvents(ch, events)
          const p = projections()
          const days = await p.listEventDays({ org })
          const order = [...days, ...days.filter(() => randomness.next().value % 4 === 0)]
            .map((day) => ({ day, key: randomness.next().value }))
            .sort((a, b) => a.key - b.key)
          for (const { day } of order) await p.recomputeDays({ org, days: [day] })
          const dayByDay = await allReports(runReport, org, [FULL])
          await p.recomputeDays({ org, days })
          expect(await allReports(runReport, org, [FULL])).toEqual(dayByDay)
          expect(dayByDay).toEqual(await allReports(runReportFromEvents, org, [FULL]))
        }),
        { ...RUNS, numRuns: 10 },
      )
    },
    TIMEOUT,
  )

  it(
    'events of some kinds arriving late: recomputing their affected days gives the facts of recomputing every day',
    async () => {
      // The contract of affectedDays: after late events, recomputing the days it returns leaves
      // every day's visible facts as a recomputation of all days would. Kinds are chosen so that
      // each widening rule is needed alone: replies after the messages they answer, deals after
      // their activities, moves in the org chart after the events they reassign, and so on.
      const kind = (e: RawEvent): string => {
        if (e.type === 'message.sent') return MANAGERS.includes(String(e.payload.sender_id)) ? 'replies' : 'messages'
        if (e.type === 'user.upserted') return Date.parse(e.occurred_at) < BASE ? 'chart' : 'moves'
        if (e.type === 'opportunity.created' || e.type === 'activity.logged') return e.type
        return e.type.startsWith('opportunity.') ? 'opportunity' : 'other'
      }
      const KINDS = ['replies', 'messages', 'moves', 'opportunity.created', 'activity.logged', 'opportunity', 'other']
      await fc.assert(
        fc.asyncProperty(
          randomOrg,
          fc.noBias(fc.shuffledSubarray(KINDS, { minLength: 1 })),
          fc.noBias(fc.infiniteStream(fc.boolean())),
          async (spec, lateKinds, coin) => {
            const { org, events } = await newOrg(spec)
            const p = projections()
            // Of a late kind, about half the events are late: a deal's late activity then meets
            // its earlier ones, a late reply its early question, and so on.
            const late = new Set(events.filter((e) => lateKinds.includes(kind(e)) && coin.next().value))
            await insertRawEvents(
              ch,
              events.filter((e) => !late.has(e)),
            )
            await projectAll(org)
            for (const k of lateKinds) {
              const batch = events.filter((e) => late.has(e) && kind(e) === k)
              if (batch.length === 0) continue
              await insertRawEvents(ch, batch)
              const touched = [...new Set(batch.map((e) => localDay(e.occurred_at, spec.timezone)))]
              await p.recomputeDays({ org, days: await p.affectedDays({ org, days: touched }) })
              const incremental = await visibleFacts(org)
              await projectAll(org)
              expect({ late: k, facts: incremental }).toEqual({ late: k, facts: await visibleFacts(org) })
            }
          },
        ),
        { ...RUNS, numRuns: 10 },
      )
    },
    TIMEOUT,
  )

  it(
    'additive metrics over a range are the sums over two adjacent sub-ranges',
    async () => {
      const ADDITIVE: Record<ReportName, string[]> = {
        'manager-autonomy': ['team_wins', 'rep_closed_wins'],
        'manager-direction': ['goals_set'],
        'manager-care': ['rep_messages', 'replied_within_24h', 'unanswered', 'one_on_ones', 'lunches', 'recognitions'],
        'rep-volume': [
          'opportunities_created',
          'opportunities_qualified',
          'wins',
          'losses',
          'activities',
          'calls',
          'emails',
          'meetings',
        ],
        // Its team_* sums follow each rep's manager at the end of the range, and reps move here.
        'team-summary': ['unanswered', 'recognitions'],
      }
      const AMOUNTS = ['pipeline_created_amount', 'won_amount']
      await fc.assert(
        fc.asyncProperty(randomOrg, fc.integer({ min: 0, max: WINDOW_DAYS - 1 }), async (spec, split) => {
          const { org, events } = await newOrg(spec)
          await insertRawEvents(ch, events)
          await projectAll(org)
          const mid = addDays('2026-03-01', split)
          for (const name of REPORT_NAMES) {
            const id = name === 'rep-volume' ? 'rep_id' : 'manager_id'
            const whole = await runReport(ch, name, { org, ...FULL })
            const first = await runReport(ch, name, { org, from: FULL.from, to: mid })
            const second = await runReport(ch, name, { org, from: addDays(mid, 1), to: FULL.to })
            // Roles never change in these orgs: every report has a row for each manager (rep).
            for (const row of whole) {
              const a = first.find((x) => x[id] === row[id])
              const b = second.find((x) => x[id] === row[id])
              for (const column of ADDITIVE[name]) expect(row[column]).toBe(Number(a?.[column]) + Number(b?.[column]))
              if (name !== 'rep-volume') continue
              for (const column of AMOUNTS) {
                const sum: Record<string, number> = {}
                for (const part of [a?.[column], b?.[column]] as Record<string, number>[]) {
                  for (const [currency, value] of Object.entries(part)) sum[currency] = (sum[currency] ?? 0) + value
                }
                // Quarter units: every partial sum is exact in binary floating point.
                expect(row[column]).toEqual(sum)
              }
            }
          }
        }),
        { ...RUNS, numRuns: 10 },
      )
    },
    TIMEOUT,
  )
})
