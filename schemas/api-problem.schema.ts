/**
 * Error bodies of the HTTP API, RFC 9457 problem details (`application/problem+json`): `type`
 * names the kind of problem, `detail` says what happened this time, and `errors` lists each
 * refused parameter (a path or query parameter, a body field, or the `Authorization` header)
 * with its rule, so that a client can point at the field to fix. Every route answers its errors
 * this way; only `POST /v1/orgs/:org/events` keeps its per-event answer for a batch it refused.
 */
import { z } from 'zod'
import { formatParamIssues, ParamIssue } from './report-params.schema.ts'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

/** The problem types of the API: URNs, as nothing is served at them (RFC 9457 §3.1.1). */
export const PROBLEM_TYPES = {
  invalidParameters: 'urn:dugout:problem:invalid-parameters',
  unauthorized: 'urn:dugout:problem:unauthorized',
  forbidden: 'urn:dugout:problem:forbidden',
  notFound: 'urn:dugout:problem:not-found',
  payloadTooLarge: 'urn:dugout:problem:payload-too-large',
  unsupportedMediaType: 'urn:dugout:problem:unsupported-media-type',
  tooManyRequests: 'urn:dugout:problem:too-many-requests',
  conflict: 'urn:dugout:problem:conflict',
  unavailable: 'urn:dugout:problem:unavailable',
  internal: 'urn:dugout:problem:internal',
} as const
export type ProblemType = (typeof PROBLEM_TYPES)[keyof typeof PROBLEM_TYPES]

const TITLES: Record<ProblemType, string> = {
  [PROBLEM_TYPES.invalidParameters]: 'Invalid parameters',
  [PROBLEM_TYPES.unauthorized]: 'Unauthorized',
  [PROBLEM_TYPES.forbidden]: 'Forbidden',
  [PROBLEM_TYPES.notFound]: 'Not found',
  [PROBLEM_TYPES.payloadTooLarge]: 'Payload too large',
  [PROBLEM_TYPES.unsupportedMediaType]: 'Unsupported media type',
  [PROBLEM_TYPES.tooManyRequests]: 'Too many requests',
  [PROBLEM_TYPES.conflict]: 'Conflict',
  [PROBLEM_TYPES.unavailable]: 'Service unavailable',
  [PROBLEM_TYPES.internal]: 'Internal error',
}

/** An RFC 9457 problem details object, with the `errors` extension member. */
export const Problem = z
  .object({
    type: z.string().meta({ examples: [PROBLEM_TYPES.invalidParameters] }),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string(),
    errors: z.array(ParamIssue).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details, served as application/problem+json' })
export type Problem = z.infer<typeof Problem>

/** A problem of `type`, its status and title those of the type. */
export function problem(type: ProblemType, status: number, detail: string, errors?: readonly ParamIssue[]): Problem {
  return { type, title: TITLES[type], status, detail, ...(errors === undefined ? {} : { errors: [...errors] }) }
}

/** 400: parameters that break their schema; nothing was started. */
export function invalidParametersProblem(issues: readonly ParamIssue[]): Problem {
  return problem(PROBLEM_TYPES.invalidParameters, 400, formatParamIssues(issues), issues)
}

/** One refused parameter, as `parseParams` would name it. */
export function paramIssue(parameter: string, rule: string): ParamIssue {
  return { parameter, rule, message: `${parameter}: ${rule}` }
}
