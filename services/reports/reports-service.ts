/**
 * The reports HTTP API: `GET /v1/orgs/:org/reports/:name?from=&to=`, the org settings, and
 * `POST /v1/orgs/:org/rebuild`. With the embedded engine the running services own the data folder,
 * so the CLI's `report` reads through these routes.
 */
import { Client, Connection } from '@temporalio/client'
import type { FastifyInstance } from 'fastify'
import { invalidParametersProblem, PROBLEM_CONTENT_TYPE } from '../../schemas/api-problem.schema.ts'
import { parseParams, RebuildBody, RebuildParams } from '../../schemas/report-params.schema.ts'
import type { ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { getOrgSettings, OrgSettingsError, setOrgSettings } from '../projections/org-settings.ts'
import { REPORT_NAMES, ReportParamsError, runReport, validateReportParams } from './report-queries.ts'
import type { ServiceStarter } from '../runtime/service-host.ts'
import { startRebuild, type StartedRebuild } from '../worker/workflow-client.ts'
import { formatReport, REPORT_FORMATS, type ReportFormat } from './report-format.ts'

export function registerReportRoutes(app: FastifyInstance, ch: ClickHouse): void {
  app.get<{ Params: { org: string; name: string }; Querystring: { from?: string; to?: string; format?: string } }>(
    '/v1/orgs/:org/reports/:name',
    async (request, reply) => {
      const { org, name } = request.params
      const { from, to, format = 'json' } = request.query
      if (!from || !to) return reply.code(400).send({ error: 'from and to are required (YYYY-MM-DD, inclusive)' })
      if (!(REPORT_FORMATS as readonly string[]).includes(format)) {
        return reply.code(400).send({ error: `format: must be one of ${REPORT_FORMATS.join(', ')}` })
      }
      try {
        validateReportParams(name, { org, from, to })
      } catch (error) {
        if (!(error instanceof ReportParamsError)) throw error
        const unknownReport = !(REPORT_NAMES as readonly string[]).includes(name)
        return reply.code(unknownReport ? 404 : 400).send({ error: error.message })
      }
      let rows
      try {
        rows = await runReport(ch, name, { org, from, to })
      } catch (error) {
        // A stored setting the engine cannot use: the request is fine, the org's state is not.
        if (error instanceof OrgSettingsError) return reply.code(409).send({ error: error.message })
        throw error
      }
      if (format === 'json') return reply.send(rows)
      return reply
        .type(format === 'csv' ? 'text/csv' : 'text/plain')
        .send(formatReport(name, rows, format as ReportFormat))
    },
  )
  app.get('/v1/reports', async () => ({ reports: REPORT_NAMES }))
  app.get<{ Params: { org: string } }>('/v1/orgs/:org/settings', async (request) =>
    getOrgSettings(ch, request.params.org),
  )
  app.put<{ Params: { org: string }; Body: { timezone?: string; defaultCurrency?: string } }>(
    '/v1/orgs/:org/settings',
    async (request, reply) => {
      try {
        return await setOrgSettings(ch, request.params.org, request.body ?? {})
      } catch (error) {
        if (error instanceof OrgSettingsError) return reply.code(400).send({ error: error.message })
        throw error
      }
    },
  )
}

/** Starts a rebuild of checked parameters (`startRebuild` with the service's Temporal client). */
export type RebuildStarter = (params: RebuildParams) => Promise<StartedRebuild>

/**
 * `POST /v1/orgs/:org/rebuild`, body `{ from?, to? }`: 202 with the rebuild's workflow id and
 * Temporal UI link. Parameters are checked with the schema the CLI and the activities use, before
 * anything starts: a bad one gets a 400 problem+json (RFC 9457) naming each, and no workflow.
 */
export function registerRebuildRoute(app: FastifyInstance, start: RebuildStarter): void {
  app.post<{ Params: { org: string }; Body: unknown }>('/v1/orgs/:org/rebuild', async (request, reply) => {
    const body = parseParams(RebuildBody, request.body ?? {})
    const params = body.ok ? parseParams(RebuildParams, { org: request.params.org, ...body.value }) : body
    if (!params.ok) return reply.code(400).type(PROBLEM_CONTENT_TYPE).send(invalidParametersProblem(params.issues))
    return reply.code(202).send(await start(params.value))
  })
}

export const startReports: ServiceStarter = async ({ http, clickhouse, config }) => {
  registerReportRoutes(http.app, clickhouse)
  // Lazy: the reports answer while Temporal is still starting; a rebuild then waits for it.
  const connection = Connection.lazy({ address: config.TEMPORAL_ADDRESS })
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE })
  registerRebuildRoute(http.app, (params) => startRebuild(client, config, params, new Date()))
  return { name: 'reports', stop: () => connection.close() }
}
