// The metrics shard workflow on Temporal's time-skipping test server: signals of many orgs lead to
// one round over all of them; each org's status is its own; a long widening has its rest
// recomputed by recomputePairs, or by the next round when events came on to its days meanwhile; an org left out as bad input carries its failure, and the others
// are computed.
import type { TestWorkflowEnvironment } from '@temporalio/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  EARLIER_METRICS_SHARDS,
  metricsShardOf,
  metricsShardsHolding,
  metricsShardStatusQuery,
  metricsShardWorkflow,
  orgsTouchedSignal,
  shardOrgStatusQuery,
} from '../../workflows/metrics-shard-workflow.ts'
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

describe('metricsShardWorkflow', () => {
  it('recomputes the touched days of many orgs in one round, and keeps each org its status', async () => {
    const recording = recordingProjectionActivities()
    await withWorker(recording.activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(metricsShardWorkflow, {
        taskQueue,
        workflowId: uniqueName('metrics-shard'),
        args: [{ shard: 0, debounceMs: 1000, maxDelayMs: 10_000 }],
      })
      const orgs = Array.from({ length: 100 }, (_, i) => `org-${i}`)
      await handle.signal(orgsTouchedSignal, { orgs: Object.fromEntries(orgs.map((o) => [o, ['2026-03-02']])) })
      await handle.signal(orgsTouchedSignal, { orgs: { 'org-7': ['2026-03-01', '2026-03-02'] } })
      await env.sleep(5000)
      expect(recording.shardRounds).toHaveLength(1)
      expect(recording.shardRounds[0]).toHaveLength(100)
      expect(recording.shardRounds[0]!.find((t) => t.org === 'org-7')).toEqual({
        org: 'org-7',
        days: ['2026-03-01', '2026-03-02'],
      })
      expect(await handle.query(shardOrgStatusQuery, 'org-7')).toMatchObject({
        org: 'org-7',
        pendingDays: 0,
        computing: false,
        signalsReceived: 2,
        signalsComputed: 2,
        recomputations: 1,
        lastComputedDays: 2,
      })
      expect(await handle.query(shardOrgStatusQuery, 'org-8')).toMatchObject({ signalsReceived: 1, signalsComputed: 1 })
      expect(await handle.query(shardOrgStatusQuery, 'nobody')).toBeNull()

      await handle.signal(orgsTouchedSignal, { orgs: { 'org-3': ['2026-03-07'] } })
      await env.sleep(5000)
      expect(recording.shardRounds[1]).toEqual([{ org: 'org-3', days: ['2026-03-07'] }])
      expect(await handle.query(metricsShardStatusQuery)).toMatchObject({
        orgs: 100,
        pendingOrgs: 0,
        computing: false,
        rounds: 2,
      })
      await handle.terminate()
    })
  })

  it('recomputes the rest of a long widening with recomputePairs', async () => {
    const many = Array.from({ length: 40 }, (_, i) => new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10))
    const recording = recordingProjectionActivities(() => many)
    await withWorker(recording.activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(metricsShardWorkflow, {
        taskQueue,
        workflowId: uniqueName('metrics-shard'),
        args: [{ shard: 0 }],
      })
      await handle.signal(orgsTouchedSignal, { orgs: { acme: ['2026-01-01'], globex: ['2026-01-02'] } })
      await env.sleep(10_000)
      expect(recording.recomputed.map((d) => d.length)).toEqual([62, 18])
      expect(await handle.query(shardOrgStatusQuery, 'acme')).toMatchObject({
        lastComputedDays: 40,
        signalsComputed: 1,
      })
      await handle.terminate()
    })
  })

  it("joins a round's rest to the next round when events come on to its days meanwhile", async () => {
    const january = Array.from({ length: 31 }, (_, i) => `2026-01-${String(i + 1).padStart(2, '0')}`)
    const february = Array.from({ length: 9 }, (_, i) => `2026-02-0${i + 1}`)
    // acme's first day widens to 40: 31 now, and February as the rest.
    const recording = recordingProjectionActivities((days) =>
      days.includes('2026-01-01') ? [...january, ...february] : days,
    )
    let signalled = false
    let handle: Awaited<ReturnType<typeof env.client.workflow.start<typeof metricsShardWorkflow>>> | undefined
    const activities = {
      ...recording.activities,
      async recomputeTouched(input: { touched: { org: string; days: string[] }[] }) {
        const done = await recording.activities.recomputeTouched(input)
        // A backfill goes on meanwhile: globex's events fall on a day of acme's rest.
        if (!signalled) await handle!.signal(orgsTouchedSignal, { orgs: { globex: ['2026-02-03'] } })
        signalled = true
        return done
      },
    }
    await withWorker(activities, async (taskQueue) => {
      handle = await env.client.workflow.start(metricsShardWorkflow, {
        taskQueue,
        workflowId: uniqueName('metrics-shard'),
        args: [{ shard: 0 }],
      })
      await handle.signal(orgsTouchedSignal, { orgs: { acme: ['2026-01-01'] } })
      await env.sleep(10_000)
      // February is recomputed once, for both orgs, in the second round: no recomputePairs of it alone.
      expect(recording.recomputed.map((d) => d.length)).toEqual([31, 10])
      expect(recording.shardRounds[1]).toEqual([
        { org: 'acme', days: february },
        { org: 'globex', days: ['2026-02-03'] },
      ])
      expect(await handle.query(shardOrgStatusQuery, 'acme')).toMatchObject({
        pendingDays: 0,
        signalsReceived: 1,
        signalsComputed: 1,
        recomputations: 2,
      })
      await handle.terminate()
    })
  })

  it('marks an org left out as bad input failed, computes the others, and clears it on a later round', async () => {
    const recording = recordingProjectionActivities()
    let reject = true
    const activities = {
      ...recording.activities,
      async recomputeTouched(input: { touched: { org: string; days: string[] }[] }) {
        const done = await recording.activities.recomputeTouched(input)
        if (!reject) return done
        return {
          ...done,
          rejected: [{ org: 'mars', type: 'OrgSettingsError', message: 'timezone: unknown to ClickHouse' }],
        }
      },
    }
    await withWorker(activities, async (taskQueue) => {
      const handle = await env.client.workflow.start(metricsShardWorkflow, {
        taskQueue,
        workflowId: uniqueName('metrics-shard'),
        args: [{ shard: 0 }],
      })
      await handle.signal(orgsTouchedSignal, { orgs: { mars: ['2026-03-02'], acme: ['2026-03-02'] } })
      await env.sleep(5000)
      expect(await handle.query(shardOrgStatusQuery, 'mars')).toMatchObject({
        signalsComputed: 1,
        failure: { type: 'OrgSettingsError', message: 'timezone: unknown to ClickHouse' },
      })
      expect((await handle.query(shardOrgStatusQuery, 'acme'))?.failure).toBeUndefined()
      reject = false
      await handle.signal(orgsTouchedSignal, { orgs: { mars: ['2026-03-03'] } })
      await env.sleep(5000)
      expect((await handle.query(shardOrgStatusQuery, 'mars'))?.failure).toBeUndefined()
      await handle.terminate()
    })
  })
})

describe('metricsShardOf', () => {
  it('spreads orgs over the shards, the same org always to the same one', () => {
    const counts = [0, 0, 0, 0]
    for (let i = 0; i < 1000; i++) counts[metricsShardOf(`org-${i}`, 4)]!++
    for (const n of counts) expect(n).toBeGreaterThan(150)
    expect(metricsShardOf('acme', 4)).toBe(metricsShardOf('acme', 4))
  })
})

describe('metricsShardsHolding', () => {
  it("names an org's shard, then its shard under each earlier count when that is another one", () => {
    expect(EARLIER_METRICS_SHARDS).toEqual([2])
    const orgs = Array.from({ length: 20 }, (_, i) => `org-${i}`)
    const moved = orgs.filter((org) => metricsShardOf(org, 2) === 1)
    const stayed = orgs.filter((org) => metricsShardOf(org, 2) === 0)
    expect(moved.length).toBeGreaterThan(0)
    expect(stayed.length).toBeGreaterThan(0)
    for (const org of moved) expect(metricsShardsHolding(org, 1)).toEqual([0, 1])
    for (const org of stayed) expect(metricsShardsHolding(org, 1)).toEqual([0])
    for (const org of orgs) {
      expect(metricsShardsHolding(org, 2)).toEqual([metricsShardOf(org, 2)])
      expect(metricsShardsHolding(org, 4)[0]).toBe(metricsShardOf(org, 4))
    }
  })
})
