/**
 * The weekly insight emails (docs/insights.md, "Schedule"): a Temporal Schedule per org and time
 * zone of its managers starts `weeklyInsightsFanOutWorkflow` on Mondays at 08:00 in that zone; it
 * resolves the week just ended and that zone's managers with an address who did not opt out, waits
 * for the org's own week to end where the zone is ahead of the org's, and starts one
 * `weeklyInsightWorkflow` per manager under the id `insights:<org>:<manager>:<week>`, which
 * Temporal refuses to start twice. The send activity is idempotent as well (the sent-log), so a
 * retried activity sends nothing twice either.
 */
import {
  type ActivityOptions,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  log,
  patched,
  proxyActivities,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow'

export interface WeeklyInsightInput {
  org: string
  manager: string
  /** The Monday of the ISO week, `YYYY-MM-DD`. */
  week: string
}

export type WeeklyInsightResult =
  | { status: 'no_email' | 'opted_out' }
  | { status: 'already_sent' | 'sent'; message_id: string }

export interface InsightRecipientsInput {
  org: string
  /** The week to send; absent: the Monday–Sunday before `now` in the org's time zone. */
  week?: string
  /** The instant the run stands for (ISO), from the workflow's deterministic clock. */
  now: string
  /**
   * Only the managers whose time zone this is (their own, else the org's), and the week before
   * `now` there; absent: every manager, and the week before `now` in the org's time zone.
   */
  timezone?: string
}

export interface InsightRecipients {
  week: string
  /** The org's time zone, which cuts the days of the reports. */
  timezone: string
  /** Managers of the week with an address, sorted. */
  managers: string[]
  /** Managers of the week without one: nobody to send to. */
  withoutEmail: string[]
  /** Managers of the week who opted out of the emails. */
  optedOut?: string[]
  /** When the week ends in the org's time zone (ISO): a run in a zone ahead of it waits till then. */
  weekEndsAt?: string
}

/** What keeping an org's Schedules in step with its managers' time zones changed. */
export interface InsightSchedulesChange {
  org: string
  /** Time zones whose Schedule was created, updated, deleted. */
  created: string[]
  updated: string[]
  deleted: string[]
}

/** The activities of the weekly insights (made by services/insights/insight-activities.ts). */
export interface InsightActivities {
  sendWeeklyInsight(input: WeeklyInsightInput): Promise<WeeklyInsightResult>
  insightRecipients(input: InsightRecipientsInput): Promise<InsightRecipients>
  syncInsightSchedules(input: { now: string }): Promise<InsightSchedulesChange[]>
  /** Whether ingest and the org's metrics have caught up with every event produced so far. */
  insightMetricsSettled(input: { org: string }): Promise<MetricsSettled>
}

/** Whether an org's metrics are up to date; if not, what they wait for. */
export interface MetricsSettled {
  settled: boolean
  waitingFor?: string
}

/** How long a fan-out waits for the metrics before it sends what they hold: an hour, minute by minute. */
export const METRICS_WAIT = { checks: 60, every: '1 minute' } as const

export interface WeeklyInsightsFanOutInput {
  org: string
  week?: string
  /** The managers of this time zone only (the Schedule of that zone); absent: every manager. */
  timezone?: string
}

export interface WeeklyInsightsFanOutResult {
  week: string
  /** Children started by this run. */
  started: string[]
  /** Managers whose workflow for the week had already run (or is running): nothing started. */
  alreadyStarted: string[]
  withoutEmail: string[]
  optedOut?: string[]
}

/** One manager's week, one workflow: the id Temporal refuses a second run of. */
export const weeklyInsightWorkflowId = ({ org, manager, week }: WeeklyInsightInput) =>
  `insights:${org}:${manager}:${week}`

/**
 * An SMTP server that refuses or is down is retried with backoff, up to every 5 minutes, ten
 * times (about half an hour); bad input (a week that is no Monday, an org setting ClickHouse
 * cannot use) fails at once: the worker marks it non-retryable, and so does this list.
 */
export const insightActivityOptions: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: 10,
    nonRetryableErrorTypes: ['DayError', 'OrgSettingsError', 'ParamsError', 'ReportParamsError'],
  },
}

/**
 * The send heartbeats (insight-activities.ts): a worker killed mid-send is noticed within 15 s,
 * not at the 5-minute timeout, and the retry runs elsewhere. The SMTP server accepted nothing
 * from a connection that died before its answer to DATA, so the retry's copy is the one.
 */
export const sendActivityOptions: ActivityOptions = { ...insightActivityOptions, heartbeatTimeout: '15 seconds' }

const { insightRecipients, syncInsightSchedules, insightMetricsSettled } =
  proxyActivities<InsightActivities>(insightActivityOptions)
const { sendWeeklyInsight } = proxyActivities<InsightActivities>(sendActivityOptions)

/** Sends one manager's email for one week (idempotent: see the sent-log in insight-sender.ts). */
export async function weeklyInsightWorkflow(input: WeeklyInsightInput): Promise<WeeklyInsightResult> {
  return sendWeeklyInsight(input)
}

/**
 * The instant a run stands for: the time the Schedule meant to start it, so that a run caught up
 * late still covers the week before its Monday; a run started by hand: the workflow's clock.
 */
function runInstant(): string {
  const scheduled = workflowInfo().searchAttributes?.['TemporalScheduledStartTime']?.[0]
  if (scheduled instanceof Date) return scheduled.toISOString()
  if (typeof scheduled === 'string') return new Date(scheduled).toISOString()
  return new Date(Date.now()).toISOString()
}

/** Starts one `weeklyInsightWorkflow` per manager of the org's week who has an address. */
export async function weeklyInsightsFanOutWorkflow(
  input: WeeklyInsightsFanOutInput,
): Promise<WeeklyInsightsFanOutResult> {
  const recipients = await insightRecipients({
    org: input.org,
    now: runInstant(),
    ...(input.week === undefined ? {} : { week: input.week }),
    ...(input.timezone === undefined ? {} : { timezone: input.timezone }),
  })
  const result: WeeklyInsightsFanOutResult = {
    week: recipients.week,
    started: [],
    alreadyStarted: [],
    withoutEmail: recipients.withoutEmail,
    ...(recipients.optedOut === undefined ? {} : { optedOut: recipients.optedOut }),
  }
  // Monday 08:00 in Tokyo is still Sunday in New York: the week of a New York org is not over.
  const untilWeekEnds = recipients.weekEndsAt === undefined ? 0 : Date.parse(recipients.weekEndsAt) - Date.now()
  if (untilWeekEnds > 0) await sleep(untilWeekEnds)
  // Late events of the week that reached Kafka before the send count: the send waits until
  // ingest and the org's metrics have caught up (for at most an hour; then it sends what is there).
  if (patched('wait-for-metrics')) {
    for (let check = 1; check <= METRICS_WAIT.checks; check++) {
      const { settled, waitingFor } = await insightMetricsSettled({ org: input.org })
      if (settled) break
      log.info('weekly insights wait for the metrics', { org: input.org, waitingFor, check })
      if (check < METRICS_WAIT.checks) await sleep(METRICS_WAIT.every)
    }
  }
  const children = []
  for (const manager of recipients.managers) {
    const child = { org: input.org, manager, week: recipients.week }
    try {
      children.push(
        await startChild(weeklyInsightWorkflow, {
          workflowId: weeklyInsightWorkflowId(child),
          args: [child],
          // A week is sent once: a second start of the same id is refused, even after a failure
          // (a failed week is retried by hand, with `dugout insights send`).
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          // The fan-out waits for its children, but a child already sending finishes even if not.
          parentClosePolicy: ParentClosePolicy.ABANDON,
        }),
      )
      result.started.push(manager)
    } catch (error) {
      // Refused because this week's workflow for the manager already ran: the week was sent. The
      // error's class lives in @temporalio/common, which workflows/ does not import: its name.
      if ((error as Error | undefined)?.name !== 'WorkflowExecutionAlreadyStartedError') throw error
      log.info('weekly insight already started', { workflowId: weeklyInsightWorkflowId(child) })
      result.alreadyStarted.push(manager)
    }
  }
  await Promise.all(children.map((c) => c.result()))
  return result
}

/**
 * Keeps every org's insight Schedules in step with the time zones of its managers (started every
 * hour by the Schedule of services/insights/insight-schedule.ts).
 */
export async function insightSchedulesWorkflow(): Promise<InsightSchedulesChange[]> {
  return syncInsightSchedules({ now: new Date(Date.now()).toISOString() })
}
