// Reports as of an instant (docs/metrics.md on the event store): only the events ingested by then
// count. Two imports through the real event store writer, B bringing late events for A's days and
// a redelivered copy of an A event; as of the end of A, every report equals that of A alone.
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultLimits, validateEvent } from '../../schemas/event-validation.ts'
import type { CrmEvent } from '../../schemas/events.schema.ts'
import type { ClickHouse } from '../../services/clickhouse/clickhouse-client.ts'
import { migrate } from '../../services/clickhouse/migrations.ts'
import { encodeEventRows, toEventRow } from '../../services/ingest/event-rows.ts'
import { createClickHouseEventStore } from '../../services/ingest/event-store.ts'
import { setOrgSettings } from '../../services/projections/org-settings.ts'
import { explainMetric } from '../../services/reports/explain.ts'
import {
  REPORT_NAMES,
  ReportParamsError,
  runReport,
  runReportFromEvents,
  type ReportRow,
} from '../../services/reports/report-queries.ts'
import { testClickHouse, uniqueName } from '../support/env.ts'

let ch: ClickHouse

beforeAll(async () => {
  ch = testClickHouse('report_as_of')
  await migrate(ch)
})

afterAll(async () => {
  await ch?.close()
})

type Draft = [event_id: string, type: string, occurred_at: string, payload: Record<string, unknown>]

const user = (user_id: string, role: string, manager_id: string | null) => ({
  user_id,
  display_name: user_id,
  role,
  manager_id,
  active: true,
})

// A: the team, a deal of r1 with its own activity, and r1's question to m1 (unanswered so far).
const A: Draft[] = [
  ['a-01', 'user.upserted', '2026-03-01T08:00:00Z', user('m1', 'manager', null)],
  ['a-02', 'user.upserted', '2026-03-01T08:00:00Z', user('r1', 'rep', 'm1')],
  ['a-03', 'user.upserted', '2026-03-01T08:00:00Z', user('r2', 'rep', 'm1')],
  [
    'a-04',
    'opportunity.created',
    '2026-03-02T10:00:00Z',
    { opportunity_id: 'o1', account_id: 'acc1', owner_id: 'r1', stage: 'Discovery', stage_category: 'prospecting' },
  ],
  [
    'a-05',
    'activity.logged',
    '2026-03-02T11:00:00Z',
    {
      activity_id: 'act1',
      kind: 'call',
      owner_id: 'r1',
      participant_ids: [],
      contact_ids: ['c1', 'c2'],
      opportunity_id: 'o1',
    },
  ],
  [
    'a-06',
    'message.sent',
    '2026-03-03T09:00:00Z',
    { message_id: 'q1', thread_id: 't1', sender_id: 'r1', recipient_ids: ['m1'], channel: 'chat' },
  ],
]

// B: late events for A's days (m1 steps into o1, a third contact makes o1 multithreaded, m1
// answers r1 the same day), a win later in the week, and the redelivered opportunity.created.
const B: Draft[] = [
  [
    'b-01',
    'opportunity.stage_changed',
    '2026-03-02T12:00:00Z',
    { opportunity_id: 'o1', from_stage: 'Discovery', to_stage: 'Demo', to_category: 'qualified', changed_by: 'm1' },
  ],
  [
    'b-02',
    'activity.logged',
    '2026-03-03T15:00:00Z',
    {
      activity_id: 'act2',
      kind: 'meeting',
      owner_id: 'r1',
      participant_ids: ['m1'],
      contact_ids: ['c3'],
      opportunity_id: 'o1',
    },
  ],
  [
    'b-03',
    'message.sent',
    '2026-03-03T10:30:00Z',
    { message_id: 'a1', thread_id: 't1', sender_id: 'm1', recipient_ids: ['r1'], channel: 'chat' },
  ],
  [
    'b-04',
    'opportunity.closed',
    '2026-03-05T16:00:00Z',
    { opportunity_id: 'o1', outcome: 'won', amount: 5000, currency: 'USD', closed_by: 'r1' },
  ],
  A[3]!,
]

function events(org: string, drafts: readonly Draft[]): CrmEvent[] {
  return drafts.map(([event_id, type, occurred_at, payload]) => {
    const raw = {
      event_id,
      org_id: org,
      type,
      schema_version: 1,
      occurred_at,
      source: { system: 'hubspot', ref: `hs-${event_id}` },
      payload,
    }
    const result = validateEvent(raw, defaultLimits(new Date('2026-03-10T00:00:00Z')))
    if (!result.ok) throw new Error(`${event_id}: ${result.issues.map((i) => i.message).join('; ')}`)
    return result.event
  })
}

/** Stores the events as ingest does: validated rows, one batch, the engine stamping ingested_at. */
async function store(org: string, drafts: readonly Draft[]): Promise<void> {
  await createClickHouseEventStore(ch).insert(encodeEventRows(events(org, drafts).map(toEventRow)), uniqueName('batch'))
}

async function ingestedAt(org: string, prefix: string): Promise<string[]> {
  const result = await ch.client.query({
    query: `SELECT toString(ingested_at) AS at FROM {db:Identifier}.events
            WHERE org_id = {org:String} AND startsWith(event_id, {prefix:String}) ORDER BY at`,
    query_params: { db: ch.database, org, prefix },
    format: 'JSONEachRow',
  })
  return (await result.json<{ at: string }>()).map((r) => r.at)
}

/** DateTime64(3) text in UTC → RFC 3339. */
const rfc3339 = (at: string) => `${at.replace(' ', 'T')}Z`

const RANGE = { from: '2026-03-01', to: '2026-03-07' }

async function reports(report: typeof runReportFromEvents, org: string, asOf?: string) {
  const out: Record<string, ReportRow[]> = {}
  for (const name of REPORT_NAMES) {
    out[name] = await report(ch, name, { org, ...RANGE, ...(asOf === undefined ? {} : { asOf }) })
  }
  return out
}

describe('reports as of an instant', () => {
  it('as of the end of import A equal the reports of A alone; without as-of, those of A and B', async () => {
    const org = uniqueName('asof').toLowerCase()
    const onlyA = `${org}-a`
    const both = `${org}-ab`
    for (const o of [org, onlyA, both]) await setOrgSettings(ch, o, { timezone: 'Europe/Paris' })
    await store(onlyA, A)
    await store(both, [...A, ...B.slice(0, -1)])

    await store(org, A)
    const stampsA = await ingestedAt(org, 'a-')
    const asOf = rfc3339(stampsA[stampsA.length - 1]!)
    // The engine stamps ingested_at at the insert (DEFAULT now64(3)), in milliseconds: B must be
    // stored at a later millisecond than A for "as of the end of A" to tell them apart.
    await sleep(5)
    await store(org, B)
    const stampsAll = await ingestedAt(org, '')
    expect(stampsA).toHaveLength(A.length)
    expect(stampsAll).toHaveLength(A.length + B.length)
    expect(stampsAll.filter((at) => rfc3339(at) > asOf)).toHaveLength(B.length)

    const asOfA = await reports(runReportFromEvents, org, asOf)
    const reportsA = await reports(runReportFromEvents, onlyA)
    expect(asOfA).toEqual(reportsA)
    // The late events change the numbers: an as-of that read everything would fail above.
    expect(await reports(runReportFromEvents, org)).toEqual(await reports(runReportFromEvents, both))
    expect(reportsA).not.toEqual(await reports(runReportFromEvents, both))
    // runReport answers as-of from the event store too (the projections know only now).
    expect(await reports(runReport, org, asOf)).toEqual(reportsA)
    // The redelivered copy, stored after asOf, does not hide its event: o1 counts as created.
    expect(asOfA['rep-volume']!.find((row) => row['rep_id'] === 'r1')).toMatchObject({ opportunities_created: 1 })
  })

  it('explain as of an instant lists what the store knew then', async () => {
    const org = uniqueName('asof_explain').toLowerCase()
    await setOrgSettings(ch, org, {})
    await store(org, A)
    const stampsA = await ingestedAt(org, 'a-')
    const asOf = rfc3339(stampsA[stampsA.length - 1]!)
    await sleep(5)
    await store(org, B)
    const params = { org, metric: 'deals_intervened' as const, manager: 'm1', ...RANGE }
    expect((await explainMetric(ch, { ...params, asOf })).items).toEqual([])
    const now = await explainMetric(ch, params)
    expect(now.items.map((item) => [item.id, item.events.map((e) => e.event_id)])).toEqual([['o1', ['b-01', 'b-02']]])
    const unanswered = await explainMetric(ch, { ...params, metric: 'unanswered', asOf })
    expect(unanswered).toMatchObject({ value: 1, as_of: asOf, items: [{ id: 'a-06' }] })
  })

  it('refuses an as-of that is no RFC 3339 instant with offset, naming it', async () => {
    for (const asOf of ['2026-03-09', '2026-03-09T08:00:00', '2026-02-30T08:00:00Z', 'monday']) {
      const refusal = runReportFromEvents(ch, 'manager-care', { org: 'acme', ...RANGE, asOf })
      await expect(refusal).rejects.toThrow(ReportParamsError)
      await expect(refusal).rejects.toThrow(
        `asOf: must be an RFC 3339 instant with offset between 1970 and 2299, e.g. 2026-03-09T08:00:00Z (got ${JSON.stringify(asOf)})`,
      )
    }
  })
})
