/**
 * Superseded by the metrics shards (metrics-shard-workflow.ts), which recompute many orgs' days in
 * one round; kept for the workflows of this type still running, which end once idle.
 *
 * One workflow per org keeps its metrics fresh. Ingest signals it once per batch with the days
 * the batch touched; it debounces (a burst of batches leads to one computation), widens the days
 * to every day whose facts may change, recomputes them with idempotent activities, and continues
 * as new before its history grows large. Late events simply touch their days again.
 */
import {
  type ActivityOptions,
  condition,
  continueAsNew,
  log,
  patched,
  defineQuery,
  defineSignal,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow'
import type { ProjectionActivities } from '../services/projections/projection-activities.ts'

export interface DaysTouched {
  days: string[]
}

export interface OrgMetricsInput {
  org: string
  /** Quiet time after the last signal before computing. */
  debounceMs?: number
  /** Longest a signal waits for its computation under a continuous stream of signals. */
  maxDelayMs?: number
  /** Recomputations between two prunes of superseded fact generations (default 50). */
  pruneEvery?: number
  /** State carried across continue-as-new. */
  carried?: { pendingDays: string[]; signalsReceived: number; signalsComputed: number; recomputations: number }
}

export interface OrgMetricsStatus {
  org: string
  pendingDays: number
  computing: boolean
  signalsReceived: number
  /** Signals whose days have all been recomputed: fresh when equal to `signalsReceived`. */
  signalsComputed: number
  recomputations: number
  lastComputedDays: number
}

export const eventsIngestedSignal = defineSignal<[DaysTouched]>('eventsIngested')
export const orgMetricsStatusQuery = defineQuery<OrgMetricsStatus>('status')

export const orgMetricsWorkflowId = (org: string) => `org-metrics:${org}`

/**
 * Retries are for faults (ClickHouse restarting, a connection lost): at once, then less and less
 * often, then once a minute, for about a quarter of an hour. Bad input (a day that is no calendar
 * date, an org setting ClickHouse cannot use: services/errors.ts) fails at the first attempt, and
 * so does this workflow, with its message; the worker marks it non-retryable, and this list does
 * for a worker that would not. Every step here reads the org's events, so an error nobody
 * classified may be the data's own: after the last attempt the workflow fails rather than hold a
 * worker slot for ever, and the org's next batch of events starts a new one.
 */
export const orgMetricsActivityOptions: ActivityOptions = {
  startToCloseTimeout: '10 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 20,
    nonRetryableErrorTypes: ['DayError', 'OrgSettingsError'],
  },
}

const { affectedDays, recomputeDays, recomputeAffectedDays, pruneSuperseded } =
  proxyActivities<ProjectionActivities>(orgMetricsActivityOptions)

/** Recomputations between two prunes of superseded fact generations. */
const PRUNE_EVERY = 50

/** Idle time after which a workflow of this type ends (its orgs' metrics are the shards' now). */
const RETIRE_AFTER_IDLE = '10 minutes'

/** Days per recomputation activity: bounds one activity's work and shows progress in the UI. */
const DAYS_PER_ACTIVITY = 31

export async function orgMetricsWorkflow(input: OrgMetricsInput): Promise<void> {
  const debounceMs = input.debounceMs ?? 150
  const maxDelayMs = input.maxDelayMs ?? 1000
  const pending = new Set(input.carried?.pendingDays ?? [])
  let signalsReceived = input.carried?.signalsReceived ?? 0
  let signalsComputed = input.carried?.signalsComputed ?? 0
  let recomputations = input.carried?.recomputations ?? 0
  let computing = false
  let lastComputedDays = 0
  let pruning: Promise<unknown> | undefined

  // When the oldest pending signal and the latest signal arrived (workflow time).
  let firstPendingAt = Date.now()
  let lastSignalAt = Date.now()
  setHandler(eventsIngestedSignal, ({ days }) => {
    if (pending.size === 0) firstPendingAt = Date.now()
    lastSignalAt = Date.now()
    for (const day of days) pending.add(day)
    signalsReceived++
  })
  setHandler(orgMetricsStatusQuery, () => ({
    org: input.org,
    pendingDays: pending.size,
    computing,
    signalsReceived,
    signalsComputed,
    recomputations,
    lastComputedDays,
  }))

  while (!workflowInfo().continueAsNewSuggested && workflowInfo().historyLength < 2000) {
    // Ingest now signals the metrics shards (metrics-shard-workflow.ts): a workflow of this type
    // computes the days it was given and, once nothing came for a while, ends.
    if (patched('retire-to-metrics-shards')) {
      if (!(await condition(() => pending.size > 0, RETIRE_AFTER_IDLE))) return
    } else await condition(() => pending.size > 0)
    // Each Temporal round trip (a timer, an activity) costs a loaded server a few hundred
    // milliseconds: the newer path waits only for the quiet spell still missing (none when the
    // signals arrived during the last computation) and starts with one activity.
    const fewerRoundTrips = patched('fewer-round-trips')
    if (fewerRoundTrips) {
      // Debounce: until debounceMs after the latest signal, never past maxDelayMs after the first.
      for (;;) {
        const wait = Math.min(debounceMs - (Date.now() - lastSignalAt), maxDelayMs - (Date.now() - firstPendingAt))
        if (wait <= 0) break
        await sleep(wait)
      }
    } else {
      // Debounce: wait for a quiet spell, but never longer than maxDelayMs after the first signal.
      const firstSeenAt = Date.now()
      for (;;) {
        const before = signalsReceived
        await sleep(debounceMs)
        if (signalsReceived === before || Date.now() - firstSeenAt >= maxDelayMs) break
      }
    }
    const touched = [...pending].sort()
    pending.clear()
    const upTo = signalsReceived
    computing = true
    let days: string[]
    let done = 0
    if (fewerRoundTrips) {
      const first = await recomputeAffectedDays({ org: input.org, days: touched })
      days = first.affected
      done = first.days
    } else {
      days = await affectedDays({ org: input.org, days: touched })
    }
    for (let i = done; i < days.length; i += DAYS_PER_ACTIVITY) {
      await recomputeDays({ org: input.org, days: days.slice(i, i + DAYS_PER_ACTIVITY) })
    }
    computing = false
    lastComputedDays = days.length
    recomputations++
    signalsComputed = upTo
    // Each recomputation leaves the generation it replaced behind (invisible to readers): reclaim
    // them now and then, not on every burst.
    if (recomputations % (input.pruneEvery ?? PRUNE_EVERY) === 0 && patched('prune-superseded')) {
      // A prune takes a second or two: the newer path runs it beside the next recomputations
      // rather than before them. That is safe, as a prune never deletes a day's visible
      // generation nor one still being written (see pruneSuperseded). A failed prune leaves
      // rows for the next one.
      if (patched('prune-in-background')) {
        pruning ??= pruneSuperseded({ org: input.org })
          .catch((error: unknown) => log.warn('pruning superseded facts failed', { org: input.org, error }))
          .finally(() => (pruning = undefined))
      } else await pruneSuperseded({ org: input.org })
    }
  }
  await pruning
  // Signal handlers are synchronous, so nothing is in flight: pending days travel in the input.
  await continueAsNew<typeof orgMetricsWorkflow>({
    ...input,
    carried: { pendingDays: [...pending], signalsReceived, signalsComputed, recomputations },
  })
}
