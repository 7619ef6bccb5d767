// explain lists the events and deals behind every count of docs/metrics.md: on random orgs, for
// every count metric and every manager (rep) of the reports, its items number the report's value;
// on a hand-made org, the right deal counts as intervened, by the right event, with its source.ref.
import fc from 'fast-check'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXPLAIN_MANAGER_METRICS, EXPLAIN_REP_METRICS, type ExplainMetric } from '../../schemas/report-params.schema.ts'
import type { ClickHouse } from '../../services/clickhouse/clickhouse-client.ts'
import { migrate } from '../../services/clickhouse/migrations.ts'
import { PROBLEM_CONTENT_TYPE } from '../../schemas/api-problem.schema.ts'
import { setOrgSettings } from '../../services/projections/org-settings.ts'
import { registerExplainRoutes } from '../../services/reports/explain-routes.ts'
import { apiKeyHash } from '../../services/runtime/api-keys.ts'
import { installHttpApi } from '../../services/runtime/http-api.ts'

import { explainMetric, formatExplanation } from '../../services/reports/explain.ts'
import {
  REPORT_COLUMNS,
  ReportParamsError,
  runReportFromEvents,
  type ReportRow,
} from '../../services/reports/report-queries.ts'
import { testClickHouse } from '../support/env.ts'
import { insertRawEvents, type RawEvent } from '../support/event-store-fixtures.ts'
import { FULL, randomOrg, randomOrgEvents, range } from '../support/random-orgs.ts'

const KEY = 'explain-test-key-0123456789abcdef'
const AUTH = { authorization: `Bearer ${KEY}` }

let ch: ClickHouse

beforeAll(async () => {
  ch = testClickHouse('explain_props')
  await migrate(ch)
})

afterAll(async () => {
  await ch?.close()
})

const MANAGER_REPORTS = ['manager-autonomy', 'manager-direction', 'manager-care'] as const

/** The base report that has `metric` as a column. */
function reportOf(metric: ExplainMetric): (typeof MANAGER_REPORTS)[number] | 'rep-volume' {
  const name = MANAGER_REPORTS.find((n) => REPORT_COLUMNS[n].includes(metric))
  return name ?? 'rep-volume'
}

let orgs = 0

describe('explain', () => {
  it('lists as many items as the report counts, for every count metric, manager and rep', async () => {
    await fc.assert(
      fc.asyncProperty(randomOrg, fc.boolean(), range, async (spec, whole, r) => {
        const org = `explain-${process.pid}-${++orgs}`
        await setOrgSettings(ch, org, { timezone: spec.timezone, defaultCurrency: spec.defaultCurrency })
        await insertRawEvents(ch, randomOrgEvents(org, spec))
        const { from, to } = whole ? FULL : r
        const seen: unknown[] = []
        const expected: unknown[] = []
        const reports = new Map<string, ReportRow[]>()
        for (const name of [...MANAGER_REPORTS, 'rep-volume'] as const)
          reports.set(name, await runReportFromEvents(ch, name, { org, from, to }))
        for (const metric of [...EXPLAIN_MANAGER_METRICS, ...EXPLAIN_REP_METRICS]) {
          const grain = (EXPLAIN_MANAGER_METRICS as readonly string[]).includes(metric) ? 'manager' : 'rep'
          for (const row of reports.get(reportOf(metric)) ?? []) {
            const subject = String(row[`${grain}_id`])
            const explanation = await explainMetric(ch, { org, metric, [grain]: subject, from, to })
            const ids = explanation.items.map((item) => item.id)
            seen.push({ metric, subject, value: explanation.value, items: ids.length, distinct: new Set(ids).size })
            expected.push({ metric, subject, value: row[metric], items: row[metric], distinct: row[metric] })
            // Every item shows at least one event that makes it count.
            expect(explanation.items.filter((item) => item.events.length === 0)).toEqual([])
          }
        }
        expect(seen).toEqual(expected)
      }),
      // Each run is ~80 explains on the real engine (~30 s): two runs, the first failure reported as is.
      { numRuns: 2, endOnFailure: true },
    )
  }, 600_000)

  it('names the deal intervened, the event that made it so and its source.ref', async () => {
    const org = `explain-hand-${process.pid}`
    await setOrgSettings(ch, org, {})
    const at = (day: number, hour: number) => `2026-03-0${day}T${String(hour).padStart(2, '0')}:00:00Z`
    const event = (event_id: string, type: string, occurred_at: string, payload: object, ref?: string): RawEvent => ({
      event_id,
      org_id: org,
      type,
      occurred_at,
      source: ref === undefined ? { system: 'api' } : { system: 'hubspot', ref },
      payload: payload as Record<string, unknown>,
    })
    const user = (user_id: string, role: string, manager_id: string | null) => ({
      user_id,
      display_name: user_id,
      role,
      manager_id,
      active: true,
    })
    await insertRawEvents(ch, [
      event('e-01', 'user.upserted', at(1, 8), user('m1', 'manager', null)),
      event('e-02', 'user.upserted', at(1, 8), user('r1', 'rep', 'm1')),
      // o1: r1's deal, moved on by m1 (an intervention); o2: r1's own, r1 moves it alone.
      event(
        'e-03',
        'opportunity.created',
        at(2, 9),
        { opportunity_id: 'o1', account_id: 'a1', owner_id: 'r1', stage: 'Discovery', stage_category: 'prospecting' },
        'deal-991',
      ),
      event(
        'e-04',
        'opportunity.created',
        at(2, 10),
        { opportunity_id: 'o2', account_id: 'a2', owner_id: 'r1', stage: 'Discovery', stage_category: 'prospecting' },
        'deal-992',
      ),
      event(
        'e-05',
        'opportunity.stage_changed',
        at(3, 11),
        { opportunity_id: 'o1', from_stage: 'Discovery', to_stage: 'Demo', to_category: 'qualified', changed_by: 'm1' },
        'stage-change-77',
      ),
      event('e-06', 'opportunity.stage_changed', at(3, 12), {
        opportunity_id: 'o2',
        from_stage: 'Discovery',
        to_stage: 'Demo',
        to_category: 'qualified',
        changed_by: 'r1',
      }),
      // Stored twice (a redelivery): still one event.
      event(
        'e-05',
        'opportunity.stage_changed',
        at(3, 11),
        {
          opportunity_id: 'o1',
          from_stage: 'Discovery',
          to_stage: 'Demo',
          to_category: 'qualified',
          changed_by: 'm1',
        },
        'stage-change-77',
      ),
    ])
    const params = { org, manager: 'm1', from: '2026-03-02', to: '2026-03-08' }
    const intervened = await explainMetric(ch, { ...params, metric: 'deals_intervened' })
    expect(intervened).toEqual({
      metric: 'deals_intervened',
      org,
      manager: 'm1',
      from: '2026-03-02',
      to: '2026-03-08',
      value: 1,
      unit: 'deal',
      items: [
        {
          id: 'o1',
          events: [
            {
              event_id: 'e-05',
              type: 'opportunity.stage_changed',
              occurred_at: '2026-03-03T11:00:00.000Z',
              source_ref: 'stage-change-77',
              why: 'stage_changed changed_by m1 (deal owner r1)',
            },
          ],
        },
      ],
    })
    const active = await explainMetric(ch, { ...params, metric: 'deals_active' })
    expect(active.items.map((item) => [item.id, item.events.map((e) => [e.event_id, e.source_ref])])).toEqual([
      [
        'o1',
        [
          ['e-03', 'deal-991'],
          ['e-05', 'stage-change-77'],
        ],
      ],
      [
        'o2',
        [
          ['e-04', 'deal-992'],
          ['e-06', null],
        ],
      ],
    ])
    expect(formatExplanation(intervened)).toBe(
      [
        'deals_intervened = 1 for manager m1, 2026-03-02..2026-03-08 (1 deal):',
        '  deal o1',
        '    2026-03-03T11:00:00.000Z  opportunity.stage_changed  e-05 ref stage-change-77  — stage_changed changed_by m1 (deal owner r1)',
        '',
      ].join('\n'),
    )
  })

  it('refuses what it cannot explain, naming the rule', async () => {
    const base = { org: 'acme', from: '2026-03-02', to: '2026-03-08' }
    await expect(explainMetric(ch, { ...base, metric: 'intervention_rate', manager: 'm1' } as never)).rejects.toThrow(
      'metric: explain covers count metrics; intervention_rate is a ratio of deals_intervened / deals_active: explain deals_intervened and deals_active (got "intervention_rate")',
    )
    await expect(explainMetric(ch, { ...base, metric: 'wins', manager: 'm1' })).rejects.toThrow(
      'metric: must be a manager metric when manager is given (got "wins" (a rep metric))',
    )
    await expect(explainMetric(ch, { ...base, metric: 'wins', rep: 'nobody' })).rejects.toThrow(ReportParamsError)
  })

  it('answers GET /v1/orgs/:org/explain/:metric with the explanation, or a 400 problem naming as_of', async () => {
    const org = `explain-http-${process.pid}`
    await setOrgSettings(ch, org, {})
    await insertRawEvents(ch, [
      {
        event_id: 'e-1',
        org_id: org,
        type: 'user.upserted',
        occurred_at: '2026-03-01T08:00:00Z',
        payload: { user_id: 'm1', display_name: 'M1', role: 'manager', manager_id: null, active: true },
      },
    ])
    const app = Fastify()
    await installHttpApi(app, { apiKeys: [apiKeyHash(org, KEY, 'read')] })
    registerExplainRoutes(app, ch)
    const base = `/v1/orgs/${org}/explain/team_size?manager=m1&from=2026-03-02&to=2026-03-08`
    const ok = await app.inject({ method: 'GET', url: `${base}&as_of=2099-03-09T08:00:00%2B01:00`, headers: AUTH })
    expect(ok.statusCode).toBe(200)
    expect(ok.json()).toMatchObject({
      metric: 'team_size',
      manager: 'm1',
      as_of: '2099-03-09T08:00:00+01:00',
      value: 0,
      items: [],
    })
    const bad = await app.inject({ method: 'GET', url: `${base}&as_of=2026-03-09`, headers: AUTH })
    expect(bad.statusCode).toBe(400)
    expect(bad.headers['content-type']).toContain(PROBLEM_CONTENT_TYPE)
    expect(bad.json()).toMatchObject({
      status: 400,
      errors: [
        { parameter: 'as_of', message: expect.stringMatching(/^as_of: must be an RFC 3339 instant with offset/) },
      ],
    })
    const ratio = await app.inject({ method: 'GET', url: base.replace('team_size', 'quota_coverage'), headers: AUTH })
    expect(ratio.statusCode).toBe(400)
    const anonymous = await app.inject({ method: 'GET', url: base })
    expect(anonymous.statusCode).toBe(401)
    expect(ratio.json().detail).toBe(
      'metric: explain covers count metrics; quota_coverage is a ratio of reps_with_quota / team_size: explain reps_with_quota and team_size (got "quota_coverage")',
    )
    await app.close()
  })
})
