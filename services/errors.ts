/**
 * The errors of bad input: a day that is no calendar date, parameters that break their schema, an
 * org setting ClickHouse cannot use. Retrying gets the same answer, so at the Temporal boundary
 * (services/worker/worker-service.ts) each becomes a non-retryable `ApplicationFailure` whose
 * `type` is its class name, and a workflow given one ends failed at once instead of retrying for
 * ever. Anything else an activity throws is an infrastructure fault, retried by its policy.
 */
import { formatParamIssues, type ParamIssue } from '../schemas/report-params.schema.ts'

/** Input that cannot be processed as it is; `code` is stable, for programs. */
export abstract class BadInputError extends Error {
  abstract readonly code: string

  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    // Temporal names a failure after the error's class; logs and `instanceof`-less callers see the same.
    this.name = new.target.name
  }
}

/** A day or range that is not a valid calendar date. */
export class DayError extends BadInputError {
  readonly code = 'DAY_INVALID'
}

/** An org setting that ClickHouse cannot use, given or stored; nothing was written. */
export class OrgSettingsError extends BadInputError {
  readonly code = 'ORG_SETTINGS_INVALID'
}

/** Parameters that break their schema (schemas/report-params.schema.ts), each issue naming one. */
export class ParamsError extends BadInputError {
  readonly code: string = 'PARAMS_INVALID'
  readonly issues: readonly ParamIssue[]

  /** `prefix` says where, e.g. `rebuild: `; the message lists every issue. */
  constructor(issues: readonly ParamIssue[], prefix = '') {
    super(`${prefix}${formatParamIssues(issues)}`)
    this.issues = issues
  }
}

/** Report parameters that cannot be run. */
export class ReportParamsError extends ParamsError {
  override readonly code = 'REPORT_PARAMS_INVALID'
}

/** Every bad-input error class: their names are the failure types a workflow must never retry. */
export const BAD_INPUT_ERRORS = [DayError, OrgSettingsError, ParamsError, ReportParamsError] as const
