/** Temporal's time-skipping test server (installed by the local stack), for workflow tests. */
import { TestWorkflowEnvironment } from '@temporalio/testing'
import { Worker } from '@temporalio/worker'
import { temporalPaths } from '../../infra/stack/temporal-server.ts'
import { WORKFLOWS_PATH } from '../../services/worker/worker-service.ts'
import { config, uniqueName } from './env.ts'

export function timeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: temporalPaths(config.DUGOUT_HOME).testServer } },
  })
}

/** Runs `body` while a worker of Dugout's workflows and `activities` polls a task queue of its own. */
export async function withWorker<T>(
  env: TestWorkflowEnvironment,
  activities: object,
  body: (taskQueue: string) => Promise<T>,
): Promise<T> {
  const taskQueue = uniqueName('wf')
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities,
  })
  return worker.runUntil(body(taskQueue))
}

/** Activities that record their calls: the workflow's decisions are what these tests observe. */
export function recordingProjectionActivities(widen: (days: string[]) => string[] = (days) => days) {
  const recomputed: string[][] = []
  const affected: string[][] = []
  /** The touched orgs and days of each round of a metrics shard. */
  const shardRounds: { org: string; days: string[] }[][] = []
  return {
    recomputed,
    affected,
    shardRounds,
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
      async recomputePairs({ touched }: { touched: { org: string; days: string[] }[] }) {
        const days = touched.flatMap((t) => t.days)
        recomputed.push(days)
        return { days: days.length, rows: days.length, windows: 1, rejected: [] }
      },
      async recomputeTouched({ touched }: { touched: { org: string; days: string[] }[] }) {
        const all = touched.map((t) => ({ org: t.org, days: widen(t.days) }))
        shardRounds.push(touched)
        const first = all.map((t) => ({ org: t.org, days: t.days.slice(0, 31) }))
        const rest = all.map((t) => ({ org: t.org, days: t.days.slice(31) })).filter((t) => t.days.length > 0)
        const days = first.flatMap((t) => t.days)
        if (days.length > 0) recomputed.push(days)
        return {
          days: days.length,
          rows: days.length,
          windows: 1,
          rejected: [],
          affected: Object.fromEntries(all.map((t) => [t.org, t.days.length])),
          rest,
        }
      },
      async pruneSupersededOf() {
        return { tables: 0 }
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
