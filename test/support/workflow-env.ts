/** Temporal's time-skipping test server (installed by the local stack), for workflow tests. */
import { TestWorkflowEnvironment } from '@temporalio/testing'
import { temporalPaths } from '../../infra/stack/temporal-server.ts'
import { config } from './env.ts'

export function timeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalPaths(config.DUGOUT_HOME).testServer } },
  })
}

/** Activities that record their calls: the workflow's decisions are what these tests observe. */
export function recordingProjectionActivities(widen: (days: string[]) => string[] = (days) => days) {
  const recomputed: string[][] = []
  const affected: string[][] = []
  return {
    recomputed,
    affected,
    activities: {
      async affectedDays({ days }: { org: string; days: string[] }) {
        affected.push(days)
        return widen(days)
      },
      async recomputeDays({ days }: { org: string; days: string[] }) {
        recomputed.push(days)
        return { days: days.length, rows: days.length }
      },
      async recomputeAffectedDays({ days }: { org: string; days: string[] }) {
        affected.push(days)
        const all = widen(days)
        const first = all.slice(0, 31)
        if (first.length > 0) recomputed.push(first)
        return { affected: all, days: first.length, rows: first.length }
      },
      async listEventDays() {
        return ['2026-03-01', '2026-03-02', '2026-03-03']
      },
      async pruneSuperseded() {
        return { tables: 0 }
      },
    },
  }
}
