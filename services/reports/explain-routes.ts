/**
 * `GET /v1/orgs/:org/explain/:metric?manager=|rep=&from=&to=&as_of=` (right: read): the events and
 * deals behind one count of docs/metrics.md (explain.ts), as JSON. Parameters are checked with the
 * schemas' `ExplainParams` before anything is read: a bad one gets a 400 problem+json naming it
 * as the query names it (`as_of` for the instant).
 */
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { invalidParametersProblem, problem, PROBLEM_TYPES } from '../../schemas/api-problem.schema.ts'
import { Id } from '../../schemas/events.schema.ts'
import { OrgPath } from '../../schemas/http-api.schema.ts'
import { AsOf, Day, ExplainMetric, ExplainParams, parseParams } from '../../schemas/report-params.schema.ts'
import type { ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { OrgSettingsError, ReportParamsError } from '../errors.ts'
import { problemResponse, requireHttpApi, sendProblem } from '../runtime/http-api.ts'
import { explainMetric } from './explain.ts'

const ExplainQuery = z.object({
  manager: Id.optional().meta({ description: 'The manager (a manager metric)' }),
  rep: Id.optional().meta({ description: 'The rep (a rep-volume metric)' }),
  from: Day,
  to: Day,
  as_of: AsOf.optional().meta({ description: 'Count only the events ingested by this instant (RFC 3339)' }),
})

/** The query's name of an ExplainParams field where they differ. */
const queryName = (parameter: string) => (parameter === 'asOf' ? 'as_of' : parameter)

export function registerExplainRoutes(app: FastifyInstance, ch: ClickHouse): void {
  requireHttpApi(app)
  app.withTypeProvider<ZodTypeProvider>().get(
    '/v1/orgs/:org/explain/:metric',
    {
      config: { scope: 'read' },
      schema: {
        summary: 'The events and deals behind one count metric of one manager or rep; they add up to its value',
        params: OrgPath.extend({ metric: ExplainMetric }),
        querystring: ExplainQuery,
        response: {
          200: z.record(z.string(), z.unknown()).meta({
            description: '{ metric, org, manager | rep, from, to, as_of?, value, unit, items: [{ id, events }] }',
          }),
          400: problemResponse('A parameter breaks its rule (each named in errors), or the person has no row'),
          409: problemResponse("The org's stored settings cannot be used; change them with PUT settings"),
        },
      },
    },
    async (request, reply) => {
      const { as_of: asOf, ...rest } = request.query
      const input = Object.fromEntries(
        Object.entries({ ...rest, asOf, org: request.params.org, metric: request.params.metric }).filter(
          ([, v]) => v !== undefined,
        ),
      )
      const params = parseParams(ExplainParams, input, queryName)
      if (!params.ok) return sendProblem(reply, invalidParametersProblem(params.issues))
      try {
        const explanation: Record<string, unknown> = { ...(await explainMetric(ch, params.value)) }
        return reply.send(explanation)
      } catch (error) {
        // A manager (rep) without a row in the report for that range.
        if (error instanceof ReportParamsError) return sendProblem(reply, invalidParametersProblem(error.issues))
        // A stored setting the engine cannot use: the request is fine, the org's state is not.
        if (error instanceof OrgSettingsError) {
          return sendProblem(reply, problem(PROBLEM_TYPES.conflict, 409, error.message))
        }
        throw error
      }
    },
  )
}
