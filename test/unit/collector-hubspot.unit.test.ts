// POST /v1/webhooks/hubspot/:org: v3 signatures checked on the raw body against an injected
// clock, a recorded delivery mapped to exactly the expected canonical events, stable ids across
// retries, and every item that cannot be mapped dead-lettered with its reason.
import { afterEach, describe, expect, it } from 'vitest'
import { CrmEvent } from '../../schemas/events.schema.ts'
import { defaultLimits } from '../../schemas/event-validation.ts'
import { mapHubSpotDelivery } from '../../services/collector/hubspot-mapper.ts'
import { hubSpotSignedUri, signHubSpot, verifyHubSpotSignature } from '../../services/collector/webhook-signatures.ts'
import {
  collectorApp,
  fixtureText,
  mappings,
  NOW,
  producedEvents,
  PUBLIC_URL,
  SECRETS,
  type Harness,
} from '../fixtures/webhooks/collector-harness.ts'

const DELIVERY = fixtureText('hubspot-deal-delivery.json')
const PATH = '/v1/webhooks/hubspot/acme'

/** What the recorded delivery must produce, written out by hand. */
const EXPECTED = [
  {
    // The creation, with the stage, owner, amount and name HubSpot sent as property changes of
    // the new deal in the same delivery (items 1-4, which are folded, not produced).
    event_id: 'hubspot:2718ef17b45b1b4e23b2cdcad8358fe7f6c5d0ee',
    org_id: 'acme',
    type: 'opportunity.created',
    schema_version: 1,
    occurred_at: '2026-03-02T10:00:00.000Z',
    source: { system: 'hubspot', ref: '18274663451' },
    payload: {
      opportunity_id: '18274663451',
      account_id: 'unassigned',
      owner_id: 'r1',
      name: 'Initech - 40 seats',
      amount: 12000,
      currency: 'USD',
      stage: 'Qualified to buy',
      stage_category: 'qualified',
    },
  },
  {
    // Item 5; item 7 is its retry (attemptNumber 1) and collapses into it.
    event_id: 'hubspot:147546efe28fbede7925f0706b68e9b30403cb57',
    org_id: 'acme',
    type: 'opportunity.stage_changed',
    schema_version: 1,
    occurred_at: '2026-03-02T10:01:00.000Z',
    source: { system: 'hubspot', ref: '18270000017' },
    payload: {
      opportunity_id: '18270000017',
      from_stage: null,
      to_stage: 'Presentation scheduled',
      to_category: 'proposal',
      changed_by: 'r2',
    },
  },
  {
    event_id: 'hubspot:1e56f7024bc6f30ad9980e31345208a46c962efa',
    org_id: 'acme',
    type: 'opportunity.owner_changed',
    schema_version: 1,
    occurred_at: '2026-03-02T10:01:30.000Z',
    source: { system: 'hubspot', ref: '18270000017' },
    payload: { opportunity_id: '18270000017', from_owner: 'unknown', to_owner: 'm1', changed_by: 'm1' },
  },
  {
    event_id: 'hubspot:f378c297f827d30fc7f96e9b665433e5c283c90b',
    org_id: 'acme',
    type: 'opportunity.updated',
    schema_version: 1,
    occurred_at: '2026-03-02T10:02:00.000Z',
    source: { system: 'hubspot', ref: '18270000017' },
    payload: { opportunity_id: '18270000017', changed_by: 'r2', fields: ['amount'] },
  },
  {
    // A workflow moved it: no HubSpot user, so the integration user closed it.
    event_id: 'hubspot:116c1b167abdb0a6fb7ae15e910142422d28dd76',
    org_id: 'acme',
    type: 'opportunity.closed',
    schema_version: 1,
    occurred_at: '2026-03-02T10:02:30.000Z',
    source: { system: 'hubspot', ref: '18269990003' },
    payload: { opportunity_id: '18269990003', outcome: 'won', closed_by: 'hubspot-integration' },
  },
]

let harness: Harness
afterEach(async () => {
  await harness?.app.close()
})

function signedHeaders(body: string, options: { at?: number; secret?: string; path?: string } = {}) {
  const timestamp = String(options.at ?? NOW.getTime() - 30_000)
  const uri = `${PUBLIC_URL}${options.path ?? PATH}`
  return {
    'content-type': 'application/json',
    'x-hubspot-signature-v3': signHubSpot('POST', uri, body, timestamp, options.secret ?? SECRETS.hubspot.acme),
    'x-hubspot-request-timestamp': timestamp,
  }
}

async function deliver(body: string, headers: Record<string, string> = signedHeaders(body), path = PATH) {
  return harness.app.inject({ method: 'POST', url: path, headers, payload: body })
}

function nothingProduced() {
  expect(harness.producer.events).toEqual([])
  expect(harness.producer.deadLetters).toEqual([])
}

describe('POST /v1/webhooks/hubspot/:org', () => {
  it('maps the recorded delivery to exactly the expected canonical events', async () => {
    harness = await collectorApp()
    const response = await deliver(DELIVERY)
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ accepted: 5, rejected: 0, duplicates: 1 })
    expect(producedEvents(harness.producer)).toEqual(EXPECTED)
    expect(harness.producer.events.every((e) => e.orgId === 'acme')).toBe(true)
    for (const event of EXPECTED) expect(CrmEvent.safeParse(event).success).toBe(true)
    expect(harness.producer.deadLetters).toEqual([])
  })

  it('gives the same event ids when the same delivery comes twice (HubSpot retries)', async () => {
    harness = await collectorApp()
    const retried = JSON.stringify(
      (JSON.parse(DELIVERY) as Record<string, unknown>[]).map((item) => ({ ...item, attemptNumber: 3 })),
    )
    await deliver(DELIVERY)
    await deliver(retried)
    const ids = producedEvents(harness.producer).map((e) => (e as { event_id: string }).event_id)
    expect(ids.slice(5)).toEqual(ids.slice(0, 5))
    // Same ids and the same bytes: ingest sees redeliveries, not conflicts.
    expect(harness.producer.events.slice(5)).toEqual(harness.producer.events.slice(0, 5))
  })

  it.each([
    [
      'a wrong signature',
      () => ({
        ...signedHeaders(DELIVERY),
        'x-hubspot-signature-v3': signHubSpot(
          'POST',
          `${PUBLIC_URL}${PATH}`,
          DELIVERY,
          String(NOW.getTime()),
          'not-the-secret',
        ),
      }),
    ],
    ['a signature of another body', () => signedHeaders('[]')],
    ['a signature for another org', () => signedHeaders(DELIVERY, { secret: SECRETS.hubspot.globex })],
    ['a signature of another URL', () => signedHeaders(DELIVERY, { path: '/v1/webhooks/hubspot/globex' })],
    ['a timestamp older than 5 minutes', () => signedHeaders(DELIVERY, { at: NOW.getTime() - 5 * 60_000 - 1 })],
    ['a timestamp more than 5 minutes ahead', () => signedHeaders(DELIVERY, { at: NOW.getTime() + 5 * 60_000 + 1 })],
    [
      'no signature',
      () => ({ 'content-type': 'application/json', 'x-hubspot-request-timestamp': String(NOW.getTime()) }),
    ],
    ['a malformed timestamp', () => ({ ...signedHeaders(DELIVERY), 'x-hubspot-request-timestamp': 'yesterday' })],
  ])('refuses %s with 401 and produces nothing', async (_case, headers) => {
    harness = await collectorApp()
    const response = await deliver(DELIVERY, headers())
    expect(response.statusCode).toBe(401)
    nothingProduced()
  })

  it('refuses an org without a HubSpot secret with 401', async () => {
    harness = await collectorApp()
    const path = '/v1/webhooks/hubspot/initech'
    const response = await deliver(DELIVERY, signedHeaders(DELIVERY, { path }), path)
    expect(response.statusCode).toBe(401)
    // Told apart from a wrong signature in metrics only: answers do not reveal configured orgs.
    expect(response.json()).toMatchObject({ status: 401, detail: 'HubSpot signature refused (mismatch)' })
    nothingProduced()
  })

  it('refuses an oversize body with 413 and produces nothing', async () => {
    harness = await collectorApp({ maxBodyBytes: 2048 })
    expect((await deliver(DELIVERY)).statusCode).toBe(413)
    nothingProduced()
  })

  it.each(['application/x-ndjson', 'text/plain'])(
    'refuses content type %s with 415 and produces nothing',
    async (type) => {
      harness = await collectorApp()
      const response = await deliver(DELIVERY, { ...signedHeaders(DELIVERY), 'content-type': type })
      expect(response.statusCode).toBe(415)
      nothingProduced()
    },
  )

  it('answers 503 when Kafka does not acknowledge, so that HubSpot retries the delivery', async () => {
    harness = await collectorApp()
    harness.producer.fail = true
    expect((await deliver(DELIVERY)).statusCode).toBe(503)
  })

  it('dead-letters items of another portal (wrong org), producing nothing for them', async () => {
    harness = await collectorApp()
    const items = (JSON.parse(DELIVERY) as Record<string, unknown>[])
      .slice(5, 6)
      .map((i) => ({ ...i, portalId: 90210 }))
    const body = JSON.stringify(items)
    const response = await deliver(body)
    expect(response.statusCode).toBe(200)
    expect(harness.producer.events).toEqual([])
    expect(harness.producer.deadLetters).toEqual([
      {
        raw: JSON.stringify(items[0]),
        reason: 'portalId: is portal 90210, but org "acme" is portal 62515 (org_mismatch)',
        source: 'webhook:hubspot',
        orgId: 'acme',
        eventId: 'hubspot:147546efe28fbede7925f0706b68e9b30403cb57',
        rules: ['org_mismatch'],
        headers: {},
      },
    ])
  })

  it('checks the signature over the URI HubSpot signed, query and decoded escapes included', () => {
    const uri = hubSpotSignedUri(PUBLIC_URL, '/v1/webhooks/hubspot/acme?tag=a%3Ab%2Cc&x=%20')
    expect(uri).toBe(`${PUBLIC_URL}/v1/webhooks/hubspot/acme?tag=a:b,c&x=%20`)
    const body = Buffer.from('[]')
    const timestamp = String(NOW.getTime())
    const signature = signHubSpot('POST', uri, body, timestamp, 'secret')
    expect(verifyHubSpotSignature({ method: 'POST', uri, body, signature, timestamp }, 'secret', NOW)).toEqual({
      ok: true,
    })
    expect(
      verifyHubSpotSignature({ method: 'POST', uri: `${uri}&y=1`, body, signature, timestamp }, 'secret', NOW),
    ).toEqual({ ok: false, reason: 'mismatch' })
  })
})

describe('mapHubSpotDelivery', () => {
  const limits = defaultLimits(NOW)
  const acme = { org: 'acme', mapping: mappings.orgs['acme']!.hubspot, limits }
  const item = (over: Record<string, unknown>) => ({
    eventId: 100,
    subscriptionId: 1,
    portalId: 62515,
    appId: 1160452,
    occurredAt: NOW.getTime() - 60_000,
    subscriptionType: 'deal.propertyChange',
    attemptNumber: 0,
    objectId: 555,
    changeSource: 'CRM_UI',
    sourceId: 'userId:7731101',
    ...over,
  })

  it('dead-letters what it cannot map, with the field and the rule, never dropping it', () => {
    const { outcomes } = mapHubSpotDelivery(
      [
        item({ propertyName: 'dealstage', propertyValue: '99887766' }),
        item({ eventId: 101, propertyName: 'hubspot_owner_id', propertyValue: '404' }),
        item({ eventId: 102, subscriptionType: 'deal.deletion' }),
        item({ eventId: 103, propertyName: 'amount', propertyValue: '10', sourceId: 'userId:1' }),
        { eventId: 104, subscriptionType: 'deal.creation' },
      ],
      { ...acme, mapping: { ...acme.mapping!, integrationUserId: undefined } },
    )
    expect(outcomes.map((o) => (o.kind === 'dead' ? o.issues.map((i) => `${i.path} ${i.rule}`) : o.kind))).toEqual([
      ['propertyValue unmapped_stage'],
      ['propertyValue unmapped_owner'],
      ['subscriptionType not_mapped'],
      ['sourceId unmapped_user'],
      ['portalId required', 'occurredAt required', 'attemptNumber required', 'objectId required'],
    ])
  })

  it('dead-letters a whole delivery for an org without a HubSpot mapping', () => {
    const { outcomes } = mapHubSpotDelivery([item({ propertyName: 'amount', propertyValue: '1' })], {
      org: 'initech',
      mapping: undefined,
      limits,
    })
    expect(outcomes).toEqual([
      expect.objectContaining({ kind: 'dead', issues: [expect.objectContaining({ rule: 'no_mapping' })] }),
    ])
  })

  it('creates a deal without initial values in the default stage, owned by nobody mapped: dead-lettered', () => {
    const creation = item({ subscriptionType: 'deal.creation', eventId: 200, objectId: 777 })
    const [outcome] = mapHubSpotDelivery([creation], acme).outcomes
    expect(outcome).toMatchObject({
      kind: 'dead',
      issues: [{ path: 'hubspot_owner_id', rule: 'unmapped_owner' }],
      raw: JSON.stringify(creation),
    })
    const withDefault = { ...acme, mapping: { ...acme.mapping!, defaultOwnerId: 'r2' } }
    const [created] = mapHubSpotDelivery([creation], withDefault).outcomes
    expect(created).toMatchObject({
      kind: 'event',
      event: {
        type: 'opportunity.created',
        payload: { owner_id: 'r2', stage: 'Appointment scheduled', stage_category: 'prospecting' },
      },
    })
  })

  it('creates a deal created directly in a closing stage in the default stage, then closes it', () => {
    const base = { objectId: 888, occurredAt: NOW.getTime() - 60_000 }
    const { outcomes } = mapHubSpotDelivery(
      [
        item({ ...base, subscriptionType: 'deal.creation', eventId: 300 }),
        item({ ...base, eventId: 301, propertyName: 'dealstage', propertyValue: 'closedlost' }),
        item({ ...base, eventId: 302, propertyName: 'hubspot_owner_id', propertyValue: '512334772' }),
      ],
      acme,
    )
    expect(outcomes.map((o) => (o.kind === 'event' ? [o.event.type, o.event.payload] : o.issues))).toEqual([
      [
        'opportunity.created',
        {
          opportunity_id: '888',
          account_id: 'unassigned',
          owner_id: 'r2',
          stage: 'Appointment scheduled',
          stage_category: 'prospecting',
        },
      ],
      ['opportunity.closed', { opportunity_id: '888', outcome: 'lost', closed_by: 'r1' }],
    ])
  })

  it('logs a call created with its owner and duration as activity.logged', () => {
    const base = { objectId: 4242, objectTypeId: '0-48', occurredAt: NOW.getTime() - 60_000 }
    const { outcomes } = mapHubSpotDelivery(
      [
        item({ ...base, subscriptionType: 'object.creation', eventId: 400 }),
        item({
          ...base,
          subscriptionType: 'object.propertyChange',
          eventId: 401,
          propertyName: 'hubspot_owner_id',
          propertyValue: '512334771',
        }),
        item({
          ...base,
          subscriptionType: 'object.propertyChange',
          eventId: 402,
          propertyName: 'hs_call_duration',
          propertyValue: '95400',
        }),
      ],
      acme,
    )
    expect(outcomes).toHaveLength(1)
    expect(outcomes[0]).toMatchObject({
      kind: 'event',
      event: {
        type: 'activity.logged',
        source: { system: 'hubspot', ref: '4242' },
        payload: {
          activity_id: '4242',
          kind: 'call',
          owner_id: 'r1',
          participant_ids: [],
          contact_ids: [],
          duration_seconds: 95,
        },
      },
    })
  })

  it('dead-letters a mapped event the contract refuses (an occurredAt far in the past)', () => {
    const [outcome] = mapHubSpotDelivery(
      [item({ occurredAt: Date.parse('1999-12-31T00:00:00Z'), propertyName: 'amount', propertyValue: '5' })],
      acme,
    ).outcomes
    expect(outcome).toMatchObject({ kind: 'dead', issues: [{ path: 'occurred_at', rule: 'timestamp_out_of_range' }] })
  })
})
