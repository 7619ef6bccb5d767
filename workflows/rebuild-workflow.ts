/**
 * Recomputes an org's metrics over a range from the event store: after a metric definition
 * changes, or for a new org's backfill, in a bounded number of set-based rounds. Safe while ingest goes on: a recomputation that started
 * later replaces an earlier one's facts for the same day, never mixes with them.
 */
import {
  type ActivityOptions,
  ApplicationFailure,
  defineQuery,
  patched,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow'
import type { RebuildParams } from '../schemas/report-params.schema.ts'
import type { ProjectionActivities } from '../services/projections/projection-activities.ts'

/** What to rebuild (checked by the CLI and the HTTP API, and again by `listEventDays`). */
export interface RebuildInput extends RebuildParams {
  /** Days per recomputation activity (default 62: two windows of the set-based recompute; 14 before it). */
  daysPerActivity?: number
}

export interface RebuildProgress {
  org: string
  totalDays: number
  doneDays: number
  rows: number
}

export const rebuildProgressQuery = defineQuery<RebuildProgress>('progress')

/**
 * Retries are for faults (ClickHouse restarting, a connection lost), for about four minutes. Bad
 * input (a range that breaks `RebuildParams`, an org setting ClickHouse cannot use:
 * services/errors.ts) fails at the first attempt, and so does the rebuild, with its message; the
 * worker marks it non-retryable, and this list does for a worker that would not. Each step depends
 * on the org's data, so after the last attempt the rebuild fails rather than retry for ever; it can
 * be started again.
 */
export const rebuildActivityOptions: ActivityOptions = {
  startToCloseTimeout: '30 minutes',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 10,
    nonRetryableErrorTypes: ['ParamsError', 'DayError', 'OrgSettingsError'],
  },
}

const { listEventDays, recomputeDays, recomputePairs, pruneSuperseded } =
  proxyActivities<ProjectionActivities>(rebuildActivityOptions)

export async function rebuildWorkflow(input: RebuildInput): Promise<RebuildProgress> {
  const progress: RebuildProgress = { org: input.org, totalDays: 0, doneDays: 0, rows: 0 }
  setHandler(rebuildProgressQuery, () => progress)
  const days = await listEventDays({
    org: input.org,
    ...(input.from ? { from: input.from } : {}),
    ...(input.to ? { to: input.to } : {}),
  })
  progress.totalDays = days.length
  // The newer path is the metrics shards' set-based recompute: a window of 31 days costs one
  // round of statements, so a year of the org is a dozen rounds, in activities of two windows.
  if (patched('set-based-rebuild')) {
    const chunk = input.daysPerActivity ?? 62
    for (let i = 0; i < days.length; i += chunk) {
      const result = await recomputePairs({ touched: [{ org: input.org, days: days.slice(i, i + chunk) }] })
      const [rejected] = result.rejected
      if (rejected)
        throw ApplicationFailure.create({ type: rejected.type, message: rejected.message, nonRetryable: true })
      progress.doneDays += result.days
      progress.rows += result.rows
    }
  } else {
    const chunk = input.daysPerActivity ?? 14
    for (let i = 0; i < days.length; i += chunk) {
      const result = await recomputeDays({ org: input.org, days: days.slice(i, i + chunk) })
      progress.doneDays += result.days
      progress.rows += result.rows
    }
  }
  // Superseded generations of the rebuilt days are invisible to readers; reclaim their space.
  if (patched('prune-after-rebuild')) await pruneSuperseded({ org: input.org, olderThanMinutes: 0 })
  return progress
}
