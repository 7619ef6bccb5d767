// A rebuild's parameters are refused at the edge, before anything starts: the HTTP API answers a
// 400 problem+json (RFC 9457) naming each parameter and its rule, the CLI names the option as typed.
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../schemas/config.schema.ts'
import type { RebuildParams } from '../../schemas/report-params.schema.ts'
import { rebuildCommand, reportCommand } from '../../services/cli/report-commands.ts'
import { ParamsError } from '../../services/errors.ts'
import { apiKeyHash } from '../../services/runtime/api-keys.ts'
import { registerRebuildRoute } from '../../services/worker/rebuild-route.ts'
import { installHttpApi } from '../../services/runtime/http-api.ts'

const DAY_RULE = 'must be a calendar date YYYY-MM-DD between 1970-01-01 and 2149-06-05'

const ADMIN_KEY = 'rebuild-edge-admin-key-5b1e'
const headers = { authorization: `Bearer ${ADMIN_KEY}` }

async function rebuildApi() {
  const started: RebuildParams[] = []
  const app = Fastify()
  await installHttpApi(app, { apiKeys: [apiKeyHash('holdout', ADMIN_KEY, 'admin')] })
  registerRebuildRoute(app, async (params) => {
    started.push(params)
    return { workflowId: `rebuild:${params.org}:x`, runId: 'run', url: 'http://127.0.0.1:8233/x' }
  })
  return { app, started }
}

describe('POST /v1/orgs/:org/rebuild', () => {
  it('refuses a day that does not exist with a problem+json naming it, and starts nothing', async () => {
    const { app, started } = await rebuildApi()
    const response = await app.inject({
      method: 'POST',
      url: '/v1/orgs/holdout/rebuild',
      headers,
      payload: { from: '2026-02-30', to: '2026-03-05' },
    })
    expect(response.statusCode).toBe(400)
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/)
    expect(response.json()).toEqual({
      type: 'urn:dugout:problem:invalid-parameters',
      title: 'Invalid parameters',
      status: 400,
      detail: `from: ${DAY_RULE} (got "2026-02-30")`,
      errors: [{ parameter: 'from', rule: DAY_RULE, message: `from: ${DAY_RULE} (got "2026-02-30")` }],
    })
    expect(started).toEqual([])
  })

  it.each([
    ['an inverted range', 'holdout', { from: '2026-03-05', to: '2026-03-01' }, 'from', 'must not be after to'],
    ['a misspelt parameter', 'holdout', { form: '2026-03-01' }, 'form', 'is not a parameter'],
    [
      'an org id no event can carry',
      'Hold%20Out',
      {},
      'org',
      'must contain only lower-case letters, digits, "_" and "-"',
    ],
    ['the org in the body', 'holdout', { org: 'other' }, 'org', 'is not a parameter'],
  ])('refuses %s', async (_what, org, payload, parameter, rule) => {
    const { app, started } = await rebuildApi()
    const response = await app.inject({ method: 'POST', url: `/v1/orgs/${org}/rebuild`, headers, payload })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ status: 400, errors: [{ parameter, rule }] })
    expect(started).toEqual([])
  })

  it('starts a rebuild of every day, or of a range, and answers 202 with its workflow id and link', async () => {
    const { app, started } = await rebuildApi()
    const all = await app.inject({ method: 'POST', url: '/v1/orgs/holdout/rebuild', headers })
    expect(all.statusCode).toBe(202)
    expect(all.json()).toEqual({ workflowId: 'rebuild:holdout:x', runId: 'run', url: 'http://127.0.0.1:8233/x' })
    const range = await app.inject({
      method: 'POST',
      url: '/v1/orgs/holdout/rebuild',
      headers,
      payload: { from: '2026-03-01', to: '2026-03-05' },
    })
    expect(range.statusCode).toBe(202)
    expect(started).toEqual([{ org: 'holdout' }, { org: 'holdout', from: '2026-03-01', to: '2026-03-05' }])
  })
})

describe('dugout rebuild / report', () => {
  // Nothing listens there: a command that got past its checks would fail to connect instead.
  const config = () => loadConfig({ TEMPORAL_ADDRESS: '127.0.0.1:1', DUGOUT_HTTP_PORT: '1' })

  it('refuses --from 2026-02-30 at once, naming --from and its rule', async () => {
    const run = rebuildCommand(config).parseAsync(['--org', 'holdout', '--from', '2026-02-30', '--to', '2026-03-05'], {
      from: 'user',
    })
    await expect(run).rejects.toThrow(ParamsError)
    await expect(run).rejects.toThrow(`rebuild: --from: ${DAY_RULE} (got "2026-02-30")`)
  })

  it('refuses an inverted range and a bad org id', async () => {
    const run = rebuildCommand(config).parseAsync(['--org', 'Holdout', '--from', '2026-03-05', '--to', '2026-03-01'], {
      from: 'user',
    })
    await expect(run).rejects.toThrow(/--org: must contain only .*; --from: must not be after to/)
  })

  it('report refuses a day that does not exist the same way', async () => {
    const run = reportCommand(config).parseAsync(
      ['rep-volume', '--org', 'holdout', '--from', '2026-02-30', '--to', '2026-03-05'],
      { from: 'user' },
    )
    await expect(run).rejects.toThrow(`report: --from: ${DAY_RULE} (got "2026-02-30")`)
  })
})
