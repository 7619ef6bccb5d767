/**
 * The reports HTTP API: `GET /v1/orgs/:org/reports/:name?from=&to=`. With the embedded engine the
 * running services own the data folder, so the CLI's `report` reads through this route.
 */
import type { FastifyInstance } from 'fastify'
import type { ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { getOrgSettings, OrgSettingsError, setOrgSettings } from '../metrics/org-settings.ts'
import { REPORT_NAMES, ReportParamsError, runReport, validateReportParams } from '../metrics/report-queries.ts'
import type { ServiceStarter } from '../runtime/service-host.ts'
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
      const rows = await runReport(ch, name, { org, from, to })
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

export const startReports: ServiceStarter = async ({ http, clickhouse }) => {
  registerReportRoutes(http.app, clickhouse)
  return { name: 'reports', stop: async () => {} }
}
