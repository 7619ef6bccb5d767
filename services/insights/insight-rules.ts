/**
 * The rules of the weekly insight emails (docs/insights.md): one manager's week, their previous
 * four weeks and the org's median manager in, ranked findings out. Pure: no I/O and no clock (the
 * week is an input), so every rule is unit-tested at its thresholds' edges.
 *
 * The team is the rep rows of the week (`input.reps`: reps on the manager's team at the end of
 * the week, as in the reports); nothing about another rep is named, even when a fact or a
 * previous week mentions them. Manager metrics are taken as given (each event counted by the team
 * at the event).
 */
import {
  FINDING_KINDS,
  type ExplainLink,
  type Finding,
  type FindingKind,
  type InsightInput,
  type InsightThresholds,
  type ManagerWeek,
  type OrgMedians,
  type RepFacts,
  type RepWeek,
} from '../../schemas/insights.schema.ts'

export type { Finding, FindingKind, InsightInput, InsightThresholds, OrgMedians }

/** The metrics of `OrgMedians`, in its order. */
const MEDIAN_METRICS = [
  'intervention_rate',
  'rep_led_win_share',
  'quota_coverage',
  'goal_coverage',
  'reply_within_24h_share',
  'unanswered',
  'one_on_one_coverage',
  'recognitions',
] as const satisfies readonly (keyof OrgMedians & keyof ManagerWeek)[]

/**
 * The org's median manager of a week from every manager's row of that week: per metric, the exact
 * median of docs/metrics.md ("Quantiles": the value at index floor(0.5·n) of the sorted values)
 * over the managers whose value is not null; null when none has one.
 */
export function orgMedians(rows: readonly ManagerWeek[]): OrgMedians {
  const out = {} as OrgMedians
  for (const metric of MEDIAN_METRICS) {
    const values = rows.map((row) => row[metric]).filter((v): v is number => v !== null)
    values.sort((a, b) => a - b)
    out[metric] = values[Math.floor(0.5 * values.length)] ?? null
  }
  return out
}

/**
 * The findings of one manager's week, biggest moves first (by `magnitude`, ties in the order of
 * `FINDING_KINDS`), at most `thresholds.maxFindings`. When the cut leaves out every praise finding
 * but one fired, the biggest praise takes the last place: the email always carries good news it has.
 * Empty when nothing is notable (`weekSummary` then says so).
 */
export function findInsights(input: InsightInput, thresholds: InsightThresholds): Finding[] {
  const team = teamOf(input)
  const all = RULES.flatMap((rule) => rule(input, team, thresholds))
  all.sort((a, b) => b.magnitude - a.magnitude || FINDING_KINDS.indexOf(a.kind) - FINDING_KINDS.indexOf(b.kind))
  const top = all.slice(0, thresholds.maxFindings)
  const praise = all.find((f) => f.severity === 'praise')
  if (praise !== undefined && !top.some((f) => f.severity === 'praise')) top[top.length - 1] = praise
  return top
}

/**
 * One neutral line to open the email with: how many findings, or, when there are none, that the
 * week was close to usual (or that the team had no reps at the end of the week).
 */
export function weekSummary(input: InsightInput, findings: readonly Finding[]): string {
  const span = `${input.week.from} to ${input.week.to}`
  if (teamOf(input).reps.length === 0 && findings.length === 0)
    return `Your team had no reps at the end of the week (${span}), so there is no team news this time.`
  if (findings.length === 0)
    return `Nothing stood out this week (${span}): your team's numbers are close to their usual and to the org's.`
  const good = findings.filter((f) => f.severity === 'praise').length
  const things = findings.length === 1 ? '1 thing' : `${findings.length} things`
  const news = good === 0 ? '' : good === findings.length ? ', all of it good news' : `, ${good} of them good news`
  return `${things} stood out this week (${span})${news}.`
}

// ---------------------------------------------------------------------------------------------

/** The team at the end of the week, and only its reps' facts and history. */
interface Team {
  reps: RepWeek[]
  facts: Map<string, RepFacts>
  /** Each rep's rows of the previous weeks (at most four). */
  past: Map<string, RepWeek[]>
  /** The manager's own rows of the previous weeks, most recent first. */
  managerPast: ManagerWeek[]
}

// Rep rows are filtered by manager_id too: a row of another team's rep passed by mistake must
// not reach a manager's email (docs/metrics.md: "It never shows another team's reps").
function teamOf(input: InsightInput): Team {
  const reps = input.reps.filter((r) => r.manager_id === input.manager.id)
  const ids = new Set(reps.map((r) => r.rep_id))
  const history = [...input.history].sort((a, b) => (a.week.from < b.week.from ? 1 : -1))
  const past = new Map(reps.map((r) => [r.rep_id, [] as RepWeek[]]))
  for (const week of history) for (const row of week.reps) past.get(row.rep_id)?.push(row)
  return {
    reps,
    facts: new Map(input.repFacts.filter((f) => ids.has(f.rep_id)).map((f) => [f.rep_id, f])),
    past,
    managerPast: history.flatMap((w) => (w.manager === null ? [] : [w.manager])),
  }
}

type Rule = (input: InsightInput, team: Team, t: InsightThresholds) => Finding[]

// Shares and averages are compared with a little slack, so that a value exactly at a threshold
// (0.3 − 0.1 is 0.19999999999999998 in binary) counts as at it.
const EPSILON = 1e-9
const atLeast = (value: number, bound: number) => value >= bound - EPSILON

/** A rep matched by a rule, with its distance from normal and the clause that says so. */
interface Hit {
  rep: RepWeek
  magnitude: number
  clause: string
}

const highIntervention: Rule = (input, team, t) => {
  const c = input.current
  const median = input.medians.intervention_rate
  if (c.deals_active < t.interventionMinActiveDeals || median === null) return []
  const rate = c.deals_intervened / c.deals_active
  if (!atLeast(rate - median, t.interventionOverMedian)) return []
  const active = sum(team.managerPast, (m) => m.deals_active)
  const own =
    active === 0
      ? ''
      : ` and your own ${period(team.managerPast.length)} of ${pct(sum(team.managerPast, (m) => m.deals_intervened) / active)}`
  return [
    {
      kind: 'high_intervention',
      severity: 'attention',
      magnitude: (rate - median) / t.interventionOverMedian,
      title: `You stepped into ${pct(rate)} of your team's active deals`,
      detail: `${c.deals_intervened} of ${c.deals_active} active deals this week, against an org median of ${pct(median)}${own}.`,
      reps: [],
      action:
        'Pick one of those deals and let its rep run the next step, with you a message away: it gives them room to lead and gives you time back.',
      explain: managerLink(input, 'deals_intervened'),
    },
  ]
}

const unansweredMessages: Rule = (input, team, t) => {
  const hits = team.reps.flatMap((rep): Hit[] => {
    const n = team.facts.get(rep.rep_id)?.unanswered_over_week ?? 0
    return n >= t.unansweredMin ? [{ rep, magnitude: n / t.unansweredMin, clause: `${rep.rep_name} (${n})` }] : []
  })
  if (hits.length === 0) return []
  const total = sum(hits, (h) => team.facts.get(h.rep.rep_id)?.unanswered_over_week ?? 0)
  const ranked = byMagnitude(hits)
  const from = addDays(input.week.from, -7)
  const to = addDays(input.week.from, -1)
  const messages = total === 1 ? 'A message' : `${total} messages`
  return [
    {
      kind: 'unanswered_messages',
      severity: 'attention',
      magnitude: total / t.unansweredMin,
      title: `${messages} from ${names(ranked)} ${total === 1 ? 'has' : 'have'} waited over a week for a reply`,
      detail: `Sent to you between ${from} and ${to}, with no reply within 7 days: ${list(ranked.map((h) => h.clause))}.`,
      reps: repsOf(ranked),
      action: `A short reply to ${first(ranked)} today closes the loop, even if it is only "thanks, I'm on it".`,
      explain: { metric: 'unanswered', manager: input.manager.id, from, to },
    },
  ]
}

const noOneOnOne: Rule = (input, team, t) => {
  // A rep with no facts given is not mentioned: no fact, no claim.
  const hits = team.reps.flatMap((rep): Hit[] => {
    const facts = team.facts.get(rep.rep_id)
    if (facts === undefined) return []
    const days = facts.days_since_one_on_one
    if (days !== null && days < t.oneOnOneMaxDays) return []
    const clause =
      days === null
        ? `${rep.rep_name}: none in the last ${t.oneOnOneLookbackDays} days`
        : `${rep.rep_name}: last one ${days} days ago`
    return [{ rep, magnitude: (days ?? t.oneOnOneLookbackDays) / t.oneOnOneMaxDays, clause }]
  })
  if (hits.length === 0) return []
  const ranked = byMagnitude(hits)
  return [
    {
      kind: 'no_one_on_one',
      severity: 'attention',
      magnitude: ranked[0]!.magnitude,
      title: `No one-on-one with ${names(ranked)} in the last ${t.oneOnOneMaxDays} days`,
      detail: `${list(ranked.map((h) => h.clause))}.`,
      reps: repsOf(ranked),
      action: `Book 30 minutes with ${first(ranked)} this week: ask what is getting in the way and what would help.`,
      explain: {
        metric: 'reps_with_one_on_one',
        manager: input.manager.id,
        from: addDays(input.week.to, -(t.oneOnOneMaxDays - 1)),
        to: input.week.to,
      },
    },
  ]
}

const noRecognition: Rule = (input, team, t) => {
  const c = input.current
  if (team.reps.length === 0 || c.recognitions >= t.recognitionsMin) return []
  // Each earlier week in a row also below the minimum makes the nudge a little bigger.
  let streak = 0
  while (streak < team.managerPast.length && team.managerPast[streak]!.recognitions < t.recognitionsMin) streak++
  const given = `You gave ${plural(c.recognitions, 'recognition')} to your team of ${team.reps.length} this week`
  const before =
    team.managerPast.length === 0
      ? ''
      : `; ${plural(
          sum(team.managerPast, (m) => m.recognitions),
          'recognition',
        )} in the previous ${plural(team.managerPast.length, 'week')}`
  const median =
    input.medians.recognitions === null ? '' : `; the org's median manager gave ${input.medians.recognitions}`
  // Someone who won this week is an easy first thank-you; name them when there is one.
  const winner = [...team.reps].sort((a, b) => b.wins - a.wins)[0]
  const named = winner !== undefined && winner.wins > 0 ? winner : undefined
  return [
    {
      kind: 'no_recognition',
      severity: 'attention',
      magnitude: 1 + streak / 4,
      title: 'No recognition for your team this week',
      detail: `${given}${before}${median}.`,
      reps: named === undefined ? [] : [{ id: named.rep_id, name: named.rep_name }],
      action:
        named === undefined
          ? 'Think of one thing a rep did well this week and thank them for it by name.'
          : `${named.rep_name} won ${plural(named.wins, 'deal')} this week: a word of thanks by name is a good place to start.`,
      explain: managerLink(input, 'recognitions'),
    },
  ]
}

const opportunitiesDown: Rule = (input, team, t) => {
  const hits = team.reps.flatMap((rep): Hit[] => {
    const past = history(team, rep, t)
    if (past === undefined) return []
    const average = sum(past, (r) => r.opportunities_created) / past.length
    if (!atLeast(average, t.opportunitiesMinAverage)) return []
    const drop = 1 - rep.opportunities_created / average
    if (!atLeast(drop, t.opportunitiesDropShare)) return []
    const clause = `${rep.rep_name} created ${rep.opportunities_created} against an average of ${fmt(average)} a week over the previous ${plural(past.length, 'week')}`
    return [{ rep, magnitude: drop / t.opportunitiesDropShare, clause }]
  })
  if (hits.length === 0) return []
  const ranked = byMagnitude(hits)
  const one = ranked.length === 1
  return [
    {
      kind: 'opportunities_down',
      severity: 'attention',
      magnitude: ranked[0]!.magnitude,
      title: one
        ? `${first(ranked)}'s new opportunities dipped to ${ranked[0]!.rep.opportunities_created} this week`
        : `New opportunities dipped for ${names(ranked)} this week`,
      detail: `New opportunities this week: ${list(ranked.map((h) => h.clause))}.`,
      reps: repsOf(ranked),
      action: `Ask ${first(ranked)} what is filling their week; an hour of prospecting side by side can restart the top of the pipeline.`,
      explain: repLink(input, 'opportunities_created', ranked[0]!.rep),
    },
  ]
}

const singleThreaded: Rule = (input, team, t) => {
  const hits = team.reps.flatMap((rep): Hit[] => {
    if (rep.deals_worked < t.multithreadedMinDeals) return []
    const share = rep.multithreaded_deals / rep.deals_worked
    if (atLeast(share, t.multithreadedShareBelow)) return []
    const clause = `${rep.rep_name}: ${rep.multithreaded_deals} of ${rep.deals_worked} deals worked reached three or more contacts (${pct(share)})`
    return [{ rep, magnitude: 1 + (t.multithreadedShareBelow - share) / t.multithreadedShareBelow, clause }]
  })
  if (hits.length === 0) return []
  const ranked = byMagnitude(hits)
  return [
    {
      kind: 'single_threaded',
      severity: 'attention',
      magnitude: ranked[0]!.magnitude,
      title: `${names(ranked)} ${ranked.length === 1 ? 'is' : 'are'} working most deals through fewer than three contacts`,
      detail: `This week, ${list(ranked.map((h) => h.clause))}.`,
      reps: repsOf(ranked),
      action: `Pick one of ${first(ranked)}'s bigger deals together and find two more people there to bring in: a deal with more friends is a safer deal.`,
      explain: repLink(input, 'deals_worked', ranked[0]!.rep),
    },
  ]
}

const winRateUp: Rule = (input, team, t) => {
  const hits = team.reps.flatMap((rep): Hit[] => {
    const past = history(team, rep, t)
    const closed = rep.wins + rep.losses
    if (past === undefined || closed < t.winRateMinClosed) return []
    const pastClosed = sum(past, (r) => r.wins + r.losses)
    if (pastClosed < t.winRateMinClosed) return []
    const rate = rep.wins / closed
    const before = sum(past, (r) => r.wins) / pastClosed
    if (!atLeast(rate - before, t.winRateUpPoints)) return []
    const clause = `${rep.rep_name} won ${rep.wins} of ${closed} closed deals (${pct(rate)}) against ${pct(before)} over the previous ${plural(past.length, 'week')}`
    return [{ rep, magnitude: (rate - before) / t.winRateUpPoints, clause }]
  })
  if (hits.length === 0) return []
  const ranked = byMagnitude(hits)
  const top = ranked[0]!.rep
  return [
    {
      kind: 'win_rate_up',
      severity: 'praise',
      magnitude: ranked[0]!.magnitude,
      title:
        ranked.length === 1
          ? `${first(ranked)}'s win rate is up to ${pct(top.wins / (top.wins + top.losses))}`
          : `Win rates are up for ${names(ranked)}`,
      detail: `This week ${list(ranked.map((h) => h.clause))}.`,
      reps: repsOf(ranked),
      action: `Tell ${first(ranked)} what you noticed and ask what they did differently: the team may want to hear it too.`,
      explain: repLink(input, 'wins', top),
    },
  ]
}

const activityUp: Rule = (input, team, t) => {
  const hits = team.reps.flatMap((rep): Hit[] => {
    const past = history(team, rep, t)
    if (past === undefined) return []
    const average = sum(past, (r) => r.activities) / past.length
    if (!atLeast(average, t.activityMinAverage)) return []
    const rise = rep.activities / average - 1
    if (!atLeast(rise, t.activityUpShare)) return []
    const clause = `${rep.rep_name} logged ${rep.activities} activities against an average of ${fmt(average)} a week over the previous ${plural(past.length, 'week')} (+${pct(rise)})`
    return [{ rep, magnitude: rise / t.activityUpShare, clause }]
  })
  if (hits.length === 0) return []
  const ranked = byMagnitude(hits)
  return [
    {
      kind: 'activity_up',
      severity: 'praise',
      magnitude: ranked[0]!.magnitude,
      title:
        ranked.length === 1
          ? `${first(ranked)}'s activity is up to ${ranked[0]!.rep.activities} this week`
          : `Activity is up for ${names(ranked)} this week`,
      detail: `This week ${list(ranked.map((h) => h.clause))}.`,
      reps: repsOf(ranked),
      action: `A quick word of thanks to ${first(ranked)} for the extra push goes a long way.`,
      explain: repLink(input, 'activities', ranked[0]!.rep),
    },
  ]
}

/** Every rule, in the order of `FINDING_KINDS` (the tie-break of the ranking). */
const RULES: readonly Rule[] = [
  highIntervention,
  unansweredMessages,
  noOneOnOne,
  noRecognition,
  opportunitiesDown,
  singleThreaded,
  winRateUp,
  activityUp,
]

// ---------------------------------------------------------------------------------------------

/** A rep's previous weeks, or undefined when there are fewer than `minHistoryWeeks` of them. */
function history(team: Team, rep: RepWeek, t: InsightThresholds): RepWeek[] | undefined {
  const past = team.past.get(rep.rep_id) ?? []
  return past.length >= t.minHistoryWeeks ? past : undefined
}

function managerLink(input: InsightInput, metric: ExplainLink['metric']): ExplainLink {
  return { metric, manager: input.manager.id, from: input.week.from, to: input.week.to }
}

function repLink(input: InsightInput, metric: ExplainLink['metric'], rep: RepWeek): ExplainLink {
  return { metric, rep: rep.rep_id, from: input.week.from, to: input.week.to }
}

function byMagnitude(hits: Hit[]): Hit[] {
  return [...hits].sort((a, b) => b.magnitude - a.magnitude || a.rep.rep_name.localeCompare(b.rep.rep_name))
}

const repsOf = (hits: readonly Hit[]) => hits.map((h) => ({ id: h.rep.rep_id, name: h.rep.rep_name }))
const first = (hits: readonly Hit[]) => hits[0]!.rep.rep_name
const names = (hits: readonly Hit[]) => and(hits.map((h) => h.rep.rep_name))

/** "a", "a and b", "a, b and c". */
function and(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`
}

/** Clauses that may hold commas themselves, separated by semicolons. */
function list(clauses: readonly string[]): string {
  return clauses.join('; ')
}

function sum<T>(items: readonly T[], of: (item: T) => number): number {
  return items.reduce((total, item) => total + of(item), 0)
}

const pct = (share: number) => `${Math.round(share * 100)}%`
const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1))
const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`

/** "your four-week average", or the average of fewer weeks, named honestly. */
function period(weeks: number): string {
  if (weeks === 4) return 'four-week average'
  return weeks === 1 ? 'rate last week' : `average over the previous ${weeks} weeks`
}

// Calendar arithmetic on `YYYY-MM-DD`, as UTC dates (no clock: the day is given).
function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10)
}
