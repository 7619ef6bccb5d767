// Who may call what (DESIGN "Who may see what"), through the HTTP API of the real server: every
// route under /v1/orgs/:org/ needs a key of its org with its right, nothing is open when nothing
// is configured, bad parameters are 400 problem+json before any query runs, and the OpenAPI
// document validates and lists every route.
import { Validator } from '@seriousme/openapi-schema-validator'
import Fastify, { type FastifyInstance } from 'fastify'
import pino from 'pino'
import { Registry } from 'prom-client'
import { afterEach, describe, expect, it } from 'vitest'
import type { ApiKeyHash, ApiScope } from '../../schemas/collector-config.schema.ts'
import type { RebuildParams } from '../../schemas/report-params.schema.ts'
import type { ClickHouse } from '../../services/clickhouse/clickhouse-client.ts'
import { apiKeyHash } from '../../services/runtime/api-keys.ts'
import { registerCollectorRoutes } from '../../services/collector/collector-routes.ts'
import { REPORT_NAMES } from '../../services/reports/report-queries.ts'
import { registerExplainRoutes } from '../../services/reports/explain-routes.ts'
import { registerReportRoutes } from '../../services/reports/reports-service.ts'
import { registerRebuildRoute } from '../../services/worker/rebuild-route.ts'
import {
  HttpApiMissingError,
  installHttpApi,
  OPENAPI_PATH,
  registeredRoutes,
  RouteScopeError,
} from '../../services/runtime/http-api.ts'
import { startHttpServer } from '../../services/runtime/http-server.ts'
import { localApiKeyHashes } from '../../services/runtime/local-api-key.ts'
import { memoryProducer, NOW, mappings, userEvent } from '../fixtures/webhooks/collector-harness.ts'

const KEY = {
  acmeRead: 'acme-read-key-Qm4Tz8Lw2Nc',
  acmeReadNext: 'acme-read-key-rotated-Vb7Yp3Hs9K',
  acmeWrite: 'acme-write-key-Jd6Rf1Gx5Pe',
  acmeAdmin: 'acme-admin-key-Ws2Ku9Ea4Ty',
  globexAdmin: 'globex-admin-key-Zn8Oc3Ib7Um',
  local: 'local-key-of-dugout-run-Xh5Sq1Vd6Ra',
}
const CONFIGURED: ApiKeyHash[] = [
  apiKeyHash('acme', KEY.acmeRead, 'read'),
  apiKeyHash('acme', KEY.acmeReadNext, 'read'),
  apiKeyHash('acme', KEY.acmeWrite, 'write'),
  apiKeyHash('acme', KEY.acmeAdmin, 'admin'),
  apiKeyHash('globex', KEY.globexAdmin, 'admin'),
  ...localApiKeyHashes(KEY.local),
]

/** One request of each org route, for org `org`, with a body that route accepts. */
function orgRequests(org: string) {
  return [
    { scope: 'read', method: 'GET', url: `/v1/orgs/${org}/reports/rep-volume?from=2026-03-01&to=2026-03-07` },
    { scope: 'read', method: 'GET', url: `/v1/orgs/${org}/settings` },
    { scope: 'read', method: 'GET', url: `/v1/orgs/${org}/trend/win_rate?rep=r1&from=2026-03-02&to=2026-03-15` },

    { scope: 'admin', method: 'PUT', url: `/v1/orgs/${org}/settings`, payload: { defaultCurrency: 'EUR' } },
    { scope: 'admin', method: 'POST', url: `/v1/orgs/${org}/rebuild`, payload: { from: '2026-03-01' } },
    {
      scope: 'write',
      method: 'POST',
      url: `/v1/orgs/${org}/events`,
      headers: { 'content-type': 'application/x-ndjson' },
      payload: JSON.stringify(userEvent('e-1', org)),
    },
  ] as const
}

interface Api {
  app: FastifyInstance
  /** What reached ClickHouse, Kafka or Temporal: nothing, for a refused request. */
  reached: string[]
}

let api: Api | undefined
afterEach(async () => {
  await api?.app.close()
  api = undefined
})

/** A ClickHouse that answers every query with no rows and records it. */
function recordingClickHouse(reached: string[]): ClickHouse {
  const client = {
    query: async ({ query }: { query: string }) => {
      reached.push(`query: ${query.trim().slice(0, 40)}`)
      return { json: async () => [] }
    },
    insert: async ({ table }: { table: string }) => {
      reached.push(`insert: ${table}`)
    },
  }
  return { client, database: 'dugout_test', engine: 'chdb', close: async () => {} } as unknown as ClickHouse
}

/** Every service's routes on the process's server, as `dugout run` has them. */
async function startApi(apiKeys: readonly ApiKeyHash[] = CONFIGURED): Promise<Api> {
  const reached: string[] = []
  const http = await startHttpServer(
    { DUGOUT_HTTP_HOST: '127.0.0.1', DUGOUT_HTTP_PORT: 1 },
    pino({ level: 'silent' }),
    apiKeys,
    new Registry(),
  )
  const producer = memoryProducer()
  const send = producer.send.bind(producer)
  producer.send = async (events) => {
    reached.push(...events.map((e) => `kafka: ${e.orgId}`))
    return send(events)
  }
  await registerCollectorRoutes(http.app, {
    producer,
    clock: () => NOW,
    settings: {
      hubspotSecrets: new Map(),
      salesforceSecrets: new Map(),
      mappings,
      maxBodyBytes: 64 * 1024,
    },
  })
  registerReportRoutes(http.app, recordingClickHouse(reached))
  registerExplainRoutes(http.app, recordingClickHouse(reached))
  registerRebuildRoute(http.app, async (params: RebuildParams) => {
    reached.push(`rebuild: ${params.org}`)
    return { workflowId: `rebuild:${params.org}:x`, runId: 'run', url: 'http://127.0.0.1:8233/x' }
  })
  await http.app.ready()
  api = { app: http.app, reached }
  return api
}

type OrgRequest = ReturnType<typeof orgRequests>[number]

function send(app: FastifyInstance, request: OrgRequest, authorization?: string) {
  const headers: Record<string, string> = { ...('headers' in request ? request.headers : {}) }
  if (authorization !== undefined) headers['authorization'] = authorization
  return app.inject({
    method: request.method,
    url: request.url,
    headers,
    ...('payload' in request ? { payload: request.payload } : {}),
  })
}

const bearer = (key: string) => `Bearer ${key}`
const okStatus = { GET: 200, PUT: 200, POST: 202 } as const

describe('API keys on every org route', () => {
  it.each(orgRequests('acme').map((r) => [`${r.method} ${r.url.split('?')[0]}`, r] as const))(
    '%s: no key is 401, a malformed header 401, another org’s key 403, and nothing runs',
    async (_route, request) => {
      const { app, reached } = await startApi()
      for (const authorization of [undefined, '', 'Basic YWNtZTp4', `Bearer`, `Bearer ${KEY.acmeAdmin} extra`]) {
        const response = await send(app, request, authorization)
        expect(response.statusCode, String(authorization)).toBe(401)
        expect(response.headers['content-type']).toMatch(/^application\/problem\+json/)
        expect(response.headers['www-authenticate']).toBe('Bearer realm="dugout"')
        expect(response.json()).toMatchObject({
          type: 'urn:dugout:problem:unauthorized',
          status: 401,
          errors: [{ parameter: 'Authorization', rule: 'must be Bearer <key>' }],
        })
      }
      const other = await send(app, request, bearer(KEY.globexAdmin))
      expect(other.statusCode).toBe(403)
      expect(other.json()).toMatchObject({
        type: 'urn:dugout:problem:forbidden',
        status: 403,
        detail: 'this API key is not valid for org "acme"',
        errors: [{ parameter: 'Authorization' }],
      })
      const unknown = await send(app, request, bearer('a-key-nobody-configured'))
      expect(unknown.statusCode).toBe(403)
      expect(reached).toEqual([])
    },
  )

  it('grants each right to its keys only: admin reads too, write only sends events, read only reads', async () => {
    const { app, reached } = await startApi()
    const allowed: Record<string, string[]> = {}
    for (const [name, key] of [
      ['read', KEY.acmeRead],
      ['write', KEY.acmeWrite],
      ['admin', KEY.acmeAdmin],
    ] as const) {
      allowed[name] = []
      for (const request of orgRequests('acme')) {
        const response = await send(app, request, bearer(key))
        if (response.statusCode === okStatus[request.method]) allowed[name].push(request.scope)
        else {
          expect(response.statusCode, `${name} key on ${request.method} ${request.url}`).toBe(403)
          expect(response.json()).toMatchObject({
            status: 403,
            detail: `this API key does not grant ${request.scope} on org "acme"`,
          })
          expect(response.headers['www-authenticate']).toContain('error="insufficient_scope"')
        }
      }
    }
    expect(allowed).toEqual({
      read: ['read', 'read', 'read'],
      write: ['write'],
      admin: ['read', 'read', 'read', 'admin', 'admin'],
    })
    expect(reached).toContain('rebuild: acme')
    expect(reached).toContain('kafka: acme')
  })

  it('guards explain like the reports (its success needs data: see explain-properties.int)', async () => {
    const { app, reached } = await startApi()
    const url = '/v1/orgs/acme/explain/deals_intervened?manager=m1&from=2026-03-02&to=2026-03-08'
    expect((await app.inject({ method: 'GET', url })).statusCode).toBe(401)
    const write = await app.inject({ method: 'GET', url, headers: { authorization: bearer(KEY.acmeWrite) } })
    expect(write.statusCode).toBe(403)
    const other = await app.inject({ method: 'GET', url, headers: { authorization: bearer(KEY.globexAdmin) } })
    expect(other.statusCode).toBe(403)
    expect(reached).toEqual([])
  })

  it('accepts both keys of an org while it rotates them', async () => {
    const { app } = await startApi()
    const [report] = orgRequests('acme')
    expect((await send(app, report, bearer(KEY.acmeRead))).statusCode).toBe(200)
    expect((await send(app, report, bearer(KEY.acmeReadNext))).statusCode).toBe(200)
  })

  it('refuses everything when no key is configured: there is no open mode', async () => {
    const { app, reached } = await startApi([])
    for (const request of orgRequests('acme')) {
      expect((await send(app, request)).statusCode).toBe(401)
      expect((await send(app, request, bearer(KEY.acmeAdmin))).statusCode).toBe(403)
    }
    expect(reached).toEqual([])
  })

  it('accepts the local key for every org with every right', async () => {
    const { app } = await startApi()
    for (const org of ['acme', 'globex', 'initech']) {
      for (const request of orgRequests(org)) {
        const response = await send(app, request, bearer(KEY.local))
        expect(response.statusCode, `${request.method} ${request.url}`).toBe(okStatus[request.method])
      }
    }
  })

  it('keeps the operational routes and the contract open', async () => {
    const { app } = await startApi([])
    for (const url of ['/healthz', '/readyz', '/metrics', OPENAPI_PATH, '/v1/reports']) {
      expect((await app.inject({ method: 'GET', url })).statusCode, url).toBe(200)
    }
  })
})

describe('declaring a right', () => {
  it('refuses to register a route under /v1/orgs/:org/ that does not declare its scope', async () => {
    const app = Fastify()
    await installHttpApi(app, { apiKeys: [] })
    expect(() => app.get('/v1/orgs/:org/explain/:metric', async () => ({}))).toThrow(RouteScopeError)
    expect(() => app.get('/v1/orgs/:org/trend', { config: { scope: 'owner' as ApiScope } }, async () => ({}))).toThrow(
      RouteScopeError,
    )
    expect(() => app.get('/v1/orgs/:id/explain', { config: { scope: 'read' } }, async () => ({}))).toThrow(
      RouteScopeError,
    )
    await app.close()
  })

  it('guards a route that declares its scope, registered by any service', async () => {
    const app = Fastify()
    await installHttpApi(app, { apiKeys: [apiKeyHash('acme', KEY.acmeRead, 'read')] })
    app.get('/v1/orgs/:org/explain/:metric', { config: { scope: 'admin' } }, async () => ({ ok: true }))
    const response = await app.inject({
      method: 'GET',
      url: '/v1/orgs/acme/explain/wins',
      headers: { authorization: bearer(KEY.acmeRead) },
    })
    expect(response.statusCode).toBe(403)
    await app.close()
  })

  it('refuses to register org routes on a server without the API plumbing', () => {
    expect(() => registerReportRoutes(Fastify(), recordingClickHouse([]))).toThrow(HttpApiMissingError)
    expect(() => registerRebuildRoute(Fastify(), async () => ({ workflowId: '', runId: '', url: '' }))).toThrow(
      HttpApiMissingError,
    )
  })
})

const DAY_RULE = 'must be a calendar date YYYY-MM-DD between 1970-01-01 and 2149-06-05'

describe('bad parameters: 400 problem+json naming the parameter and the rule, and no query runs', () => {
  const report = (query: string, org = 'acme', name = 'rep-volume') => `/v1/orgs/${org}/reports/${name}?${query}`

  it.each([
    ['a day that does not exist', report('from=2026-02-30&to=2026-03-05'), 'from', DAY_RULE],
    ['a missing day', report('from=2026-03-01'), 'to', 'is required'],
    ['to before from', report('from=2026-03-05&to=2026-03-01'), 'from', 'must not be after to'],
    ['a range too long', report('from=2000-01-01&to=2026-01-01'), 'to', 'a range covers at most 3700 days'],
    [
      'an unknown format',
      report('from=2026-03-01&to=2026-03-05&format=xml'),
      'format',
      'must be one of json, csv, table',
    ],
    ['an org id no event can carry', report('from=2026-03-01&to=2026-03-05', 'Acme'), 'org', 'must contain only'],
    ['SQL in a day', report(`from=${encodeURIComponent("2026-01-01' OR 1=1 --")}&to=2026-03-05`), 'from', DAY_RULE],
    ['SQL in the org', report('from=2026-03-01&to=2026-03-05', encodeURIComponent("acme' OR '1'='1")), 'org', 'must'],
    [
      'SQL in the format',
      report(`from=2026-03-01&to=2026-03-05&format=${encodeURIComponent('json;DROP')}`),
      'format',
      'must',
    ],
    ['a repeated day', report('from=2026-03-01&from=2026-03-02&to=2026-03-05'), 'from', DAY_RULE],
    ['an instant that is none', report('from=2026-03-01&to=2026-03-05&as_of=yesterday'), 'as_of', 'RFC 3339'],
    [
      'SQL in names',
      report(`from=2026-03-01&to=2026-03-05&names=${encodeURIComponent("1' OR '1")}`),
      'names',
      'true or false',
    ],
  ])('GET a report with %s', async (_what, url, parameter, rule) => {
    const { app, reached } = await startApi()
    for (const key of [KEY.local, KEY.acmeRead]) {
      const response = await app.inject({ method: 'GET', url, headers: { authorization: bearer(key) } })
      expect(response.statusCode).toBe(400)
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/)
      const body = response.json<{ type: string; errors: { parameter: string; rule: string; message: string }[] }>()
      expect(body.type).toBe('urn:dugout:problem:invalid-parameters')
      expect(body.errors[0]).toMatchObject({ parameter })
      expect(body.errors[0]!.rule).toContain(rule)
      expect(body.errors[0]!.message).toMatch(new RegExp(`^${parameter}: `))
    }
    expect(reached).toEqual([])
  })

  it.each([['rep-volumes'], [encodeURIComponent("rep-volume' UNION SELECT 1")]])(
    'answers an unknown report (%s) with a 404 problem naming the reports',
    async (name) => {
      const { app, reached } = await startApi()
      const response = await app.inject({
        method: 'GET',
        url: report('from=2026-03-01&to=2026-03-05', 'acme', name),
        headers: { authorization: bearer(KEY.acmeRead) },
      })
      expect(response.statusCode).toBe(404)
      expect(response.json()).toMatchObject({
        type: 'urn:dugout:problem:not-found',
        errors: [{ parameter: 'name', rule: `must be one of ${REPORT_NAMES.join(', ')}` }],
      })
      expect(reached).toEqual([])
    },
  )

  const trend = (metric: string, query: string) => `/v1/orgs/acme/trend/${metric}?${query}`
  const explain = (metric: string, query: string) => `/v1/orgs/acme/explain/${metric}?${query}`
  it.each([
    ['trend: an unknown metric', trend('win_rates', 'rep=r1&weeks=4'), 404, 'metric', 'must be one of'],
    [
      'trend: SQL in the metric',
      trend(encodeURIComponent("win_rate' OR 1=1"), 'rep=r1&weeks=4'),
      404,
      'metric',
      'must',
    ],
    ['trend: a manager and a rep', trend('win_rate', 'rep=r1&manager=m1&weeks=4'), 400, 'rep', ''],
    ['trend: a rep metric for a manager', trend('win_rate', 'manager=m1&weeks=4'), 400, 'metric', ''],
    ['trend: too many weeks', trend('win_rate', 'rep=r1&weeks=1000'), 400, 'weeks', 'from 1 to 104'],
    ['explain: a ratio', explain('intervention_rate', 'manager=m1&from=2026-03-02&to=2026-03-08'), 400, 'metric', ''],
    ['explain: an unknown metric', explain('deals', 'manager=m1&from=2026-03-02&to=2026-03-08'), 400, 'metric', ''],
    ['explain: no person', explain('deals_intervened', 'from=2026-03-02&to=2026-03-08'), 400, 'manager', ''],
    [
      'explain: SQL in a day',
      explain('deals_intervened', `manager=m1&from=${encodeURIComponent("2026-03-02' --")}&to=2026-03-08`),
      400,
      'from',
      DAY_RULE,
    ],
    [
      'explain: an instant that is none',
      explain('deals_intervened', 'manager=m1&from=2026-03-02&to=2026-03-08&as_of=2026-03-09'),
      400,
      'as_of',
      'RFC 3339',
    ],
  ])('GET %s', async (_what, url, status, parameter, rule) => {
    const { app, reached } = await startApi()
    const response = await app.inject({ method: 'GET', url, headers: { authorization: bearer(KEY.acmeRead) } })
    expect(response.statusCode).toBe(status)
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/)
    const body = response.json<{ errors: { parameter: string; rule: string }[] }>()
    expect(body.errors[0]).toMatchObject({ parameter })
    expect(body.errors[0]!.rule).toContain(rule)
    expect(reached).toEqual([])
  })

  it.each([
    ['a misspelt setting', { timeZone: 'Europe/Paris' }, 'timeZone', 'is not a parameter'],
    ['a currency in lower case', { defaultCurrency: 'eur' }, 'defaultCurrency', 'ISO 4217'],
    ['a time zone that is no string', { timezone: 7 }, 'timezone', 'must be a string'],
  ])('PUT settings with %s', async (_what, payload, parameter, rule) => {
    const { app, reached } = await startApi()
    const response = await app.inject({
      method: 'PUT',
      url: '/v1/orgs/acme/settings',
      headers: { authorization: bearer(KEY.acmeAdmin) },
      payload,
    })
    expect(response.statusCode).toBe(400)
    expect(response.json<{ errors: { parameter: string; rule: string }[] }>().errors[0]).toMatchObject({ parameter })
    expect(response.json<{ errors: { rule: string }[] }>().errors[0]!.rule).toContain(rule)
    expect(reached).toEqual([])
  })

  it('answers a body that is not JSON, and a route that does not exist, with problems', async () => {
    const { app } = await startApi()
    const notJson = await app.inject({
      method: 'PUT',
      url: '/v1/orgs/acme/settings',
      headers: { authorization: bearer(KEY.acmeAdmin), 'content-type': 'application/json' },
      payload: '{"timezone":',
    })
    expect(notJson.statusCode).toBe(400)
    expect(notJson.json()).toMatchObject({ errors: [{ parameter: 'body', rule: 'must be a JSON object' }] })
    const missing = await app.inject({ method: 'GET', url: '/v1/nothing-here' })
    expect(missing.statusCode).toBe(404)
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/)
  })
})

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document listing every route, each org route with the bearer scheme', async () => {
    const { app } = await startApi()
    const response = await app.inject({ method: 'GET', url: OPENAPI_PATH })
    expect(response.statusCode).toBe(200)
    const document = response.json<{
      openapi: string
      paths: Record<string, Record<string, { security?: unknown; description?: string; parameters?: unknown[] }>>
    }>()
    expect(document.openapi).toBe('3.1.0')
    const validator = new Validator()
    const result = await validator.validate(structuredClone(document) as never)
    expect(result.errors ?? []).toEqual([])
    expect(result.valid).toBe(true)

    const routes = registeredRoutes(app)
    expect(routes.length).toBeGreaterThanOrEqual(12)
    for (const route of routes) {
      const path = route.url.replace(/:(\w+)/g, '{$1}')
      for (const method of route.method.split(',')) {
        const operation = document.paths[path]?.[method.toLowerCase()]
        expect(operation, `${method} ${route.url} in the document`).toBeDefined()
        if (route.url.startsWith('/v1/orgs/')) {
          expect(route.scope, `${method} ${route.url} declares a scope`).toBeDefined()
          expect(operation!.security).toEqual([{ bearer: [] }])
          expect(operation!.description).toContain(`\`${route.scope}\` right`)
        }
      }
    }
    const report = document.paths['/v1/orgs/{org}/reports/{name}']!['get']!
    expect(report.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ in: 'path', name: 'org', required: true }),
        expect.objectContaining({
          in: 'path',
          name: 'name',
          schema: expect.objectContaining({ enum: [...REPORT_NAMES] }),
        }),
        expect.objectContaining({ in: 'query', name: 'from', required: true }),
        expect.objectContaining({ in: 'query', name: 'to', required: true }),
      ]),
    )
  })
})
