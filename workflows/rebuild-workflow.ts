/**
 * Recomputes an org's metrics over a range from the event store: after a metric definition
 * changes, or for a new org's backfill. Safe while ingest goes on: a recomputation that started
 * later replaces an earlier one's facts for the same day, never mixes with them.
 */
import { defineQuery, patched, proxyActivities, setHandler } from '@temporalio/workflow'
import type { ProjectionActivities } from '../services/metrics/projection-activities.ts'

export interface RebuildInput {
  org: string
  from?: string
  to?: string
  daysPerActivity?: number
}

export interface RebuildProgress {
  org: string
  totalDays: number
  doneDays: number
  rows: number
}

export const rebuildProgressQuery = defineQuery<RebuildProgress>('progress')

const { listEventDays, recomputeDays, pruneSuperseded } = proxyActivities<ProjectionActivities>({
  startToCloseTimeout: '30 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
})

export async function rebuildWorkflow(input: RebuildInput): Promise<RebuildProgress> {
  const progress: RebuildProgress = { org: input.org, totalDays: 0, doneDays: 0, rows: 0 }
  setHandler(rebuildProgressQuery, () => progress)
  const days = await listEventDays({
    org: input.org,
    ...(input.from ? { from: input.from } : {}),
    ...(input.to ? { to: input.to } : {}),
  })
  progress.totalDays = days.length
  const chunk = input.daysPerActivity ?? 14
  for (let i = 0; i < days.length; i += chunk) {
    const result = await recomputeDays({ org: input.org, days: days.slice(i, i + chunk) })
    progress.doneDays += result.days
    progress.rows += result.rows
  }
  // Superseded generations of the rebuilt days are invisible to readers; reclaim their space.
  if (patched('prune-after-rebuild')) await pruneSuperseded({ org: input.org, olderThanMinutes: 0 })
  return progress
}
