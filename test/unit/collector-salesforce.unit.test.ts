// POST /v1/webhooks/salesforce/:org: Change Data Capture messages relayed by a bridge that signs
// timestamp.org.body. Recorded messages map to exactly the expected events, one per record; GAP events
// become resync dead letters; replays keep their ids.
import { afterEach, describe, expect, it } from 'vitest'
import { CrmEvent } from '../../schemas/events.schema.ts'
import { defaultLimits } from '../../schemas/event-validation.ts'
import { mapSalesforceDelivery } from '../../services/collector/salesforce-mapper.ts'
import { BRIDGE_MAX_AGE_MS, signBridge } from '../../services/collector/webhook-signatures.ts'
import {
  collectorApp,
  fixtureText,
  mappings,
  NOW,
  producedEvents,
  SECRETS,
  type Harness,
} from '../fixtures/webhooks/collector-harness.ts'

const OPPORTUNITY_UPDATE = fixtureText('salesforce-opportunity-update.json')
const USER_MANAGER_CHANGE = fixtureText('salesforce-user-manager-change.json')
const PATH = '/v1/webhooks/salesforce/acme'

const EXPECTED_STAGE_CHANGES = [
  {
    event_id: 'salesforce:3dd35e5a51072890360cf8dfbc4c82f6ebb49a56',
    org_id: 'acme',
    type: 'opportunity.stage_changed',
    schema_version: 1,
    occurred_at: '2026-03-02T10:02:00.000Z',
    source: { system: 'salesforce', ref: '0065g00000Kx1AbAAJ' },
    payload: {
      opportunity_id: '0065g00000Kx1AbAAJ',
      from_stage: null,
      to_stage: 'Negotiation/Review',
      to_category: 'negotiation',
      changed_by: 'm1',
    },
  },
  {
    event_id: 'salesforce:f0449e93182a42a7d3099c0ec19263c2883fe9b3',
    org_id: 'acme',
    type: 'opportunity.stage_changed',
    schema_version: 1,
    occurred_at: '2026-03-02T10:02:00.000Z',
    source: { system: 'salesforce', ref: '0065g00000Kx1AcAAJ' },
    payload: {
      opportunity_id: '0065g00000Kx1AcAAJ',
      from_stage: null,
      to_stage: 'Negotiation/Review',
      to_category: 'negotiation',
      changed_by: 'm1',
    },
  },
]

const EXPECTED_USER = {
  event_id: 'salesforce:bb8ea4d399e9fa18e0d107cf708d82a092267207',
  org_id: 'acme',
  type: 'user.upserted',
  schema_version: 1,
  occurred_at: '2026-03-02T09:30:00.000Z',
  source: { system: 'salesforce', ref: '0055g00000RoryRAAS' },
  payload: {
    user_id: 'r1',
    display_name: 'Rory Rep',
    email: 'rory@acme.test',
    role: 'rep',
    manager_id: 'm1',
    active: true,
    timezone: 'Europe/London',
  },
}

let harness: Harness
afterEach(async () => {
  await harness?.app.close()
})

async function deliver(body: string, headers: Record<string, string> = {}, path = PATH) {
  return harness.app.inject({
    method: 'POST',
    url: path,
    headers: {
      'content-type': 'application/json',
      ...signBridge('acme', body, SECRETS.salesforce.acme, NOW),
      ...headers,
    },
    payload: body,
  })
}

function nothingProduced() {
  expect(harness.producer.events).toEqual([])
  expect(harness.producer.deadLetters).toEqual([])
}

/** A CDC message around a header and fields, as the bridge relays it. */
function cdc(header: Record<string, unknown>, fields: Record<string, unknown> = {}) {
  return {
    data: {
      schema: 'x',
      payload: {
        ChangeEventHeader: {
          entityName: 'Opportunity',
          recordIds: ['0065g00000Kx1AbAAJ'],
          changeType: 'UPDATE',
          changeOrigin: 'com/salesforce/api/soap/61.0;client=SfdcInternalAPI/',
          transactionKey: '0007aa00-0000-4000-8000-000000000001',
          sequenceNumber: 1,
          commitTimestamp: NOW.getTime() - 120_000,
          commitNumber: 1,
          commitUser: '0055g00000RoryRAAS',
          nulledFields: [],
          diffFields: [],
          changedFields: [],
          ...header,
        },
        ...fields,
      },
      event: { replayId: 1 },
    },
    channel: '/data/ChangeEvents',
  }
}

describe('POST /v1/webhooks/salesforce/:org', () => {
  it('fans a multi-record Opportunity stage change out to one event per record', async () => {
    harness = await collectorApp()
    const response = await deliver(OPPORTUNITY_UPDATE)
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ accepted: 2, rejected: 0, duplicates: 0 })
    expect(producedEvents(harness.producer)).toEqual(EXPECTED_STAGE_CHANGES)
    for (const event of EXPECTED_STAGE_CHANGES) expect(CrmEvent.safeParse(event).success).toBe(true)
    expect(harness.producer.deadLetters).toEqual([])
  })

  it('maps a User manager change (with enriched fields) to user.upserted', async () => {
    harness = await collectorApp()
    const response = await deliver(USER_MANAGER_CHANGE)
    expect(response.statusCode).toBe(200)
    expect(producedEvents(harness.producer)).toEqual([EXPECTED_USER])
    expect(CrmEvent.safeParse(EXPECTED_USER).success).toBe(true)
  })

  it('gives the same event ids when the same messages are replayed, and collapses repeats within a delivery', async () => {
    harness = await collectorApp()
    const both = `[${OPPORTUNITY_UPDATE},${USER_MANAGER_CHANGE}]`
    await deliver(both)
    const replay = await deliver(`[${OPPORTUNITY_UPDATE},${USER_MANAGER_CHANGE},${USER_MANAGER_CHANGE}]`)
    expect(replay.json()).toEqual({ accepted: 3, rejected: 0, duplicates: 1 })
    expect(harness.producer.events.slice(3)).toEqual(harness.producer.events.slice(0, 3))
  })

  const signed = (body: string, at = NOW, secret = SECRETS.salesforce.acme, org = 'acme') =>
    signBridge(org, body, secret, at)
  const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000)

  it.each([
    ['no signature', { 'x-dugout-signature': undefined }],
    ['no timestamp', { 'x-dugout-timestamp': undefined }],
    ['a malformed signature', { 'x-dugout-signature': 'md5=abc' }],
    ['a malformed timestamp', { 'x-dugout-timestamp': '2026-03-02T10:05:00Z' }],
    ['a signature with another secret', signed(OPPORTUNITY_UPDATE, NOW, 'guess-'.repeat(8))],
    ['a signature of another body', signed('{}')],
    ['a signature for another org', signed(OPPORTUNITY_UPDATE, NOW, SECRETS.salesforce.acme, 'globex')],
    ['a timestamp changed after signing', { 'x-dugout-timestamp': String(Math.floor(NOW.getTime() / 1000) + 1) }],
    ['a delivery signed more than 5 minutes ago', signed(OPPORTUNITY_UPDATE, minutes(-5.1))],
    ['a delivery signed more than 5 minutes ahead', signed(OPPORTUNITY_UPDATE, minutes(5.1))],
  ])('refuses %s with 401 and produces nothing', async (_case, override) => {
    harness = await collectorApp()
    const headers = Object.fromEntries(
      Object.entries({ 'content-type': 'application/json', ...signed(OPPORTUNITY_UPDATE), ...override }).filter(
        ([, v]) => v !== undefined,
      ),
    ) as Record<string, string>
    const response = await harness.app.inject({ method: 'POST', url: PATH, headers, payload: OPPORTUNITY_UPDATE })
    expect(response.statusCode).toBe(401)
    nothingProduced()
  })

  it('refuses a captured delivery replayed after 5 minutes with 401 (stale), having accepted it once', async () => {
    let now = NOW
    harness = await collectorApp({}, () => now)
    const captured = signed(OPPORTUNITY_UPDATE)
    const send = () =>
      harness.app.inject({
        method: 'POST',
        url: PATH,
        headers: { 'content-type': 'application/json', ...captured },
        payload: OPPORTUNITY_UPDATE,
      })
    expect((await send()).statusCode).toBe(200)
    now = new Date(NOW.getTime() + BRIDGE_MAX_AGE_MS - 1000)
    expect((await send()).statusCode).toBe(200)
    now = new Date(NOW.getTime() + BRIDGE_MAX_AGE_MS + 1000)
    const replay = await send()
    expect(replay.statusCode).toBe(401)
    expect(replay.json()).toMatchObject({ status: 401, detail: 'signature refused (stale)' })
    expect(harness.producer.events).toHaveLength(4)
    const failures = await harness.metrics.authFailures.get()
    expect(failures.values).toEqual([
      expect.objectContaining({ labels: { source: 'salesforce', reason: 'stale' }, value: 1 }),
    ])
  })

  it('refuses an org without a Salesforce secret (wrong org) with 401', async () => {
    harness = await collectorApp()
    const response = await deliver(OPPORTUNITY_UPDATE, {}, '/v1/webhooks/salesforce/globex')
    expect(response.statusCode).toBe(401)
    nothingProduced()
  })

  it('refuses an oversize body with 413 and a wrong content type with 415', async () => {
    harness = await collectorApp({ maxBodyBytes: 512 })
    expect(Buffer.byteLength(OPPORTUNITY_UPDATE)).toBeGreaterThan(512)
    expect((await deliver(OPPORTUNITY_UPDATE)).statusCode).toBe(413)
    await harness.app.close()
    harness = await collectorApp()
    expect((await deliver(OPPORTUNITY_UPDATE, { 'content-type': 'text/plain' })).statusCode).toBe(415)
    nothingProduced()
  })

  it('dead-letters a signed body that is not JSON, whole, and answers 400', async () => {
    harness = await collectorApp()
    const response = await deliver('{"data": ')
    expect(response.statusCode).toBe(400)
    expect(harness.producer.events).toEqual([])
    expect(harness.producer.deadLetters).toEqual([
      expect.objectContaining({ raw: Buffer.from('{"data": '), source: 'webhook:salesforce', orgId: 'acme' }),
    ])
  })

  it('records GAP events as resync dead letters with the entity and record ids, and counts them', async () => {
    harness = await collectorApp()
    const gap = cdc({
      changeType: 'GAP_UPDATE',
      recordIds: ['0065g00000Kx1AbAAJ', '0065g00000Kx1AcAAJ'],
      changedFields: [],
    })
    const overflow = cdc({ entityName: 'Task', changeType: 'GAP_OVERFLOW', recordIds: [], sequenceNumber: 2 })
    const body = JSON.stringify([gap, overflow])
    const response = await deliver(body)
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ accepted: 0, rejected: 2, duplicates: 0 })
    expect(harness.producer.events).toEqual([])
    expect(harness.producer.deadLetters).toEqual([
      {
        raw: JSON.stringify(gap),
        reason:
          'ChangeEventHeader.changeType: Salesforce sent GAP_UPDATE for Opportunity 0065g00000Kx1AbAAJ, 0065g00000Kx1AcAAJ: the change itself is lost; read these records again (resync_required)',
        source: 'webhook:salesforce',
        orgId: 'acme',
        rules: ['resync_required'],
        headers: {
          'dugout-resync-entity': 'Opportunity',
          'dugout-resync-record-ids': '0065g00000Kx1AbAAJ,0065g00000Kx1AcAAJ',
          'dugout-resync-change-type': 'GAP_UPDATE',
        },
      },
      {
        raw: JSON.stringify(overflow),
        reason: expect.stringContaining('GAP_OVERFLOW for Task records of the transaction'),
        source: 'webhook:salesforce',
        orgId: 'acme',
        rules: ['resync_required'],
        headers: {
          'dugout-resync-entity': 'Task',
          'dugout-resync-record-ids': '',
          'dugout-resync-change-type': 'GAP_OVERFLOW',
        },
      },
    ])
    const metrics = (await harness.app.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toContain('dugout_collector_resync_required_total{source="salesforce",entity="Opportunity"} 1')
    expect(metrics).toContain('dugout_collector_resync_required_total{source="salesforce",entity="Task"} 1')
    expect(metrics).toContain('dugout_collector_rejections_total{rule="resync_required"} 2')
    expect(metrics).toContain('dugout_collector_events_total{outcome="rejected",source="salesforce"} 2')
  })
})

describe('mapSalesforceDelivery', () => {
  const acme = { org: 'acme', mapping: mappings.orgs['acme']!.salesforce, limits: defaultLimits(NOW) }
  const events = (messages: unknown[]) =>
    mapSalesforceDelivery(messages, acme).outcomes.map((o) =>
      o.kind === 'event'
        ? { type: o.event.type, payload: o.event.payload }
        : { dead: o.issues.map((i) => `${i.path} ${i.rule}`) },
    )

  it('creates an opportunity with owner, account, amount and category', () => {
    const created = cdc(
      { changeType: 'CREATE', recordIds: ['0065g00000Kx1AdAAJ'] },
      {
        Name: 'Initech - renewal',
        AccountId: '0015g00000Ac1AbAAJ',
        OwnerId: '0055g00000RitaRAAS',
        StageName: 'Qualification',
        Amount: 48000,
        IsClosed: false,
        IsWon: false,
      },
    )
    expect(events([created])).toEqual([
      {
        type: 'opportunity.created',
        payload: {
          opportunity_id: '0065g00000Kx1AdAAJ',
          account_id: '0015g00000Ac1AbAAJ',
          owner_id: 'r2',
          name: 'Initech - renewal',
          amount: 48000,
          currency: 'USD',
          stage: 'Qualification',
          stage_category: 'qualified',
        },
      },
    ])
  })

  it('splits an update of stage, owner and other fields into one event each', () => {
    const update = cdc(
      {
        changedFields: ['StageName', 'OwnerId', 'CloseDate', 'NextStep', 'LastModifiedDate', 'Probability'],
        commitUser: '0055g00000MayaMAAS',
      },
      {
        StageName: 'Proposal/Price Quote',
        OwnerId: '0055g00000MayaMAAS',
        CloseDate: '2026-04-30',
        NextStep: 'Send quote',
        Probability: 75,
      },
    )
    expect(events([update])).toEqual([
      {
        type: 'opportunity.stage_changed',
        payload: {
          opportunity_id: '0065g00000Kx1AbAAJ',
          from_stage: null,
          to_stage: 'Proposal/Price Quote',
          to_category: 'proposal',
          changed_by: 'm1',
        },
      },
      {
        type: 'opportunity.owner_changed',
        payload: { opportunity_id: '0065g00000Kx1AbAAJ', from_owner: 'unknown', to_owner: 'm1', changed_by: 'm1' },
      },
      {
        type: 'opportunity.updated',
        payload: { opportunity_id: '0065g00000Kx1AbAAJ', changed_by: 'm1', fields: ['CloseDate', 'NextStep'] },
      },
    ])
  })

  it('closes an opportunity moved into a closing stage, with its amount', () => {
    const won = cdc(
      { changedFields: ['StageName', 'IsClosed', 'IsWon', 'Amount'] },
      { StageName: 'Closed Won', IsClosed: true, IsWon: true, Amount: 51000 },
    )
    expect(events([won])).toEqual([
      {
        type: 'opportunity.closed',
        payload: {
          opportunity_id: '0065g00000Kx1AbAAJ',
          outcome: 'won',
          amount: 51000,
          currency: 'USD',
          closed_by: 'r1',
        },
      },
      {
        type: 'opportunity.updated',
        payload: { opportunity_id: '0065g00000Kx1AbAAJ', changed_by: 'r1', fields: ['Amount'] },
      },
    ])
  })

  it('logs a task call and a meeting with the invitees of the same delivery', () => {
    const call = cdc(
      { entityName: 'Task', changeType: 'CREATE', recordIds: ['00T5g00000Ta1AbAAJ'] },
      {
        OwnerId: '0055g00000RoryRAAS',
        TaskSubtype: 'Call',
        WhoId: '0035g00000Co1AbAAJ',
        WhatId: '0065g00000Kx1AbAAJ',
        AccountId: '0015g00000Ac1AbAAJ',
        CallDurationInSeconds: 540,
      },
    )
    const meeting = cdc(
      { entityName: 'Event', changeType: 'CREATE', recordIds: ['00U5g00000Ev1AbAAJ'], sequenceNumber: 2 },
      {
        OwnerId: '0055g00000RoryRAAS',
        WhoId: '0035g00000Co1AbAAJ',
        WhatId: '0065g00000Kx1AbAAJ',
        DurationInMinutes: 30,
      },
    )
    const invitee = (relationId: string, n: number) =>
      cdc(
        {
          entityName: 'EventRelation',
          changeType: 'CREATE',
          recordIds: [`0RE5g00000Re${n}AbAAJ`],
          sequenceNumber: 2 + n,
        },
        { EventId: '00U5g00000Ev1AbAAJ', RelationId: relationId, IsInvitee: true, IsWhat: false },
      )
    const lateInvitee = cdc(
      { entityName: 'EventRelation', changeType: 'CREATE', recordIds: ['0RE5g00000Re9AbAAJ'], sequenceNumber: 9 },
      { EventId: '00U5g00000Ev2AbAAJ', RelationId: '0055g00000MayaMAAS', IsInvitee: true, IsWhat: false },
    )
    expect(
      events([call, meeting, invitee('0055g00000MayaMAAS', 1), invitee('0035g00000Co2AbAAJ', 2), lateInvitee]),
    ).toEqual([
      {
        type: 'activity.logged',
        payload: {
          activity_id: '00T5g00000Ta1AbAAJ',
          kind: 'call',
          owner_id: 'r1',
          participant_ids: [],
          contact_ids: ['0035g00000Co1AbAAJ'],
          account_id: '0015g00000Ac1AbAAJ',
          opportunity_id: '0065g00000Kx1AbAAJ',
          duration_seconds: 540,
        },
      },
      {
        type: 'activity.logged',
        payload: {
          activity_id: '00U5g00000Ev1AbAAJ',
          kind: 'meeting',
          owner_id: 'r1',
          participant_ids: ['m1'],
          contact_ids: ['0035g00000Co1AbAAJ', '0035g00000Co2AbAAJ'],
          opportunity_id: '0065g00000Kx1AbAAJ',
          duration_seconds: 1800,
        },
      },
      { dead: ['ChangeEventHeader not_mapped'] },
    ])
  })

  it('dead-letters what it cannot map, naming the field and the rule', () => {
    const user = JSON.parse(USER_MANAGER_CHANGE) as ReturnType<typeof cdc>
    const payload = user.data.payload as Record<string, unknown>
    const { Name: _name, ...withoutName } = payload
    expect(
      events([
        cdc({ changedFields: ['StageName'] }, { StageName: 'Lost in space' }),
        cdc({ changedFields: ['OwnerId'], sequenceNumber: 2 }, { OwnerId: '0055g00000NobodyAAS' }),
        cdc({ changeType: 'DELETE', sequenceNumber: 3 }),
        { ...user, data: { ...user.data, payload: withoutName } },
        { data: { payload: { ChangeEventHeader: { entityName: 'Opportunity' } } } },
      ]),
    ).toEqual([
      { dead: ['StageName unmapped_stage'] },
      { dead: ['OwnerId unmapped_user'] },
      { dead: ['ChangeEventHeader not_mapped'] },
      { dead: ['Name missing_field'] },
      {
        dead: [
          'data.payload.ChangeEventHeader.recordIds required',
          'data.payload.ChangeEventHeader.changeType required',
          'data.payload.ChangeEventHeader.transactionKey required',
          'data.payload.ChangeEventHeader.sequenceNumber required',
          'data.payload.ChangeEventHeader.commitTimestamp required',
          'data.payload.ChangeEventHeader.commitUser required',
        ],
      },
    ])
  })

  it('attributes a change by an unmapped user to the integration user, else dead-letters it', () => {
    const byAutomation = cdc({ changedFields: ['Amount'], commitUser: '0055g00000NobodyAAS' }, { Amount: 1 })
    expect(events([byAutomation])).toEqual([
      {
        type: 'opportunity.updated',
        payload: { opportunity_id: '0065g00000Kx1AbAAJ', changed_by: 'salesforce-integration', fields: ['Amount'] },
      },
    ])
    const strict = { ...acme, mapping: { ...acme.mapping!, integrationUserId: undefined } }
    expect(mapSalesforceDelivery([byAutomation], strict).outcomes).toEqual([
      expect.objectContaining({
        kind: 'dead',
        issues: [expect.objectContaining({ path: 'ChangeEventHeader.commitUser', rule: 'unmapped_user' })],
      }),
    ])
  })

  it('dead-letters every message of an org without a Salesforce mapping', () => {
    const { outcomes } = mapSalesforceDelivery([JSON.parse(OPPORTUNITY_UPDATE)], {
      ...acme,
      org: 'globex',
      mapping: undefined,
    })
    expect(outcomes).toEqual([
      expect.objectContaining({ kind: 'dead', issues: [expect.objectContaining({ rule: 'no_mapping' })] }),
    ])
  })
})
