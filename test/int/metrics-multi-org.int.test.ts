// The set-based recompute (issue 17) on random orgs: the reports of several orgs imported and
// recomputed together, in the rounds of a metrics shard (recomputeTouched, then recomputePairs of
// the rest), equal the reports of each org imported and recomputed alone. The
// orgs share event ids and user ids and may differ in timezone and currency, so a join that
// forgot its org, or a day cut in another org's timezone, shows.
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ClickHouse } from '../../services/clickhouse/clickhouse-client.ts'
import { migrate } from '../../services/clickhouse/migrations.ts'
import { dayIn } from '../../services/projections/days.ts'
import { setOrgSettings } from '../../services/projections/org-settings.ts'
import { createProjectionActivities } from '../../services/projections/projection-activities.ts'
import { REPORT_NAMES, runReport, type ReportRow } from '../../services/reports/report-queries.ts'
import { testClickHouse } from '../support/env.ts'
import { insertRawEvents, type RawEvent } from '../support/event-store-fixtures.ts'
import { FULL, randomOrg, randomOrgEvents, range, type RandomOrg } from '../support/random-orgs.ts'

let ch: ClickHouse
let orgs = 0

beforeAll(async () => {
  ch = testClickHouse('metrics_multi_org')
  await migrate(ch)
})

afterAll(async () => {
  await ch?.close()
})

async function newOrg(spec: RandomOrg): Promise<{ org: string; spec: RandomOrg; events: RawEvent[] }> {
  const org = `multi-${process.pid}-${++orgs}`
  await setOrgSettings(ch, org, { timezone: spec.timezone, defaultCurrency: spec.defaultCurrency })
  return { org, spec, events: randomOrgEvents(org, spec) }
}

/** The (org, days) a batch of events touched, as ingest signals them. */
function touchedBy(batch: { org: string; spec: RandomOrg; events: RawEvent[] }[]) {
  return batch
    .map(({ org, spec, events }) => ({
      org,
      days: [...new Set(events.map((e) => dayIn(new Date(e.occurred_at), spec.timezone)))].sort(),
    }))
    .filter((t) => t.days.length > 0)
}

/**
 * One round of a metrics shard over the touched orgs: widened, the first windows, then the rest.
 * `windowEvents` below the default cuts a round into many windows, as a big org's year is.
 */
async function round(touched: { org: string; days: string[] }[], windowEvents?: number): Promise<void> {
  const p = createProjectionActivities({ ch, ...(windowEvents === undefined ? {} : { windowEvents }) })
  const first = await p.recomputeTouched({ touched })
  expect(first.rejected).toEqual([])
  if (first.rest.length > 0) expect((await p.recomputePairs({ touched: first.rest })).rejected).toEqual([])
}

async function reports(
  report: typeof runReport,
  org: string,
  ranges: { from: string; to: string }[],
): Promise<{ name: string; from: string; to: string; rows: ReportRow[] }[]> {
  const out = []
  for (const r of ranges)
    for (const name of REPORT_NAMES) out.push({ ...r, name, rows: await report(ch, name, { org, ...r }) })
  return out
}

const WINDOW_EVENTS_OF_RUNS = [4, 25, undefined]
let runs = 0

describe('set-based recompute over many orgs', () => {
  it('the reports of orgs imported together, in two batches, equal those of each org imported alone', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(randomOrg, { minLength: 2, maxLength: 3 }),
        range,
        fc.noBias(fc.infiniteStream(fc.boolean())),
        async (specs, r, coin) => {
          // Rounds in windows of every size in turn: of a few events (many windows), and the default.
          const windowEvents = WINDOW_EVENTS_OF_RUNS[runs++ % WINDOW_EVENTS_OF_RUNS.length]
          const together = await Promise.all(specs.map(newOrg))
          // Two batches of every org's events, split at random: the second one's days are
          // widened and recomputed as late events are.
          const split = together.map((o) => {
            const early = o.events.filter(() => coin.next().value)
            return { ...o, early, late: o.events.filter((e) => !early.includes(e)) }
          })
          await insertRawEvents(
            ch,
            split.flatMap((o) => o.early),
          )
          await round(touchedBy(split.map((o) => ({ ...o, events: o.early }))), windowEvents)
          await insertRawEvents(
            ch,
            split.flatMap((o) => o.late),
          )
          await round(touchedBy(split.map((o) => ({ ...o, events: o.late }))), windowEvents)

          const ranges = [FULL, r]
          for (const [i, spec] of specs.entries()) {
            const alone = await newOrg(spec)
            await insertRawEvents(ch, alone.events)
            await round(touchedBy([alone]))
            // (That an org alone equals the reference is metrics-properties' first property.)
            expect({ org: i, reports: await reports(runReport, together[i]!.org, ranges) }).toEqual({
              org: i,
              reports: await reports(runReport, alone.org, ranges),
            })
          }
        },
      ),
      { endOnFailure: true, numRuns: 3 },
    )
  }, 900_000)
})
