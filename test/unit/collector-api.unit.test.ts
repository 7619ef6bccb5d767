// POST /v1/orgs/:org/events: per-org API keys, body limits, content types, and a mixed batch
// whose valid events are produced and whose invalid ones are dead-lettered with their reasons.
import Fastify from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import { registerCollectorRoutes } from '../../services/collector/collector-routes.ts'
import { DEAD_LETTER_HEADERS } from '../../services/kafka/dead-letter-headers.ts'
import { installHttpApi } from '../../services/runtime/http-api.ts'
import { collectorApp, KEYS, userEvent, WRITE_KEYS, type Harness } from '../fixtures/webhooks/collector-harness.ts'

const URL = '/v1/orgs/acme/events'

const ndjson = (...lines: unknown[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n')

let harness: Harness
afterEach(async () => {
  await harness?.app.close()
})

async function post(
  body: string,
  headers: Record<string, string> = {},
  url = URL,
): Promise<{ status: number; json: () => Record<string, unknown> }> {
  const response = await harness.app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${KEYS.acme}`, 'content-type': 'application/x-ndjson', ...headers },
    payload: body,
  })
  return { status: response.statusCode, json: () => response.json<Record<string, unknown>>() }
}

function nothingProduced() {
  expect(harness.producer.events).toEqual([])
  expect(harness.producer.deadLetters).toEqual([])
}

describe('POST /v1/orgs/:org/events', () => {
  it('produces a valid NDJSON batch keyed by org and answers 202 per event', async () => {
    harness = await collectorApp()
    const body = ndjson(userEvent('e-1'), userEvent('e-2'))
    const response = await post(body)
    expect(response.status).toBe(202)
    expect(response.json()).toEqual({
      accepted: 2,
      rejected: 0,
      results: [
        { index: 0, event_id: 'e-1', status: 'accepted' },
        { index: 1, event_id: 'e-2', status: 'accepted' },
      ],
    })
    // The bytes as sent, not a re-serialisation.
    expect(harness.producer.events).toEqual([
      { orgId: 'acme', value: JSON.stringify(userEvent('e-1')) },
      { orgId: 'acme', value: JSON.stringify(userEvent('e-2')) },
    ])
  })

  it('accepts a JSON array body, with a charset parameter', async () => {
    harness = await collectorApp()
    const response = await post(JSON.stringify([userEvent('e-1')]), {
      'content-type': 'application/json; charset=utf-8',
    })
    expect(response.status).toBe(202)
    expect(harness.producer.events.map((e) => e.orgId)).toEqual(['acme'])
  })

  it('reports every invalid event of a mixed batch with field and rule, and produces the valid ones', async () => {
    harness = await collectorApp()
    const badType = { ...userEvent('e-2'), payload: { ...userEvent('e-2').payload, role: 'boss' } }
    const otherOrg = userEvent('e-3', 'globex')
    const body = ndjson(userEvent('e-1'), badType, '{"event_id": "e-4", ', otherOrg, '', userEvent('e-5'))
    const response = await post(body)
    expect(response.status).toBe(202)
    expect(response.json()).toEqual({
      accepted: 2,
      rejected: 3,
      results: [
        { index: 0, event_id: 'e-1', status: 'accepted' },
        {
          index: 1,
          event_id: 'e-2',
          status: 'rejected',
          issues: [
            {
              path: 'payload.role',
              rule: 'enum',
              message: 'payload.role: must be one of "rep", "manager", "executive", "other"',
            },
          ],
        },
        {
          index: 2,
          status: 'rejected',
          issues: [
            { path: '(root)', rule: 'invalid_json', message: expect.stringContaining('(root): is not valid JSON') },
          ],
        },
        {
          index: 3,
          event_id: 'e-3',
          status: 'rejected',
          issues: [
            {
              path: 'org_id',
              rule: 'org_mismatch',
              message: 'org_id: must be "acme", the org of the URL, got "globex"',
            },
          ],
        },
        { index: 4, event_id: 'e-5', status: 'accepted' },
      ],
    })
    expect(harness.producer.events.map((e) => JSON.parse(String(e.value)).event_id)).toEqual(['e-1', 'e-5'])
    expect(harness.producer.deadLetters).toEqual([
      {
        raw: JSON.stringify(badType),
        reason: 'payload.role: must be one of "rep", "manager", "executive", "other" (enum)',
        source: 'api',
        orgId: 'acme',
        eventId: 'e-2',
        rules: ['enum'],
        headers: { 'dugout-index': '1' },
      },
      {
        raw: '{"event_id": "e-4", ',
        reason: expect.stringContaining('(invalid_json)'),
        source: 'api',
        orgId: 'acme',
        rules: ['invalid_json'],
        headers: { 'dugout-index': '2' },
      },
      {
        raw: JSON.stringify(otherOrg),
        reason: 'org_id: must be "acme", the org of the URL, got "globex" (org_mismatch)',
        source: 'api',
        // Filed under the authenticated org, never under the org the event claims.
        orgId: 'acme',
        eventId: 'e-3',
        rules: ['org_mismatch'],
        headers: { 'dugout-index': '3' },
      },
    ])
    expect(Object.values(DEAD_LETTER_HEADERS)).toContain('dugout-reason')
  })

  it('answers 400 with the same body when nothing is accepted, and still dead-letters', async () => {
    harness = await collectorApp()
    const response = await post(ndjson(userEvent('e-1', 'globex')))
    expect(response.status).toBe(400)
    expect(response.json()).toMatchObject({ accepted: 0, rejected: 1, results: [{ index: 0, status: 'rejected' }] })
    expect(harness.producer.events).toEqual([])
    expect(harness.producer.deadLetters).toHaveLength(1)
  })

  it.each([
    ['no Authorization header', undefined, 401],
    ['an empty Authorization header', '', 401],
    ['another scheme', `Basic ${Buffer.from('acme:x').toString('base64')}`, 401],
    ['a Bearer without token', 'Bearer ', 401],
    ['a key of another org', `Bearer ${KEYS.globex}`, 403],
    ['an unknown key', 'Bearer not-a-key-of-anyone', 403],
  ])('refuses %s with %i and produces nothing', async (_case, authorization, status) => {
    harness = await collectorApp()
    const headers: Record<string, string> = { 'content-type': 'application/x-ndjson' }
    if (authorization !== undefined) headers['authorization'] = authorization
    const response = await harness.app.inject({ method: 'POST', url: URL, headers, payload: ndjson(userEvent('e-1')) })
    expect(response.statusCode).toBe(status)
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(response.json()).toMatchObject({ status, errors: [{ parameter: 'Authorization' }] })
    if (status === 401) expect(response.headers['www-authenticate']).toBe('Bearer realm="dugout"')
    nothingProduced()
  })

  it('refuses an oversize body with 413 and produces nothing', async () => {
    harness = await collectorApp({ maxBodyBytes: 2048 })
    const body = ndjson(...Array.from({ length: 20 }, (_, i) => userEvent(`e-${i}`)))
    expect(Buffer.byteLength(body)).toBeGreaterThan(2048)
    const response = await post(body)
    expect(response.status).toBe(413)
    nothingProduced()
  })

  it.each(['text/plain', 'application/xml', 'multipart/form-data; boundary=x'])(
    'refuses content type %s with 415 and produces nothing',
    async (type) => {
      harness = await collectorApp()
      const response = await post(ndjson(userEvent('e-1')), { 'content-type': type })
      expect(response.status).toBe(415)
      nothingProduced()
    },
  )

  it('refuses a body without content type with 415', async () => {
    harness = await collectorApp()
    const response = await harness.app.inject({
      method: 'POST',
      url: URL,
      headers: { authorization: `Bearer ${KEYS.acme}` },
    })
    expect(response.statusCode).toBe(415)
    nothingProduced()
  })

  it('answers 503 when Kafka does not acknowledge, confirming nothing', async () => {
    harness = await collectorApp()
    harness.producer.fail = true
    const response = await post(ndjson(userEvent('e-1')))
    expect(response.status).toBe(503)
    expect(response.json()).toMatchObject({
      type: 'urn:dugout:problem:unavailable',
      status: 503,
      detail: expect.stringContaining('Retry the same request'),
    })
  })

  it("keeps its raw-body parsers to its own routes: other services' JSON routes still parse JSON", async () => {
    harness = await collectorApp()
    const app = Fastify()
    await installHttpApi(app, { apiKeys: WRITE_KEYS })
    app.post('/v1/reports/echo', async (request) => ({ got: request.body }))
    await registerCollectorRoutes(app, {
      producer: harness.producer,
      clock: () => new Date(),
      settings: harness.settings,
    })
    const response = await app.inject({ method: 'POST', url: '/v1/reports/echo', payload: { a: 1 } })
    expect(response.json()).toEqual({ got: { a: 1 } })
    await app.close()
  })

  it('counts events, rejections by rule and latency by route at /metrics', async () => {
    harness = await collectorApp()
    await post(ndjson(userEvent('e-1'), userEvent('e-2', 'globex'), '{'))
    await harness.app.inject({ method: 'POST', url: URL, payload: '' })
    const text = (await harness.app.inject({ method: 'GET', url: '/metrics' })).body
    expect(text).toContain('dugout_collector_events_total{outcome="accepted",source="api"} 1')
    expect(text).toContain('dugout_collector_events_total{outcome="rejected",source="api"} 2')
    expect(text).toContain('dugout_collector_rejections_total{rule="org_mismatch"} 1')
    expect(text).toContain('dugout_collector_rejections_total{rule="invalid_json"} 1')
    expect(text).toContain('dugout_collector_auth_failures_total{source="api",reason="missing"} 1')
    expect(text).toContain(
      'dugout_collector_request_duration_seconds_count{route="/v1/orgs/:org/events",method="POST",status_code="202"} 1',
    )
    expect(text).toContain(
      'dugout_collector_request_duration_seconds_count{route="/v1/orgs/:org/events",method="POST",status_code="401"} 1',
    )
  })
})
