/**
 * Error bodies of the HTTP API that follow RFC 9457 (problem details, `application/problem+json`):
 * `type` names the kind of problem, `detail` says what happened this time, and `errors` lists
 * each refused parameter with its rule, so that a client can point at the field to fix.
 */
import { z } from 'zod'
import { formatParamIssues, ParamIssue } from './report-params.schema.ts'

export const PROBLEM_CONTENT_TYPE = 'application/problem+json'

/** The problem types of the API: URNs, as nothing is served at them (RFC 9457 §3.1.1). */
export const PROBLEM_TYPES = {
  invalidParameters: 'urn:dugout:problem:invalid-parameters',
} as const

/** An RFC 9457 problem details object, with the `errors` extension member. */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int().min(400).max(599),
  detail: z.string(),
  errors: z.array(ParamIssue).optional(),
})
export type Problem = z.infer<typeof Problem>

/** 400: parameters that break their schema; nothing was started. */
export function invalidParametersProblem(issues: readonly ParamIssue[]): Problem {
  return {
    type: PROBLEM_TYPES.invalidParameters,
    title: 'Invalid parameters',
    status: 400,
    detail: formatParamIssues(issues),
    errors: [...issues],
  }
}
