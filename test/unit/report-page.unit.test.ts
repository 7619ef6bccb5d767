// The report page's login and session rules (services/reports/report-page.ts,
// services/runtime/ui-sessions.ts): a session comes only from a `read` key of its org, its cookie
// is HttpOnly and SameSite=Strict and holds no key, it expires, and it reads (GET) its own org's
// routes only: never another org's, never a write or admin route.
import Fastify, { type FastifyInstance } from 'fastify'
import { afterEach, describe, expect, it } from 'vitest'
import type { ApiKeyHash } from '../../schemas/collector-config.schema.ts'
import type { ClickHouse } from '../../services/clickhouse/clickhouse-client.ts'
import { registerCollectorRoutes } from '../../services/collector/collector-routes.ts'
import { registerReportPage } from '../../services/reports/report-page.ts'
import { registerReportRoutes } from '../../services/reports/reports-service.ts'
import { apiKeyHash, hashApiKey } from '../../services/runtime/api-keys.ts'
import { installHttpApi, OPENAPI_PATH } from '../../services/runtime/http-api.ts'
import { localApiKeyHashes } from '../../services/runtime/local-api-key.ts'
import { UI_SESSION_TTL_MS, UiSessions } from '../../services/runtime/ui-sessions.ts'
import { registerRebuildRoute } from '../../services/worker/rebuild-route.ts'
import { mappings, memoryProducer, NOW } from '../fixtures/webhooks/collector-harness.ts'

const KEY = {
  acmeRead: 'acme-read-key-Hq3Vz7Lp1Xc',
  acmeWrite: 'acme-write-key-Rb6Tn2Km8Wd',
  acmeAdmin: 'acme-admin-key-Ys4Fe9Gu5Jo',
  globexRead: 'globex-read-key-Pc1Nw6Dh3Ai',
  local: 'local-key-of-dugout-run-Tm5Qa8Zr2Ve',
}
const KEYS: ApiKeyHash[] = [
  apiKeyHash('acme', KEY.acmeRead, 'read'),
  apiKeyHash('acme', KEY.acmeWrite, 'write'),
  apiKeyHash('acme', KEY.acmeAdmin, 'admin'),
  apiKeyHash('globex', KEY.globexRead, 'read'),
  ...localApiKeyHashes(KEY.local),
]

let app: FastifyInstance | undefined
afterEach(async () => {
  await app?.close()
  app = undefined
})

/** The server with every org route and the page; a clock of the test's own; what reached a backend. */
async function startPage() {
  let now = Date.parse('2026-11-02T09:00:00Z')
  const reached: string[] = []
  const ch = {
    client: {
      query: async ({ query }: { query: string }) => {
        reached.push(`query: ${query.trim().slice(0, 30)}`)
        return { json: async () => [] }
      },
    },
    database: 'dugout_test',
    engine: 'chdb',
    close: async () => {},
  } as unknown as ClickHouse
  app = Fastify()
  await installHttpApi(app, { apiKeys: KEYS, sessions: new UiSessions({ now: () => now }) })
  const producer = memoryProducer()
  const send = producer.send.bind(producer)
  producer.send = async (events) => {
    reached.push(...events.map((e) => `kafka: ${e.orgId}`))
    return send(events)
  }
  await registerCollectorRoutes(app, {
    producer,
    clock: () => NOW,
    settings: { hubspotSecrets: new Map(), salesforceSecrets: new Map(), mappings, maxBodyBytes: 64 * 1024 },
  })
  registerReportRoutes(app, ch)
  registerRebuildRoute(app, async (params) => {
    reached.push(`rebuild: ${params.org}`)
    return { workflowId: 'w', runId: 'r', url: 'http://127.0.0.1:8233/x' }
  })
  registerReportPage(app)
  await app.ready()
  return { app, reached, advance: (ms: number) => (now += ms) }
}

function login(page: FastifyInstance, org: string, key: string, headers: Record<string, string> = {}) {
  return page.inject({
    method: 'POST',
    url: '/ui/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded', host: 'dugout.test', ...headers },
    payload: new URLSearchParams({ org, key }).toString(),
  })
}

/** The `name=value` of a login's Set-Cookie, as a browser sends it back. */
function cookieOf(response: { headers: Record<string, unknown> }): string {
  const header = String(response.headers['set-cookie'])
  return header.split(';')[0]!
}

const REPORT = '/reports/rep-volume?from=2026-10-26&to=2026-11-01'

describe('the report page login', () => {
  it('sends a browser without a session to the login form', async () => {
    const { app } = await startPage()
    const page = await app.inject({ method: 'GET', url: '/ui' })
    expect(page.statusCode).toBe(303)
    expect(page.headers.location).toBe('/ui/login')
    const form = await app.inject({ method: 'GET', url: '/ui/login' })
    expect(form.statusCode).toBe(200)
    expect(form.headers['content-type']).toContain('text/html')
    expect(form.body).toContain('<form method="post" action="/ui/login">')
  })

  it.each([
    ['an unknown key', 'acme', 'not-a-key-of-anyone'],
    ['a read key of another org', 'acme', KEY.globexRead],
    ['a write key of the org', 'acme', KEY.acmeWrite],
  ])('refuses %s with 401 and no cookie', async (_what, org, key) => {
    const { app } = await startPage()
    const answer = await login(app, org, key)
    expect(answer.statusCode).toBe(401)
    expect(answer.headers['set-cookie']).toBeUndefined()
    expect(answer.body).toContain(`That key does not read org &#34;${org}&#34;.`)
  })

  it('refuses a malformed org id with 400, and a login posted from another site with 403', async () => {
    const { app } = await startPage()
    expect((await login(app, 'Acme Inc', KEY.acmeRead)).statusCode).toBe(400)
    const forged = await login(app, 'acme', KEY.acmeRead, { origin: 'https://evil.test' })
    expect(forged.statusCode).toBe(403)
    expect(forged.headers['set-cookie']).toBeUndefined()
    expect((await login(app, 'acme', KEY.acmeRead, { origin: 'http://dugout.test' })).statusCode).toBe(303)
  })

  it('sets an HttpOnly, SameSite=Strict cookie of a random session id, never the key', async () => {
    const { app } = await startPage()
    const answer = await login(app, 'acme', KEY.acmeRead)
    expect(answer.statusCode).toBe(303)
    expect(answer.headers.location).toBe('/ui')
    const header = String(answer.headers['set-cookie'])
    expect(header).toMatch(/^dugout_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/)
    expect(header).not.toContain(KEY.acmeRead)
    expect(header).not.toContain(hashApiKey(KEY.acmeRead))
    const other = await login(app, 'acme', KEY.acmeRead)
    expect(cookieOf(other)).not.toBe(cookieOf(answer))
    // An admin key reads too, and so does the local key of `dugout run`, for any org.
    expect((await login(app, 'acme', KEY.acmeAdmin)).statusCode).toBe(303)
    expect((await login(app, 'globex', KEY.local)).statusCode).toBe(303)
  })

  it("serves the page of the session's org, with a policy that runs only its own scripts", async () => {
    const { app } = await startPage()
    const cookie = cookieOf(await login(app, 'acme', KEY.acmeRead))
    const page = await app.inject({ method: 'GET', url: '/ui', headers: { cookie } })
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('"org":"acme"')
    expect(page.body).toContain('<script src="/ui/assets/chart.umd.min.js"></script>')
    expect(page.headers['content-security-policy']).toContain("script-src 'self'")
  })
})

describe('a session cookie as a credential', () => {
  it("reads its own org's GET routes, and is refused (403) on another org's", async () => {
    const { app, reached } = await startPage()
    const cookie = cookieOf(await login(app, 'acme', KEY.acmeRead))
    const own = await app.inject({ method: 'GET', url: `/v1/orgs/acme${REPORT}`, headers: { cookie } })
    expect(own.statusCode).toBe(200)
    expect(own.json()).toEqual([])
    reached.length = 0
    for (const url of [`/v1/orgs/globex${REPORT}`, '/v1/orgs/globex/settings']) {
      const other = await app.inject({ method: 'GET', url, headers: { cookie } })
      expect(other.statusCode).toBe(403)
      expect(other.json()).toMatchObject({ status: 403, detail: 'this API key is not valid for org "globex"' })
    }
    expect(reached).toEqual([])
  })

  it('never authorises a write or admin route, even of its own org', async () => {
    // An admin key's session: what the session may do must not depend on the key behind it.
    const { app, reached } = await startPage()
    const cookie = cookieOf(await login(app, 'acme', KEY.acmeAdmin))
    const refused = [
      { method: 'PUT' as const, url: '/v1/orgs/acme/settings', payload: { defaultCurrency: 'EUR' } },
      { method: 'POST' as const, url: '/v1/orgs/acme/rebuild', payload: {} },
      {
        method: 'POST' as const,
        url: '/v1/orgs/acme/events',
        headers: { 'content-type': 'application/x-ndjson' },
        payload: '{}',
      },
    ]
    for (const { headers, ...request } of refused) {
      const answer = await app.inject({ ...request, headers: { cookie, ...headers } })
      expect(answer.statusCode, `${request.method} ${request.url}`).toBe(401)
    }
    expect(reached).toEqual([])
  })

  it('lets an Authorization header decide alone: a bad key with a good cookie is refused', async () => {
    const { app } = await startPage()
    const cookie = cookieOf(await login(app, 'acme', KEY.acmeRead))
    const answer = await app.inject({
      method: 'GET',
      url: `/v1/orgs/acme${REPORT}`,
      headers: { cookie, authorization: 'Bearer not-a-key-of-anyone' },
    })
    expect(answer.statusCode).toBe(403)
  })

  it('expires after its time to live, and ends at logout', async () => {
    const { app, advance } = await startPage()
    const cookie = cookieOf(await login(app, 'acme', KEY.acmeRead))
    advance(UI_SESSION_TTL_MS - 1000)
    expect((await app.inject({ method: 'GET', url: `/v1/orgs/acme${REPORT}`, headers: { cookie } })).statusCode).toBe(
      200,
    )
    advance(1000)
    expect((await app.inject({ method: 'GET', url: `/v1/orgs/acme${REPORT}`, headers: { cookie } })).statusCode).toBe(
      401,
    )
    expect((await app.inject({ method: 'GET', url: '/ui', headers: { cookie } })).statusCode).toBe(303)

    const next = cookieOf(await login(app, 'acme', KEY.acmeRead))
    const out = await app.inject({ method: 'POST', url: '/ui/logout', headers: { cookie: next } })
    expect(out.statusCode).toBe(303)
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0')
    expect(
      (await app.inject({ method: 'GET', url: `/v1/orgs/acme${REPORT}`, headers: { cookie: next } })).statusCode,
    ).toBe(401)
  })
})

describe('the page and the API contract', () => {
  it('keeps the page out of the OpenAPI document, which lists the API as before', async () => {
    const { app } = await startPage()
    const document = (await app.inject({ method: 'GET', url: OPENAPI_PATH })).json() as { paths: object }
    const paths = Object.keys(document.paths)
    expect(paths).toContain('/v1/orgs/{org}/reports/{name}')
    expect(paths.filter((p) => p.startsWith('/ui'))).toEqual([])
  })
})

describe('the page assets', () => {
  it('serves Chart.js from the package and the page files, nothing else', async () => {
    const { app } = await startPage()
    const chart = await app.inject({ method: 'GET', url: '/ui/assets/chart.umd.min.js' })
    expect(chart.statusCode).toBe(200)
    expect(chart.headers['content-type']).toContain('text/javascript')
    expect(chart.body).toContain('Chart.js')
    expect((await app.inject({ method: 'GET', url: '/ui/assets/report-page.js' })).statusCode).toBe(200)
    for (const file of ['package.json', '..%2F..%2Fpackage.json', 'constructor', '__proto__']) {
      expect((await app.inject({ method: 'GET', url: `/ui/assets/${file}` })).statusCode, file).toBe(404)
    }
  })
})
