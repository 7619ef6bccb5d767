/**
 * `GET /v1/orgs/:org/explain/:metric?manager=&rep=&from=&to=&as_of=`: the explanation of one count
 * (explain.ts) as JSON. Parameters are checked with the schemas' `ExplainParams` before anything is
 * read: a bad one gets a 400 problem+json (RFC 9457) naming each, as the instant is named `as_of`.
 */
import type { FastifyInstance } from 'fastify'
import { invalidParametersProblem, PROBLEM_CONTENT_TYPE } from '../../schemas/api-problem.schema.ts'
import { ExplainParams, parseParams } from '../../schemas/report-params.schema.ts'
import type { ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { OrgSettingsError, ReportParamsError } from '../errors.ts'
import { explainMetric } from './explain.ts'

/** The query string's names of ExplainParams' fields where they differ (`as_of` for `asOf`). */
const QUERY_NAMES: Record<string, string> = { asOf: 'as_of' }
const FIELD_NAMES: Record<string, string> = { as_of: 'asOf' }
const queryName = (parameter: string) => QUERY_NAMES[parameter] ?? parameter

export function registerExplainRoutes(app: FastifyInstance, ch: ClickHouse): void {
  app.get<{ Params: { org: string; metric: string }; Querystring: Record<string, unknown> }>(
    '/v1/orgs/:org/explain/:metric',
    async (request, reply) => {
      const query = Object.entries(request.query ?? {}).map(([key, value]) => [FIELD_NAMES[key] ?? key, value])
      const input = { ...Object.fromEntries(query), org: request.params.org, metric: request.params.metric }
      const params = parseParams(ExplainParams, input, queryName)
      if (!params.ok) return reply.code(400).type(PROBLEM_CONTENT_TYPE).send(invalidParametersProblem(params.issues))
      try {
        return reply.send(await explainMetric(ch, params.value))
      } catch (error) {
        // A manager (rep) without a row in the report for that range.
        if (error instanceof ReportParamsError) {
          return reply.code(400).type(PROBLEM_CONTENT_TYPE).send(invalidParametersProblem(error.issues))
        }
        // A stored setting the engine cannot use: the request is fine, the org's state is not.
        if (error instanceof OrgSettingsError) return reply.code(409).send({ error: error.message })
        throw error
      }
    },
  )
}
