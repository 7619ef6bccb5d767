// The whole pipeline through the real commands: `dugout run` hosts the services, `dugout import
// --wait` returns only once the metrics reflect the file, `dugout report` reads them (over the
// services' HTTP API, as the embedded engine belongs to `dugout run`). Expected rows by hand.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPORT_COLUMNS } from '../../services/reports/report-queries.ts'
import { uniqueName } from '../support/env.ts'
import { freePort, spawnDugout, waitForHttp, type DugoutProcess } from '../support/processes.ts'

const env: Record<string, string> = {
  KAFKA_EVENTS_TOPIC: uniqueName('e2e.events'),
  KAFKA_DLQ_TOPIC: uniqueName('e2e.dlq'),
  KAFKA_CONSUMER_GROUP: uniqueName('e2e-group'),
  TEMPORAL_TASK_QUEUE: uniqueName('e2e-queue'),
  CHDB_PATH: path.join(os.tmpdir(), uniqueName('e2e-chdb')),
}
const org = uniqueName('pipe').toLowerCase().replaceAll('_', '-')
let services: DugoutProcess

const event = (id: string, type: string, at: string, payload: object) =>
  JSON.stringify({
    event_id: id,
    org_id: org,
    type,
    schema_version: 1,
    occurred_at: at,
    source: { system: 'import' },
    payload,
  })
const file = path.join(os.tmpdir(), `${org}.ndjson`)
fs.writeFileSync(
  file,
  [
    event('e1', 'user.upserted', '2026-03-01T09:00:00Z', {
      user_id: 'm1',
      display_name: 'Maya',
      email: 'maya@x.test',
      role: 'manager',
      manager_id: null,
      active: true,
    }),
    event('e2', 'user.upserted', '2026-03-01T09:00:00Z', {
      user_id: 'r1',
      display_name: 'Rex',
      role: 'rep',
      manager_id: 'm1',
      active: true,
    }),
    event('e3', 'opportunity.created', '2026-03-02T10:00:00Z', {
      opportunity_id: 'o1',
      account_id: 'a1',
      owner_id: 'r1',
      amount: 12000,
      currency: 'USD',
      stage: 'Discovery',
      stage_category: 'prospecting',
    }),
    event('e4', 'opportunity.stage_changed', '2026-03-03T10:00:00Z', {
      opportunity_id: 'o1',
      from_stage: 'Discovery',
      to_stage: 'Demo',
      to_category: 'qualified',
      changed_by: 'm1',
    }),
    event('e5', 'message.sent', '2026-03-03T11:00:00Z', {
      message_id: 'x1',
      thread_id: 't1',
      sender_id: 'r1',
      recipient_ids: ['m1'],
      channel: 'chat',
    }),
    event('e6', 'message.sent', '2026-03-03T13:00:00Z', {
      message_id: 'x2',
      thread_id: 't1',
      sender_id: 'm1',
      recipient_ids: ['r1'],
      channel: 'chat',
    }),
    event('e3', 'opportunity.created', '2026-03-02T10:00:00Z', {
      opportunity_id: 'o1',
      account_id: 'a1',
      owner_id: 'r1',
      amount: 12000,
      currency: 'USD',
      stage: 'Discovery',
      stage_category: 'prospecting',
    }),
    '{"event_id":"bad","org_id":"' + org + '","type":"message.sent"}',
  ].join('\n'),
)

async function dugout(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawnDugout(args, env)
  const code = await child.exited
  return { code, output: child.output() }
}

/** One report of the test week, as JSON rows. */
async function report(name: string): Promise<Record<string, unknown>[]> {
  const run = await dugout([
    'report',
    name,
    '--org',
    org,
    '--from',
    '2026-03-01',
    '--to',
    '2026-03-07',
    '--format',
    'json',
  ])
  expect(run.code, run.output).toBe(0)
  return JSON.parse(run.output.slice(run.output.indexOf('[')))
}

beforeAll(async () => {
  env.DUGOUT_HTTP_PORT = String(await freePort())
  services = spawnDugout(['run'], env)
  await waitForHttp(`http://127.0.0.1:${env.DUGOUT_HTTP_PORT}/readyz`, 120_000, services)
})
afterAll(async () => {
  services?.child.kill('SIGTERM')
  await services?.exited
})

describe('import --wait, then report', () => {
  it('reports everything imported as soon as import --wait returns', async () => {
    const imported = await dugout(['import', file, '--wait', '--no-progress'])
    expect(imported.output).toContain('imported 7 events')
    expect(imported.output).toContain('1 rejected')
    expect(imported.output).toContain('metrics up to date')
    expect(imported.code).toBe(0)

    const careRows = await report('manager-care')
    expect(careRows).toEqual([
      {
        manager_id: 'm1',
        rep_messages: 1,
        replied_within_24h: 1,
        reply_within_24h_share: 1,
        unanswered: 0,
        median_reply_minutes: 120,
        p90_reply_minutes: 120,
        one_on_ones: 0,
        reps_with_one_on_one: 0,
        one_on_one_coverage: 0,
        lunches: 0,
        recognitions: 0,
      },
    ])
    // The columns of docs/metrics.md, in its order (toEqual above ignores key order).
    expect(Object.keys(careRows[0]!)).toEqual(REPORT_COLUMNS['manager-care'])

    expect(await report('manager-autonomy')).toEqual([
      {
        manager_id: 'm1',
        deals_active: 1,
        deals_intervened: 1,
        intervention_rate: 1,
        takeovers: 0,
        team_wins: 0,
        rep_closed_wins: 0,
        rep_led_win_share: null,
      },
    ])
  })

  it('is safe to import again: the same events count once', async () => {
    const again = await dugout(['import', file, '--wait', '--no-progress'])
    expect(again.code).toBe(0)
    const [row] = await report('rep-volume')
    expect(row).toMatchObject({
      rep_id: 'r1',
      manager_id: 'm1',
      opportunities_created: 1,
      pipeline_created_amount: { USD: 12000 },
      opportunities_qualified: 1,
    })
  })
})
