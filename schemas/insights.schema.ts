/**
 * The weekly insight emails' rules (docs/insights.md): their thresholds, what they read and what
 * they find. The rules themselves are `services/insights/insight-rules.ts`; these are the shapes a
 * caller parses report rows into and a renderer reads findings from.
 */
import { z } from 'zod'
import { Id } from './events.schema.ts'
import { Day, ExplainMetric } from './report-params.schema.ts'

// Numbers are coerced so that thresholds can come from settings or the environment as text.
const count = (fallback: number, what: string) => z.coerce.number().int().min(1).default(fallback).describe(what)
const share = (fallback: number, what: string) => z.coerce.number().gt(0).max(1).default(fallback).describe(what)
const positive = (fallback: number, what: string) => z.coerce.number().gt(0).default(fallback).describe(what)

/**
 * The thresholds of the insight rules, each with its default (the table of docs/insights.md).
 * Parse once where the emails are composed (`InsightThresholds.parse(settings)`); `{}` gives the
 * defaults.
 */
export const InsightThresholds = z
  .object({
    maxFindings: count(4, 'most findings one email leads with'),
    minHistoryWeeks: z.coerce
      .number()
      .int()
      .min(1)
      .max(4)
      .default(2)
      .describe('fewest of the previous four weeks a rep needs a row in before their four-week average is used'),
    interventionMinActiveDeals: count(5, 'fewest active team deals before the intervention rate is compared'),
    interventionOverMedian: share(0.2, 'how far above the org median (as a share of deals) the rate must be'),
    unansweredMin: count(1, 'rep messages unanswered for over a week before they are mentioned'),
    oneOnOneMaxDays: count(14, 'days without a one-on-one with a rep before it is mentioned'),
    oneOnOneLookbackDays: count(28, 'days the caller looks back for a rep’s last one-on-one (null: none in them)'),
    recognitionsMin: count(1, 'fewest recognitions a week before "no recognition" is mentioned'),
    opportunitiesDropShare: share(0.5, 'drop of a rep’s new opportunities against their four-week average'),
    opportunitiesMinAverage: positive(3, 'fewest new opportunities a week, on average, before a drop counts'),
    multithreadedShareBelow: share(0.5, 'multithreaded share of a rep’s deals below which they are mentioned'),
    multithreadedMinDeals: count(4, 'fewest deals worked in the week before the multithreaded share counts'),
    winRateUpPoints: share(0.2, 'rise of a rep’s win rate against their four-week win rate (praise)'),
    winRateMinClosed: count(3, 'fewest closed deals, this week and in the four weeks, before win rates count'),
    activityUpShare: positive(0.3, 'rise of a rep’s activities against their four-week average (praise)'),
    activityMinAverage: positive(10, 'fewest activities a week, on average, before a rise counts'),
  })
  .refine((t) => t.oneOnOneLookbackDays >= t.oneOnOneMaxDays, {
    path: ['oneOnOneLookbackDays'],
    error: 'must be at least oneOnOneMaxDays (a shorter look-back cannot tell 14 days without a one-on-one)',
  })
export type InsightThresholds = z.infer<typeof InsightThresholds>

/**
 * DUGOUT_INSIGHT_THRESHOLDS: `name=value` pairs, comma-separated (`oneOnOneMaxDays=21,maxFindings=3`),
 * over the defaults above. An unknown name, a pair without `=`, or a value outside its rule is an
 * issue naming the threshold.
 */
export const InsightThresholdsSetting = z
  .string()
  .transform((text, ctx) => {
    const given: Record<string, string> = {}
    for (const pair of text.split(',').map((p) => p.trim()).filter(Boolean)) {
      const cut = pair.indexOf('=')
      if (cut <= 0) {
        ctx.addIssue({ code: 'custom', message: `${JSON.stringify(pair)} must be name=value` })
        continue
      }
      given[pair.slice(0, cut).trim()] = pair.slice(cut + 1).trim()
    }
    const known = Object.keys(InsightThresholds.shape)
    for (const name of Object.keys(given).filter((n) => !known.includes(n)))
      ctx.addIssue({ code: 'custom', message: `${name} is not a threshold (one of ${known.join(', ')})` })
    const parsed = InsightThresholds.safeParse(given)
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        ctx.addIssue({ code: 'custom', message: `${issue.path.join('.')}: ${issue.message}` })
      return z.NEVER
    }
    return parsed.data
  })

const ratio = z.number().nullable()

/**
 * One manager's week: the columns of the manager-autonomy, manager-direction and manager-care rows
 * of that manager (their objects spread into one; other keys are dropped by parsing).
 */
export const ManagerWeek = z.object({
  manager_id: Id,
  deals_active: z.number(),
  deals_intervened: z.number(),
  intervention_rate: ratio,
  takeovers: z.number(),
  team_wins: z.number(),
  rep_closed_wins: z.number(),
  rep_led_win_share: ratio,
  team_size: z.number(),
  reps_with_quota: z.number(),
  quota_coverage: ratio,
  goals_set: z.number(),
  reps_with_goals: z.number(),
  goal_coverage: ratio,
  rep_messages: z.number(),
  replied_within_24h: z.number(),
  reply_within_24h_share: ratio,
  unanswered: z.number(),
  median_reply_minutes: ratio,
  p90_reply_minutes: ratio,
  one_on_ones: z.number(),
  reps_with_one_on_one: z.number(),
  one_on_one_coverage: ratio,
  lunches: z.number(),
  recognitions: z.number(),
})
export type ManagerWeek = z.infer<typeof ManagerWeek>

/** One rep's week: the rep-volume columns the rules read, and the rep's display name. */
export const RepWeek = z.object({
  rep_id: Id,
  rep_name: z.string().min(1),
  manager_id: Id.nullable(),
  opportunities_created: z.number(),
  wins: z.number(),
  losses: z.number(),
  activities: z.number(),
  deals_worked: z.number(),
  multithreaded_deals: z.number(),
})
export type RepWeek = z.infer<typeof RepWeek>

/**
 * What the reports do not carry per rep but the email needs (docs/insights.md, "Where the facts
 * come from"): days from the rep's last one-on-one with the manager to the week's Sunday, and the
 * rep's messages to the manager unanswered for over a week.
 */
export const RepFacts = z.object({
  rep_id: Id,
  /** Whole days from the calendar day of the last one-on-one to Sunday (0: on Sunday); null: none in the look-back. */
  days_since_one_on_one: z.number().int().min(0).nullable(),
  /** Rep messages to the manager sent in the week before this one and not replied within 168 h. */
  unanswered_over_week: z.number().int().min(0),
})
export type RepFacts = z.infer<typeof RepFacts>

/** An ISO week: its Monday and its Sunday, in the org's timezone. */
export const InsightWeek = z.object({ from: Day, to: Day })
export type InsightWeek = z.infer<typeof InsightWeek>

/** The median manager of the org this week: per metric, the exact median over the managers with a value. */
export const OrgMedians = z.object({
  intervention_rate: ratio,
  rep_led_win_share: ratio,
  quota_coverage: ratio,
  goal_coverage: ratio,
  reply_within_24h_share: ratio,
  unanswered: ratio,
  one_on_one_coverage: ratio,
  recognitions: ratio,
})
export type OrgMedians = z.infer<typeof OrgMedians>

/** A previous week of the manager: its manager row (null: not a manager then) and its reps' rows. */
export const InsightHistoryWeek = z.object({
  week: InsightWeek,
  manager: ManagerWeek.nullable(),
  /** Rows of the reps on the team at the end of *this* week, that week (a rep's history follows the rep). */
  reps: z.array(RepWeek),
})
export type InsightHistoryWeek = z.infer<typeof InsightHistoryWeek>

/** Everything the rules read for one manager's email. */
export const InsightInput = z.object({
  manager: z.object({ id: Id, name: z.string().min(1) }),
  week: InsightWeek,
  /** This week's manager row: every event counted by the team at the event. */
  current: ManagerWeek,
  /** This week's rep-volume rows of the reps on the team at the end of the week. */
  reps: z.array(RepWeek),
  /** Up to four previous weeks, any order; empty for a new manager. */
  history: z.array(InsightHistoryWeek).max(4),
  medians: OrgMedians,
  repFacts: z.array(RepFacts),
})
export type InsightInput = z.infer<typeof InsightInput>

export const FINDING_KINDS = [
  'high_intervention',
  'unanswered_messages',
  'no_one_on_one',
  'no_recognition',
  'opportunities_down',
  'single_threaded',
  'win_rate_up',
  'activity_up',
] as const
export const FindingKind = z.enum(FINDING_KINDS)
export type FindingKind = z.infer<typeof FindingKind>

/** Where a finding's numbers come from: explain's parameters without the org (the caller's). */
export const ExplainLink = z.object({
  metric: ExplainMetric,
  manager: Id.optional(),
  rep: Id.optional(),
  from: Day,
  to: Day,
})
export type ExplainLink = z.infer<typeof ExplainLink>

/** One finding of an email (docs/insights.md): a move, its numbers, the reps it names, one action. */
export const Finding = z.object({
  kind: FindingKind,
  severity: z.enum(['praise', 'attention']),
  /** How far from normal, in multiples of the rule's threshold: 1 at the edge (docs/insights.md, "Ranking"). */
  magnitude: z.number().min(0),
  title: z.string(),
  detail: z.string(),
  reps: z.array(z.object({ id: Id, name: z.string() })),
  action: z.string(),
  explain: ExplainLink,
})
export type Finding = z.infer<typeof Finding>

/**
 * One week of the manager's key metrics, for the email's chart (the last eight weeks, oldest
 * first): each the manager report's value that week, null when the manager had no row or the
 * ratio has no denominator.
 */
export const KeyMetricWeek = z.object({
  week: Day,
  intervention_rate: ratio,
  reply_within_24h_share: ratio,
  one_on_one_coverage: ratio,
})
export type KeyMetricWeek = z.infer<typeof KeyMetricWeek>
