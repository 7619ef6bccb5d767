/**
 * The behaviours of the synthetic sales organisation: manager styles and rep habits.
 *
 * These tables are the ground truth of the demo's story (documented in `services/demo/README.md`)
 * and of the tests that check the reports rank managers the way the styles say. The numbers are
 * tuned so that the three manager jobs of `docs/metrics.md` separate the styles unambiguously over any
 * week of the default demo, not merely over the whole range.
 */

/** The manager styles, in the round-robin order in which managers get them. */
export const MANAGER_STYLE_NAMES = ['micromanager', 'absent', 'coach', 'balanced'] as const

/** The name of a manager style. */
export type ManagerStyleName = (typeof MANAGER_STYLE_NAMES)[number]

/** How a manager of one style behaves. Rates are per week unless their name says otherwise. */
export interface ManagerStyle {
  readonly name: ManagerStyleName
  /** One line for tables and the demo's narration. */
  readonly summary: string
  /** What the style does, and which metrics it should move. */
  readonly description: string

  // Empower me (autonomy): how often the manager steps into the team's deals.
  /** Share of the team's deals the manager steps into at all. Decided per deal, so it bounds `intervention_rate`. */
  readonly dealAttention: number
  /** First stage (0 prospecting … 3 negotiation) at which the manager steps in; earlier, the deal is left alone. */
  readonly interventionFromStage: number
  /** On a deal the manager steps into: chance that a stage change is made by the manager. */
  readonly stageChangeByManager: number
  /** On such a deal: chance that a CRM field update is made by the manager. */
  readonly updateByManager: number
  /** On such a deal: chance that the manager closes it instead of the rep. */
  readonly closeByManager: number
  /** On such a deal: chance, when it reaches proposal or negotiation, that the manager takes it over. */
  readonly takeoverShare: number
  /** On such a deal: chance that the manager joins a rep's call or meeting (participant_ids). */
  readonly joinCallShare: number
  /** On such a deal: chance that a customer activity is logged by the manager himself. */
  readonly ownActivityShare: number

  // Direct me (direction).
  /** Share of the team whose quota the manager never sets (spread evenly over team positions). */
  readonly quotaForgetShare: number
  /** Working days after the period start at which the quota is set, as [min, max]. */
  readonly quotaDelayDays: readonly [number, number]
  /** Goals are set every this many weeks for each rep (alternating over the team), each covering that many weeks. */
  readonly goalEveryWeeks: number
  /** Goals set for a rep each time. */
  readonly goalsPerRep: number
  /** Chance that a due goal setting is skipped. */
  readonly goalSkipShare: number

  // Care about me (care).
  /** Chance that a rep's message gets an answer at all. */
  readonly replyShare: number
  /** Median delay of an answer, in working minutes (08:00–18:00 UTC, Monday to Friday). */
  readonly replyMedianWorkMinutes: number
  /** Log-space spread of the answer delay. */
  readonly replySigma: number
  /** Answers evenings and weekends too, instead of waiting for the next working morning. */
  readonly repliesOffHours: boolean
  /** Manager-initiated check-in threads per rep per week ("where is deal X?"). */
  readonly checkInsPerRepWeek: number
  /** Share of the team that ever gets one-on-ones (spread evenly over team positions). */
  readonly oneOnOneReach: number
  /** A rep within reach has a one-on-one every this many weeks (alternating over the team). */
  readonly oneOnOneEveryWeeks: number
  /** Chance that a due one-on-one is skipped. */
  readonly oneOnOneSkipShare: number
  /** Chance, per rep per week, of a coaching session. */
  readonly coachingPerRepWeek: number
  /** Chance, per rep per week, of a deal review with the manager. */
  readonly dealReviewsPerRepWeek: number
  /** Chance, per week, of a team meeting. */
  readonly teamMeetingWeekly: number
  /** Chance, per week, of a team lunch. */
  readonly teamLunchWeekly: number
  /** `recognition.given` to the team per week: the integer part every week, the fraction as a chance. */
  readonly recognitionsPerWeek: number
}

/** The style table: name, description and parameters of every manager style. */
export const MANAGER_STYLES: Readonly<Record<ManagerStyleName, ManagerStyle>> = {
  micromanager: {
    name: 'micromanager',
    summary: 'Steps into most deals: moves stages, joins calls, closes and takes over deals himself.',
    description:
      'Steps into 85% of the team deals from the first stage: half of their stage changes, updates ' +
      'and closes are his, he joins a third of the calls and meetings, logs a tenth of the activities ' +
      'himself and takes over one deal in eight at proposal. Answers within minutes, evenings and ' +
      'weekends included, checks in three times a week per rep, sets two goals per rep per week and ' +
      'runs weekly deal reviews, but holds one-on-ones with only the same 60% of the team and rarely ' +
      'praises. Expected: highest intervention_rate and takeovers, lowest rep_led_win_share.',
    dealAttention: 0.85,
    interventionFromStage: 0,
    stageChangeByManager: 0.5,
    updateByManager: 0.5,
    closeByManager: 0.5,
    takeoverShare: 0.12,
    joinCallShare: 0.35,
    ownActivityShare: 0.1,
    quotaForgetShare: 0,
    quotaDelayDays: [0, 0],
    goalEveryWeeks: 1,
    goalsPerRep: 2,
    goalSkipShare: 0,
    replyShare: 0.95,
    replyMedianWorkMinutes: 8,
    replySigma: 1,
    repliesOffHours: true,
    checkInsPerRepWeek: 3,
    oneOnOneReach: 0.6,
    oneOnOneEveryWeeks: 1,
    oneOnOneSkipShare: 0.02,
    coachingPerRepWeek: 0.05,
    dealReviewsPerRepWeek: 1,
    teamMeetingWeekly: 1,
    teamLunchWeekly: 0.05,
    recognitionsPerWeek: 0.3,
  },
  absent: {
    name: 'absent',
    summary: 'Rarely answers, rare one-on-ones, forgets quotas and goals; swoops in at closing time.',
    description:
      'Answers fewer than half of the messages, typically a day and a half of working time later; ' +
      'meets two reps in six one-on-one, every six weeks at best; never sets the quota of half of the ' +
      "team and sets the others' a week late; almost never sets goals. Leaves the deals alone until " +
      'proposal, then steps into 30% of them and closes most of those himself. Expected: slowest ' +
      'median reply, lowest reply_within_24h_share, one_on_one_coverage, quota_coverage and goal_coverage.',
    dealAttention: 0.3,
    interventionFromStage: 2,
    stageChangeByManager: 0.3,
    updateByManager: 0.3,
    closeByManager: 0.6,
    takeoverShare: 0,
    joinCallShare: 0.3,
    ownActivityShare: 0,
    quotaForgetShare: 0.5,
    quotaDelayDays: [3, 9],
    goalEveryWeeks: 4,
    goalsPerRep: 1,
    goalSkipShare: 0.9,
    replyShare: 0.45,
    replyMedianWorkMinutes: 900,
    replySigma: 0.8,
    repliesOffHours: false,
    checkInsPerRepWeek: 0.1,
    oneOnOneReach: 0.35,
    oneOnOneEveryWeeks: 6,
    oneOnOneSkipShare: 0.5,
    coachingPerRepWeek: 0,
    dealReviewsPerRepWeek: 0.05,
    teamMeetingWeekly: 0.25,
    teamLunchWeekly: 0.02,
    recognitionsPerWeek: 0.1,
  },
  coach: {
    name: 'coach',
    summary: 'Weekly one-on-ones with every rep, fast answers, frequent recognition, sets goals, rarely intervenes.',
    description:
      'Meets every rep one-on-one nearly every week and coaches half of them, answers nearly every ' +
      'message within minutes during working hours, recognises the team three or four times a week, ' +
      'sets a goal per rep per week and every quota on time. Steps into 3% of the deals, from ' +
      'proposal on, only by joining a call. Expected: highest one_on_one_coverage and recognitions, ' +
      'lowest intervention_rate.',
    dealAttention: 0.03,
    interventionFromStage: 2,
    stageChangeByManager: 0,
    updateByManager: 0,
    closeByManager: 0,
    takeoverShare: 0,
    joinCallShare: 0.15,
    ownActivityShare: 0,
    quotaForgetShare: 0,
    quotaDelayDays: [0, 0],
    goalEveryWeeks: 1,
    goalsPerRep: 1,
    goalSkipShare: 0,
    replyShare: 0.97,
    replyMedianWorkMinutes: 12,
    replySigma: 1,
    repliesOffHours: false,
    checkInsPerRepWeek: 1,
    oneOnOneReach: 1,
    oneOnOneEveryWeeks: 1,
    oneOnOneSkipShare: 0.03,
    coachingPerRepWeek: 0.5,
    dealReviewsPerRepWeek: 0.25,
    teamMeetingWeekly: 1,
    teamLunchWeekly: 0.25,
    recognitionsPerWeek: 3.5,
  },
  balanced: {
    name: 'balanced',
    summary: 'Middle of the road on every job.',
    description:
      'Steps into a third of the deals (a fifth of their changes and closes), answers nearly nine ' +
      'messages in ten, in about an hour and a half of working time, meets all but one rep one-on-one ' +
      'every other week, sets quotas on time and goals every other week, recognises the team once a ' +
      'week. Expected: between the others on every metric.',
    dealAttention: 0.35,
    interventionFromStage: 0,
    stageChangeByManager: 0.2,
    updateByManager: 0.2,
    closeByManager: 0.2,
    takeoverShare: 0.02,
    joinCallShare: 0.2,
    ownActivityShare: 0.03,
    quotaForgetShare: 0,
    quotaDelayDays: [0, 1],
    goalEveryWeeks: 2,
    goalsPerRep: 1,
    goalSkipShare: 0.05,
    replyShare: 0.88,
    replyMedianWorkMinutes: 90,
    replySigma: 1.2,
    repliesOffHours: false,
    checkInsPerRepWeek: 0.5,
    oneOnOneReach: 0.85,
    oneOnOneEveryWeeks: 2,
    oneOnOneSkipShare: 0,
    coachingPerRepWeek: 0.15,
    dealReviewsPerRepWeek: 0.5,
    teamMeetingWeekly: 0.9,
    teamLunchWeekly: 0.1,
    recognitionsPerWeek: 1,
  },
}

/** The style of the manager at 0-based `index`: round-robin, so any four consecutive managers cover every style. */
export function styleOfManager(index: number): ManagerStyleName {
  return MANAGER_STYLE_NAMES[
    ((index % MANAGER_STYLE_NAMES.length) + MANAGER_STYLE_NAMES.length) % MANAGER_STYLE_NAMES.length
  ] as ManagerStyleName
}

/** The rep habits. */
export const REP_HABIT_NAMES = ['hunter', 'farmer', 'average'] as const

/** The name of a rep habit. */
export type RepHabitName = (typeof REP_HABIT_NAMES)[number]

/** Activity kinds of `activity.logged`, in the order of `RepHabit.activityMix`. */
export const ACTIVITY_KINDS = ['call', 'email', 'meeting', 'task', 'note'] as const

/** How a rep of one habit works. Rates are per working day. */
export interface RepHabit {
  readonly name: RepHabitName
  readonly description: string
  /** `opportunity.created` per working day. */
  readonly dealsPerDay: number
  /** `activity.logged` per working day. */
  readonly activitiesPerDay: number
  /** Relative weights of call, email, meeting, task, note. */
  readonly activityMix: readonly [number, number, number, number, number]
  /** Customer contacts involved in each deal, as [min, max]: the multi-threading habit. */
  readonly contactsPerDeal: readonly [number, number]
  /** Accounts in the rep's book. */
  readonly accounts: number
  /** Median deal amount (log-normal). */
  readonly medianAmount: number
  /** Chance of moving on from prospecting, qualified and proposal (else the deal is lost). */
  readonly advance: readonly [number, number, number]
  /** Chance of winning a deal that reached negotiation. */
  readonly winAtNegotiation: number
  /** Mean working days between two steps of a deal. */
  readonly stepMeanDays: number
  /** Threads the rep opens with the manager per working day. */
  readonly messagesToManagerPerDay: number
  /** Threads the rep opens with a teammate per working day. */
  readonly peerMessagesPerDay: number
}

/** The rep habit table. */
export const REP_HABITS: Readonly<Record<RepHabitName, RepHabit>> = {
  hunter: {
    name: 'hunter',
    description: 'High volume: many calls and new deals on a large book, one contact per deal, lower win rate.',
    dealsPerDay: 3,
    activitiesPerDay: 125,
    activityMix: [42, 43, 2, 8, 5],
    contactsPerDeal: [1, 1],
    accounts: 40,
    medianAmount: 9_000,
    advance: [0.6, 0.72, 0.8],
    winAtNegotiation: 0.62,
    stepMeanDays: 3,
    messagesToManagerPerDay: 4,
    peerMessagesPerDay: 6,
  },
  farmer: {
    name: 'farmer',
    description: 'Few, large deals on a small book, three to five contacts per deal, many meetings, higher win rate.',
    dealsPerDay: 0.6,
    activitiesPerDay: 90,
    activityMix: [20, 45, 12, 10, 13],
    contactsPerDeal: [3, 5],
    accounts: 12,
    medianAmount: 40_000,
    advance: [0.8, 0.75, 0.8],
    winAtNegotiation: 0.68,
    stepMeanDays: 6,
    messagesToManagerPerDay: 4,
    peerMessagesPerDay: 6,
  },
  average: {
    name: 'average',
    description: 'In between: one to three contacts per deal.',
    dealsPerDay: 1.3,
    activitiesPerDay: 105,
    activityMix: [30, 45, 5, 10, 10],
    contactsPerDeal: [1, 3],
    accounts: 25,
    medianAmount: 15_000,
    advance: [0.72, 0.75, 0.8],
    winAtNegotiation: 0.65,
    stepMeanDays: 4,
    messagesToManagerPerDay: 4,
    peerMessagesPerDay: 6,
  },
}

/**
 * The habit of the rep at 0-based `position` in their manager's original team: in every block of
 * six, position 0 is a hunter, position 1 a farmer, the others average. Every team therefore has
 * the same mix, so the manager comparisons are not skewed by who happens to report to whom.
 */
export function habitOfRep(position: number): RepHabitName {
  const p = position % 6
  return p === 0 ? 'hunter' : p === 1 ? 'farmer' : 'average'
}
