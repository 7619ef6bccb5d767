/**
 * The reports HTTP API: `GET /v1/orgs/:org/reports/:name?from=&to=` and the org settings (the
 * rebuild route is the worker's: services/worker/rebuild-route.ts). With the embedded engine the running services own the data folder,
 * so the CLI's `report` and `org` read through these routes.
 *
 * | route | right | success | refusals (problem+json) |
 * |---|---|---|---|
 * | `GET /v1/reports` | none | 200 the report names | |
 * | `GET /v1/orgs/:org/reports/:name` | read | 200 rows (json, csv, table) | 400, 401, 403, 404 unknown report, 409 unusable stored setting |
 * | `GET /v1/orgs/:org/settings` | read | 200 | 400, 401, 403 |
 * | `PUT /v1/orgs/:org/settings` | admin | 200 the settings now | 400, 401, 403 |
 *
 * Parameters are checked with the schemas the CLI uses (services/runtime/http-api.ts validates
 * the route schemas with `parseParams`), before any query or workflow starts.
 */
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import {
  invalidParametersProblem,
  problem,
  PROBLEM_TYPES,
  type Problem as ProblemBody,
} from '../../schemas/api-problem.schema.ts'
import { Id } from '../../schemas/events.schema.ts'
import { OrgPath, OrgSettingsAnswer, OrgSettingsBody } from '../../schemas/http-api.schema.ts'
import {
  AsOf,
  Day,
  DayRange,
  parseParams,
  TrendMetric,
  TrendParams,
  type ParamIssue,
} from '../../schemas/report-params.schema.ts'
import type { ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { getOrgSettings, OrgSettingsError, setOrgSettings } from '../projections/org-settings.ts'
import { displayNames, withNames } from './display-names.ts'
import { REPORT_NAMES, ReportParamsError, runReport, validateReportParams } from './report-queries.ts'
import { problemResponse, requireHttpApi, sendProblem } from '../runtime/http-api.ts'
import type { ServiceStarter } from '../runtime/service-host.ts'
import { formatReport, REPORT_FORMATS } from './report-format.ts'
import { trend } from './summary-reports.ts'
import { registerExplainRoutes } from './explain-routes.ts'
import { registerReportPage } from './report-page.ts'

const ReportPath = OrgPath.extend({
  name: z.enum(REPORT_NAMES, { error: `must be one of ${REPORT_NAMES.join(', ')}` }),
})

const ReportQuery = DayRange.extend({
  format: z
    .enum(REPORT_FORMATS, { error: `must be one of ${REPORT_FORMATS.join(', ')}` })
    .default('json')
    .meta({ description: 'json (rows), csv, or table (text)' }),
  as_of: AsOf.optional().meta({ description: 'Count only the events ingested by this instant (RFC 3339)' }),
  names: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .optional()
    .meta({ description: 'true: manager_name / rep_name beside the ids' }),
})

const ReportRows = z
  .array(z.record(z.string(), z.unknown()))
  .meta({ description: 'One row per manager or rep; the columns of docs/metrics.md "Reports"' })

export function registerReportRoutes(app: FastifyInstance, ch: ClickHouse): void {
  requireHttpApi(app)
  const api = app.withTypeProvider<ZodTypeProvider>()
  api.get(
    '/v1/orgs/:org/reports/:name',
    {
      config: { scope: 'read', notFoundParams: ['name'] },
      schema: {
        summary: 'A report of docs/metrics.md over an inclusive range of days (org time zone)',
        params: ReportPath,
        querystring: ReportQuery,
        response: {
          200: {
            description: 'The rows, as JSON, CSV or a text table',
            content: {
              'application/json': { schema: ReportRows },
              'text/csv': { schema: z.string() },
              'text/plain': { schema: z.string() },
            },
          },
          400: problemResponse('A parameter breaks its rule (each named in errors); no query ran'),
          404: problemResponse('No report of that name'),
          409: problemResponse("The org's stored settings cannot be used; change them with PUT settings"),
        },
      },
    },
    async (request, reply) => {
      const { org, name } = request.params
      const { from, to, format, as_of: asOf, names } = request.query
      const params = { org, from, to, ...(asOf === undefined ? {} : { asOf }) }
      try {
        // The CLI's check (the range's length among it), on the parameters as one.
        validateReportParams(name, params)
      } catch (error) {
        if (error instanceof ReportParamsError) return sendProblem(reply, invalidParametersProblem(error.issues))
        throw error
      }
      let rows
      try {
        rows = await runReport(ch, name, params)
        if (names === 'true') {
          const { timezone } = await getOrgSettings(ch, org)
          rows = withNames(rows, await displayNames(ch, { org, to, tz: timezone }))
        }
      } catch (error) {
        // A stored setting the engine cannot use: the request is fine, the org's state is not.
        if (error instanceof OrgSettingsError) {
          return sendProblem(reply, problem(PROBLEM_TYPES.conflict, 409, error.message))
        }
        throw error
      }
      if (format === 'json') return reply.send(rows)
      return reply.type(format === 'csv' ? 'text/csv' : 'text/plain').send(formatReport(name, rows, format))
    },
  )
  api.get(
    '/v1/orgs/:org/trend/:metric',
    {
      config: { scope: 'read', notFoundParams: ['metric'] },
      schema: {
        summary: 'One metric of one manager or rep per ISO week, oldest first (docs/metrics.md, trend)',
        params: OrgPath.extend({ metric: TrendMetric }),
        querystring: z.object({
          manager: Id.optional().meta({ description: 'The manager (a manager metric)' }),
          rep: Id.optional().meta({ description: 'The rep (a rep-volume metric)' }),
          weeks: z.string().optional().meta({ description: 'The last N whole weeks before today (org time zone)' }),
          from: Day.optional(),
          to: Day.optional(),
        }),
        response: {
          200: z
            .array(z.record(z.string(), z.unknown()))
            .meta({ description: '`{ week: <its Monday>, <metric>: value or null }` per week' }),
          400: problemResponse('A parameter breaks its rule (each named in errors); no query ran'),
          404: problemResponse('No metric of that name'),
        },
      },
    },
    async (request, reply) => {
      const given = Object.fromEntries(Object.entries(request.query).filter(([, v]) => v !== undefined))
      const params = parseParams(TrendParams, { ...given, org: request.params.org, metric: request.params.metric })
      if (!params.ok) return sendProblem(reply, invalidParametersProblem(params.issues))
      try {
        return await trend(ch, params.value, 'projections', new Date())
      } catch (error) {
        if (error instanceof ReportParamsError) return sendProblem(reply, invalidParametersProblem(error.issues))
        if (error instanceof OrgSettingsError) {
          return sendProblem(reply, problem(PROBLEM_TYPES.conflict, 409, error.message))
        }
        throw error
      }
    },
  )
  api.get(
    '/v1/reports',
    {
      schema: {
        summary: 'The names of the reports',
        response: { 200: z.object({ reports: z.array(z.enum(REPORT_NAMES)) }) },
      },
    },
    async () => ({ reports: [...REPORT_NAMES] }),
  )
  api.get(
    '/v1/orgs/:org/settings',
    {
      config: { scope: 'read' },
      schema: {
        summary: "An org's settings (defaults for anything never set)",
        params: OrgPath,
        response: { 200: OrgSettingsAnswer, 400: problemResponse('A parameter breaks its rule') },
      },
    },
    async (request) => getOrgSettings(ch, request.params.org),
  )
  api.put(
    '/v1/orgs/:org/settings',
    {
      config: { scope: 'admin' },
      schema: {
        summary: "Changes an org's settings; a rebuild then recomputes its metrics with them",
        params: OrgPath,
        body: OrgSettingsBody,
        response: { 200: OrgSettingsAnswer, 400: problemResponse('A parameter breaks its rule') },
      },
    },
    async (request, reply) => {
      try {
        return await setOrgSettings(ch, request.params.org, request.body)
      } catch (error) {
        if (error instanceof OrgSettingsError) return sendProblem(reply, settingProblem(error.message))
        throw error
      }
    },
  )
}

/** The problem of an `OrgSettingsError`, whose message reads `<field>: <rule> (got …)`. */
function settingProblem(message: string): ProblemBody {
  const m = /^(\w+): (.*?)(?: \(got .*\))?$/.exec(message)
  const issue: ParamIssue | undefined = m ? { parameter: m[1]!, rule: m[2]!, message } : undefined
  return issue ? invalidParametersProblem([issue]) : problem(PROBLEM_TYPES.invalidParameters, 400, message)
}

export const startReports: ServiceStarter = async ({ http, clickhouse }) => {
  registerReportRoutes(http.app, clickhouse)
  registerExplainRoutes(http.app, clickhouse)
  registerReportPage(http.app)
  return { name: 'reports', stop: async () => {} }
}
