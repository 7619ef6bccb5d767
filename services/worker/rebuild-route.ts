/**
 * `POST /v1/orgs/:org/rebuild` (right: admin): starts a rebuild workflow. The worker service
 * serves it, beside the workflows it runs; the CLI's `dugout rebuild` starts the same workflow
 * through Temporal directly.
 */
import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { invalidParametersProblem } from '../../schemas/api-problem.schema.ts'
import { OrgPath, RebuildStartedAnswer } from '../../schemas/http-api.schema.ts'
import { parseParams, RebuildBody, RebuildParams } from '../../schemas/report-params.schema.ts'
import { problemResponse, requireHttpApi, sendProblem } from '../runtime/http-api.ts'
import type { StartedRebuild } from './workflow-client.ts'

/** Starts a rebuild of checked parameters (`startRebuild` with the service's Temporal client). */
export type RebuildStarter = (params: RebuildParams) => Promise<StartedRebuild>

/**
 * `POST /v1/orgs/:org/rebuild`, body `{ from?, to? }`: 202 with the rebuild's workflow id and
 * Temporal UI link. Parameters are checked with the schema the CLI and the activities use, before
 * anything starts: a bad one gets a 400 problem+json (RFC 9457) naming each, and no workflow.
 */
export function registerRebuildRoute(app: FastifyInstance, start: RebuildStarter): void {
  requireHttpApi(app)
  app.withTypeProvider<ZodTypeProvider>().post(
    '/v1/orgs/:org/rebuild',
    {
      config: { scope: 'admin' },
      schema: {
        summary: "Recomputes an org's metrics from the event store over a range (default: every day with events)",
        params: OrgPath,
        body: RebuildBody,
        response: {
          202: RebuildStartedAnswer,
          400: problemResponse('A parameter breaks its rule (each named in errors); nothing started'),
        },
      },
    },
    async (request, reply) => {
      // The body alone cannot say whether from ≤ to holds with the org's own defaults: the
      // parameters are checked again as one, as the CLI checks them.
      const params = parseParams(RebuildParams, { org: request.params.org, ...request.body })
      if (!params.ok) return sendProblem(reply, invalidParametersProblem(params.issues))
      return reply.code(202).send(await start(params.value))
    },
  )
}
