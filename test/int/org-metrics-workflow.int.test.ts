// The per-org metrics workflow on Temporal's time-skipping test server: a burst of signals leads
// to one computation of the union of their days; a later signal to another; a stream of signals
// never delays a computation past maxDelayMs; continue-as-new carries what is pending.
import type { TestWorkflowEnvironment } from '@temporalio/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  eventsIngestedSignal,
  orgMetricsStatusQuery,
  orgMetricsWorkflow,
} from '../../workflows/org-metrics-workflow.ts'
import { rebuildProgressQuery, rebuildWorkflow } from '../../workflows/rebuild-workflow.ts'
import { uniqueName } from '../support/env.ts'
import {
  recordingProjectionActivities,
  timeSkippingEnvironment,
  withWorker as runWithWorker,
} from '../support/workflow-env.ts'

let env: TestWorkflowEnvironment
beforeAll(async () => {
  env = await timeSkippingEnvironment()
})
afterAll(() => env?.teardown())

const withWorker = <T>(activities: object, body: (taskQueue: string) => Promise<T>) =>
  runWithWorker(env, activities, body)

describe('orgMetricsWorkflow', () => {
  it('debounces a burst of signals into one computation of the union of their days', async () => {
    const recording = recordingProjectionActivities((days) => [...days, '2026-03-09'])
    await withWorker(recording.activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(orgMetricsWorkflow, {
        taskQueue,
        workflowId: uniqueName('org-metrics'),
        args: [{ org: 'acme', debounceMs: 1000, maxDelayMs: 10_000 }],
      })
      await handle.signal(eventsIngestedSignal, { days: ['2026-03-02'] })
      await handle.signal(eventsIngestedSignal, { days: ['2026-03-01', '2026-03-02'] })
      await handle.signal(eventsIngestedSignal, { days: ['2026-03-05'] })
      await env.sleep(5000)
      expect(recording.affected).toEqual([['2026-03-01', '2026-03-02', '2026-03-05']])
      expect(recording.recomputed).toEqual([['2026-03-01', '2026-03-02', '2026-03-05', '2026-03-09']])
      expect(await handle.query(orgMetricsStatusQuery)).toMatchObject({
        pendingDays: 0,
        computing: false,
        signalsReceived: 3,
        signalsComputed: 3,
        recomputations: 1,
      })

      await handle.signal(eventsIngestedSignal, { days: ['2026-03-07'] })
      await env.sleep(5000)
      expect(recording.recomputed).toHaveLength(2)
      expect(recording.recomputed[1]).toEqual(['2026-03-07', '2026-03-09'])
      await handle.terminate()
    })
  })

  it('computes within maxDelayMs even while signals keep coming', async () => {
    const recording = recordingProjectionActivities()
    await withWorker(recording.activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(orgMetricsWorkflow, {
        taskQueue,
        workflowId: uniqueName('org-metrics'),
        args: [{ org: 'acme', debounceMs: 1000, maxDelayMs: 3000 }],
      })
      for (let i = 0; i < 8; i++) {
        await handle.signal(eventsIngestedSignal, { days: [`2026-03-1${i}`] })
        await env.sleep(500)
      }
      // Eight signals over 4 s, never 1 s apart: a pure debounce would not have computed yet.
      expect(recording.recomputed.length).toBeGreaterThanOrEqual(1)
      await env.sleep(5000)
      expect(recording.recomputed.flat().sort()).toEqual(Array.from({ length: 8 }, (_, i) => `2026-03-1${i}`))
      await handle.terminate()
    })
  })

  it('splits a long list of days into activities of at most 31 days', async () => {
    const many = Array.from({ length: 40 }, (_, i) => new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10))
    const recording = recordingProjectionActivities(() => many)
    await withWorker(recording.activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(orgMetricsWorkflow, {
        taskQueue,
        workflowId: uniqueName('org-metrics'),
        args: [{ org: 'acme' }],
      })
      await handle.signal(eventsIngestedSignal, { days: ['2026-01-01'] })
      await env.sleep(10_000)
      expect(recording.recomputed.map((d) => d.length)).toEqual([31, 9])
      await handle.terminate()
    })
  })

  it('prunes superseded facts every pruneEvery recomputations, beside the next recomputation', async () => {
    const recording = recordingProjectionActivities()
    let prunes = 0
    let release!: () => void
    const released = new Promise<void>((resolve) => (release = resolve))
    const activities = {
      ...recording.activities,
      async pruneSuperseded() {
        prunes++
        await released
        return { tables: 0 }
      },
    }
    // However it ends, the worker can only stop once the prune has returned.
    await withWorker(activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(orgMetricsWorkflow, {
        taskQueue,
        workflowId: uniqueName('org-metrics'),
        args: [{ org: 'acme', debounceMs: 100, pruneEvery: 2 }],
      })
      try {
        for (const day of ['2026-03-01', '2026-03-02', '2026-03-03']) {
          await handle.signal(eventsIngestedSignal, { days: [day] })
          await env.sleep(2000)
        }
        // The prune after the 2nd recomputation has not finished, and the 3rd did not wait for it.
        expect(prunes).toBe(1)
        expect(recording.recomputed).toEqual([['2026-03-01'], ['2026-03-02'], ['2026-03-03']])
      } finally {
        release()
      }
      await handle.signal(eventsIngestedSignal, { days: ['2026-03-04'] })
      await env.sleep(2000)
      expect(prunes).toBe(2)
      await handle.terminate()
    })
  })
})

describe('rebuildWorkflow', () => {
  it('recomputes every day with events in chunks and reports its progress', async () => {
    const recording = recordingProjectionActivities()
    await withWorker(recording.activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(rebuildWorkflow, {
        taskQueue,
        workflowId: uniqueName('rebuild'),
        args: [{ org: 'acme', daysPerActivity: 2 }],
      })
      const result = await handle.result()
      expect(result).toEqual({ org: 'acme', totalDays: 3, doneDays: 3, rows: 3 })
      expect(recording.recomputed).toEqual([['2026-03-01', '2026-03-02'], ['2026-03-03']])
      expect(await handle.query(rebuildProgressQuery)).toEqual(result)
    })
  })
})
