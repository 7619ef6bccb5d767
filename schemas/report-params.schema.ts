/**
 * Parameters of the reports and of a rebuild: the CLI, the HTTP API and the activities check them
 * with these schemas, so that a parameter refused in one place is refused in every place, with the
 * same sentence: `<parameter>: <rule> (got …)`.
 *
 * Refusals are values (`{ ok: false, issues }`, see `parseParams`): the caller decides whether
 * they become a 400, a CLI error naming `--from`, or an error class of its own.
 */
import { z } from 'zod'
import { Id, OrgId } from './events.schema.ts'
import {
  AUTONOMY_METRICS,
  CARE_METRICS,
  DIRECTION_METRICS,
  TEAM_VOLUME_METRICS,
  VOLUME_METRICS,
} from './report-columns.schema.ts'

export { OrgId }

/** First and last day that ClickHouse's `Date` can hold. */
export const FIRST_DAY = '1970-01-01'
export const LAST_DAY = '2149-06-05'

/** Longest range a report accepts (about ten years). */
export const MAX_RANGE_DAYS = 3700

const DAY_RULE = `must be a calendar date YYYY-MM-DD between ${FIRST_DAY} and ${LAST_DAY}`
const DAY_SHAPE = /^(\d{4})-(\d{2})-(\d{2})$/
const DAY_MS = 86_400_000

/** True for a real calendar date `YYYY-MM-DD` (so not `2026-02-30`) that ClickHouse's `Date` can hold. */
export function isCalendarDay(value: unknown): value is string {
  if (typeof value !== 'string') return false
  const m = DAY_SHAPE.exec(value)
  if (!m) return false
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  return new Date(t).toISOString().slice(0, 10) === value && value >= FIRST_DAY && value <= LAST_DAY
}

/** A calendar day, `YYYY-MM-DD`, in an org's time zone. */
export const Day = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : DAY_RULE) })
  .refine(isCalendarDay, { error: DAY_RULE })
export type Day = z.infer<typeof Day>

/** Days from `from` to `to`, both included (0 when `to` is before `from`). */
function rangeDays(from: string, to: string): number {
  return Math.max(0, (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS + 1)
}

// Checks across two fields run once both are days, so that one bad day yields one issue only.
function fromNotAfterTo(ctx: z.core.ParsePayload<{ from?: string | undefined; to?: string | undefined }>): void {
  const { from, to } = ctx.value
  if (isCalendarDay(from) && isCalendarDay(to) && from > to) {
    ctx.issues.push({
      code: 'custom',
      input: ctx.value,
      path: ['from'],
      message: 'must not be after to',
      params: { got: `${from} > ${to}` },
    })
  }
}

function atMostMaxRange(ctx: z.core.ParsePayload<{ from: string; to: string }>): void {
  const { from, to } = ctx.value
  if (isCalendarDay(from) && isCalendarDay(to) && rangeDays(from, to) > MAX_RANGE_DAYS) {
    ctx.issues.push({
      code: 'custom',
      input: ctx.value,
      path: ['to'],
      message: `a range covers at most ${MAX_RANGE_DAYS} days`,
      params: { got: `${from}..${to}` },
    })
  }
}

/** An inclusive range of days, `from` ≤ `to`. */
export const DayRange = z.object({ from: Day, to: Day }).check(fromNotAfterTo)
export type DayRange = z.infer<typeof DayRange>

/** A report's parameters: an org and an inclusive range of at most `MAX_RANGE_DAYS` days. */
export const ReportParams = z.object({ org: OrgId, from: Day, to: Day }).check(fromNotAfterTo, atMostMaxRange)
export type ReportParams = z.infer<typeof ReportParams>

/**
 * The body of `POST /v1/orgs/:org/rebuild`: optionally the first and last day to recompute
 * (default: the org's first and last day with events). Strict: a misspelt `form` must not rebuild
 * everything.
 */
export const RebuildBody = z.strictObject({ from: Day.optional(), to: Day.optional() })
export type RebuildBody = z.infer<typeof RebuildBody>

/** A rebuild's parameters: an org, and the range of `RebuildBody`, `from` ≤ `to` when both are given. */
export const RebuildParams = z.strictObject({ org: OrgId, ...RebuildBody.shape }).check(fromNotAfterTo)
export type RebuildParams = z.infer<typeof RebuildParams>

/** Why a parameter was refused: its name, the rule it broke, and a sentence naming both. */
export const ParamIssue = z.object({
  /** `from`, `org`, …: the parameter's name where it was given (the CLI says `--from`). */
  parameter: z.string(),
  /** `must be a calendar date YYYY-MM-DD between 1970-01-01 and 2149-06-05`. */
  rule: z.string(),
  /** `from: must be a calendar date … (got "2026-02-30")`. */
  message: z.string(),
})
export type ParamIssue = z.infer<typeof ParamIssue>

export type ParamsResult<T> = { ok: true; value: T } | { ok: false; issues: ParamIssue[] }

/**
 * Parses `input` with one of the schemas above. `name` renames a parameter where it was given
 * (`(p) => '--' + p` on the command line).
 */
export function parseParams<S extends z.ZodType>(
  schema: S,
  input: unknown,
  name: (parameter: string) => string = (p) => p,
): ParamsResult<z.infer<S>> {
  const result = schema.safeParse(input, { error: ruleOf })
  if (result.success) return { ok: true, value: result.data }
  return { ok: false, issues: result.error.issues.flatMap((issue) => toParamIssues(issue, input, name)) }
}

/** The issues as one line, e.g. for an error message. */
export function formatParamIssues(issues: readonly ParamIssue[]): string {
  return issues.map((issue) => issue.message).join('; ')
}

/** Rules for zod's default issues; a rule set in a schema above wins over these. */
function ruleOf(issue: z.core.$ZodRawIssue): string | undefined {
  if (issue.input === undefined && issue.code === 'invalid_type') return 'is required'
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${issue.expected === 'object' ? 'an object' : `a ${issue.expected}`}`
    case 'too_small':
      return issue.origin === 'string' && issue.minimum === 1
        ? 'must not be empty'
        : `must be at least ${issue.minimum} characters long`
    case 'too_big':
      return `must be at most ${issue.maximum} characters long`
    default:
      return undefined
  }
}

function toParamIssues(issue: z.core.$ZodIssue, input: unknown, name: (p: string) => string): ParamIssue[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => paramIssue(name(key), 'is not a parameter', input, [key]))
  }
  const parameter = issue.path.length ? name(issue.path.map(String).join('.')) : '(parameters)'
  const got = issue.code === 'custom' && typeof issue.params?.['got'] === 'string' ? issue.params['got'] : undefined
  return [paramIssue(parameter, issue.message, input, issue.path, got)]
}

function paramIssue(
  parameter: string,
  rule: string,
  input: unknown,
  path: readonly PropertyKey[],
  got?: string,
): ParamIssue {
  const value = valueAt(input, path)
  const shown = got ?? (value === undefined ? undefined : JSON.stringify(value))
  return { parameter, rule, message: `${parameter}: ${rule}${shown === undefined ? '' : ` (got ${shown})`}` }
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root
  for (const key of path) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined
    current = (current as Record<PropertyKey, unknown>)[key]
  }
  return current
}

// ---------------------------------------------------------------------------------------------
// trend (docs/metrics.md "Reports"): one metric of one manager or rep, week by week.

/**
 * The metrics a trend follows for a manager: every metric column of the three manager reports,
 * then the `team_*` columns that only team-summary has. `team_wins` is manager-autonomy's (wins
 * of team deal events), not team-summary's Σ of the reps' wins. Kept equal to the report columns
 * by test/unit/summary-reports.unit.test.ts.
 */
export const TREND_MANAGER_METRICS = [
  ...AUTONOMY_METRICS,
  ...DIRECTION_METRICS,
  ...CARE_METRICS,
  ...TEAM_VOLUME_METRICS.filter((m) => m !== 'team_wins'),
] as const

/** The metrics a trend follows for a rep: every metric column of rep-volume (not its ids). */
export const TREND_REP_METRICS = VOLUME_METRICS

/** Every metric a trend can follow. */
export const TREND_METRICS = [...TREND_MANAGER_METRICS, ...TREND_REP_METRICS] as const
export const TrendMetric = z.enum(TREND_METRICS, { error: `must be one of ${TREND_METRICS.join(', ')}` })
export type TrendMetric = z.infer<typeof TrendMetric>

/** Most weeks a trend covers (two years): each week is a report of its own. */
export const MAX_TREND_WEEKS = 104

/** The first Monday and the last Sunday that ClickHouse's `Date` holds: a trend's weeks lie between. */
export const FIRST_TREND_DAY = '1970-01-05'
export const LAST_TREND_DAY = '2149-06-01'

const WEEKS_RULE = `must be a whole number of weeks from 1 to ${MAX_TREND_WEEKS}`
const Weeks = z.coerce
  .number({ error: WEEKS_RULE })
  .int({ error: WEEKS_RULE })
  .min(1, { error: WEEKS_RULE })
  .max(MAX_TREND_WEEKS, { error: WEEKS_RULE })

/**
 * A trend's parameters: an org, a metric of `TREND_METRICS`, exactly one of `manager` (for a
 * manager metric) and `rep` (for a rep metric), and either `from`/`to` (widened to whole ISO weeks)
 * or `weeks`, the last N full weeks before today in the org's timezone. Strict: a misspelt
 * `manger` must not silently pick nobody.
 */
export const TrendParams = z
  .strictObject({
    org: OrgId,
    metric: TrendMetric,
    manager: Id.optional(),
    rep: Id.optional(),
    from: Day.optional(),
    to: Day.optional(),
    weeks: Weeks.optional(),
  })
  .check(onePerson, oneRange, fromNotAfterTo, trendWeeksBounded)
export type TrendParams = z.infer<typeof TrendParams>

type TrendInput = z.core.ParsePayload<{
  metric?: string | undefined
  manager?: string | undefined
  rep?: string | undefined
  from?: string | undefined
  to?: string | undefined
  weeks?: number | undefined
}>

function trendIssue(ctx: TrendInput, path: string, message: string, got?: string): void {
  ctx.issues.push({ code: 'custom', input: ctx.value, path: [path], message, ...(got ? { params: { got } } : {}) })
}

const isManagerMetric = (metric: unknown) => (TREND_MANAGER_METRICS as readonly unknown[]).includes(metric)
const isRepMetric = (metric: unknown) => (TREND_REP_METRICS as readonly unknown[]).includes(metric)

// Exactly one person, of the kind the metric is about (zod runs these checks once every field,
// the metric included, is valid).
function onePerson(ctx: TrendInput): void {
  const { metric, manager, rep } = ctx.value
  if (manager !== undefined && rep !== undefined) {
    trendIssue(ctx, 'rep', 'must not be given with manager: a trend follows one manager or one rep')
  } else if (manager === undefined && rep === undefined) {
    if (isRepMetric(metric)) trendIssue(ctx, 'rep', `is required for the rep metric ${String(metric)}`)
    else trendIssue(ctx, 'manager', `is required for the manager metric ${String(metric)}`)
  } else if (manager !== undefined && isRepMetric(metric)) {
    trendIssue(ctx, 'metric', 'must be a manager metric when manager is given', `"${String(metric)}" (a rep metric)`)
  } else if (rep !== undefined && isManagerMetric(metric)) {
    trendIssue(ctx, 'metric', 'must be a rep metric when rep is given', `"${String(metric)}" (a manager metric)`)
  }
}

function oneRange(ctx: TrendInput): void {
  const { from, to, weeks } = ctx.value
  if (weeks !== undefined) {
    if (from !== undefined || to !== undefined) trendIssue(ctx, 'weeks', 'must not be given with from and to')
  } else if (from === undefined && to === undefined) {
    trendIssue(ctx, 'weeks', 'is required unless from and to are given')
  } else if (to === undefined) {
    trendIssue(ctx, 'to', 'is required with from')
  } else if (from === undefined) {
    trendIssue(ctx, 'from', 'is required with to')
  }
}

/** 0 for Monday … 6 for Sunday. */
const weekdayIndex = (day: string) => (new Date(Date.parse(`${day}T00:00:00Z`)).getUTCDay() + 6) % 7

function trendWeeksBounded(ctx: TrendInput): void {
  const { from, to } = ctx.value
  if (isCalendarDay(from) && from < FIRST_TREND_DAY) {
    trendIssue(ctx, 'from', `must be in a whole week on or after ${FIRST_TREND_DAY}`, JSON.stringify(from))
  }
  if (isCalendarDay(to) && to > LAST_TREND_DAY) {
    trendIssue(ctx, 'to', `must be in a whole week on or before ${LAST_TREND_DAY}`, JSON.stringify(to))
  }
  if (!isCalendarDay(from) || !isCalendarDay(to) || from > to) return
  const weeks = (rangeDays(from, to) + weekdayIndex(from) + (6 - weekdayIndex(to))) / 7
  if (weeks > MAX_TREND_WEEKS) {
    trendIssue(ctx, 'to', `a trend covers at most ${MAX_TREND_WEEKS} weeks`, `${from}..${to} (${weeks} weeks)`)
  }
}

// ---------------------------------------------------------------------------------------------
// As of an instant: a report as the event store knew it then (events ingested by that instant).

const AS_OF_RULE = 'must be an RFC 3339 instant with offset between 1970 and 2299, e.g. 2026-03-09T08:00:00Z'
const INSTANT_SHAPE = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/
/** ClickHouse's DateTime64 holds instants up to the end of 2299. */
const LAST_INSTANT_MS = Date.UTC(2299, 11, 31, 23, 59, 59, 999)

/** True for an RFC 3339 timestamp with offset (`2026-03-09T08:00:00Z`, `…+01:00`) of a real date and time. */
export function isInstant(value: unknown): value is string {
  if (typeof value !== 'string') return false
  const m = INSTANT_SHAPE.exec(value)
  if (!m) return false
  const [, date = '', hh, mm, ss, , oh = '00', om = '00'] = m
  const t = Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)))
  if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== date) return false
  if (Number(hh) > 23 || Number(mm) > 59 || Number(ss) > 59 || Number(oh) > 23 || Number(om) > 59) return false
  const at = Date.parse(value.toUpperCase())
  return at >= 0 && at <= LAST_INSTANT_MS
}

/** An instant, RFC 3339 with offset: the report counts the events ingested by then. */
export const AsOf = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : AS_OF_RULE) })
  .refine(isInstant, { error: AS_OF_RULE })
export type AsOf = z.infer<typeof AsOf>

/**
 * `ReportParams` and, optionally, `asOf`: only the events ingested by that instant count (the
 * reference computation from the event store; `as_of` over HTTP, `--as-of` on the command line).
 */
export const ReportAsOfParams = z
  .object({ org: OrgId, from: Day, to: Day, asOf: AsOf.optional() })
  .check(fromNotAfterTo, atMostMaxRange)
export type ReportAsOfParams = z.infer<typeof ReportAsOfParams>

// ---------------------------------------------------------------------------------------------
// explain: the events and deals behind one count of docs/metrics.md.

/** The count metrics of a manager (docs/metrics.md, "Per manager m"): what explain lists. */
export const EXPLAIN_MANAGER_METRICS = [
  'deals_active',
  'deals_intervened',
  'takeovers',
  'team_wins',
  'rep_closed_wins',
  'team_size',
  'reps_with_quota',
  'goals_set',
  'reps_with_goals',
  'rep_messages',
  'replied_within_24h',
  'unanswered',
  'one_on_ones',
  'reps_with_one_on_one',
  'lunches',
  'recognitions',
] as const

/** The count metrics of a rep (docs/metrics.md, "Per rep r"). */
export const EXPLAIN_REP_METRICS = [
  'opportunities_created',
  'opportunities_qualified',
  'wins',
  'losses',
  'activities',
  'calls',
  'emails',
  'meetings',
  'accounts_engaged',
  'contacts_engaged',
  'deals_worked',
  'multithreaded_deals',
] as const

export const EXPLAIN_METRICS = [...EXPLAIN_MANAGER_METRICS, ...EXPLAIN_REP_METRICS] as const

/** The metrics that are no counts, and which counts explain them instead. */
const NOT_COUNTS: Record<string, string> = {
  intervention_rate: 'a ratio of deals_intervened / deals_active: explain deals_intervened and deals_active',
  rep_led_win_share: 'a ratio of rep_closed_wins / team_wins: explain rep_closed_wins and team_wins',
  quota_coverage: 'a ratio of reps_with_quota / team_size: explain reps_with_quota and team_size',
  goal_coverage: 'a ratio of reps_with_goals / team_size: explain reps_with_goals and team_size',
  reply_within_24h_share: 'a ratio of replied_within_24h / rep_messages: explain replied_within_24h and rep_messages',
  one_on_one_coverage: 'a ratio of reps_with_one_on_one / team_size: explain reps_with_one_on_one and team_size',
  win_rate: 'a ratio of wins / (wins + losses): explain wins and losses',
  contacts_per_account: 'a ratio of contacts_engaged / accounts_engaged: explain contacts_engaged and accounts_engaged',
  multithreaded_share: 'a ratio of multithreaded_deals / deals_worked: explain multithreaded_deals and deals_worked',
  median_reply_minutes: 'a quantile of the reply delays: explain rep_messages, whose items show each reply',
  p90_reply_minutes: 'a quantile of the reply delays: explain rep_messages, whose items show each reply',
  pipeline_created_amount: 'an amount per currency: explain opportunities_created',
  won_amount: 'an amount per currency: explain wins',
}

function explainMetricRule(input: unknown): string {
  const notCount = typeof input === 'string' && Object.hasOwn(NOT_COUNTS, input) ? NOT_COUNTS[input] : undefined
  if (input === undefined) return 'is required'
  if (notCount) return `explain covers count metrics; ${String(input)} is ${notCount}`
  return `must be a count metric, one of ${EXPLAIN_METRICS.join(', ')}`
}

export const ExplainMetric = z.enum(EXPLAIN_METRICS, { error: (issue) => explainMetricRule(issue.input) })
export type ExplainMetric = z.infer<typeof ExplainMetric>

/** Whether a count metric is one of a manager (`manager`) or of a rep (`rep`). */
export function explainGrain(metric: ExplainMetric): 'manager' | 'rep' {
  return (EXPLAIN_MANAGER_METRICS as readonly string[]).includes(metric) ? 'manager' : 'rep'
}

type ExplainInput = z.core.ParsePayload<{ metric?: string; manager?: string | undefined; rep?: string | undefined }>

// Exactly one of manager and rep, the one the metric is about; nothing more when the metric is bad.
function explainPerson(ctx: ExplainInput): void {
  const { metric, manager, rep } = ctx.value
  const issue = (path: string, message: string, got?: string) =>
    ctx.issues.push({ code: 'custom', input: ctx.value, path: [path], message, ...(got ? { params: { got } } : {}) })
  if (!(EXPLAIN_METRICS as readonly unknown[]).includes(metric)) return
  const grain = explainGrain(metric as ExplainMetric)
  if (manager !== undefined && rep !== undefined) {
    issue('rep', 'must not be given with manager: explain one manager or one rep')
  } else if (manager === undefined && rep === undefined) {
    issue(grain, `is required for the ${grain} metric ${String(metric)}`)
  } else if (grain === 'rep' && manager !== undefined) {
    issue('metric', 'must be a manager metric when manager is given', `"${String(metric)}" (a rep metric)`)
  } else if (grain === 'manager' && rep !== undefined) {
    issue('metric', 'must be a rep metric when rep is given', `"${String(metric)}" (a manager metric)`)
  }
}

/**
 * Parameters of explain: an org, a count metric, exactly one of `manager` (a manager metric) and
 * `rep` (a rep metric), the range, and optionally `asOf` as in `ReportAsOfParams`. Strict: a
 * misspelt `manger` must not explain nobody.
 */
export const ExplainParams = z
  .strictObject({
    org: OrgId,
    metric: ExplainMetric,
    manager: Id.optional(),
    rep: Id.optional(),
    from: Day,
    to: Day,
    asOf: AsOf.optional(),
  })
  .check(explainPerson, fromNotAfterTo, atMostMaxRange)
export type ExplainParams = z.infer<typeof ExplainParams>
