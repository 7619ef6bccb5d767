// `--wait` across a change of the shard count, on the real Temporal server: after an upgrade an
// org's shard under the earlier count (metrics-shard:<queue>:1 of two) may still compute the days
// it received before, while its events now go to its shard under the new count (0 of one).
// waitForOrgMetrics waits for both; a failure of the earlier shard's round is the answer only
// while the current shard knows nothing of the org.
import { Client, Connection } from '@temporalio/client'
import { NativeConnection, Worker } from '@temporalio/worker'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MetricsWorkflowError, WaitTimeoutError, waitForOrgMetrics } from '../../services/cli/metrics-wait.ts'
import { WORKFLOWS_PATH } from '../../services/worker/worker-service.ts'
import {
  metricsShardOf,
  metricsShardWorkflow,
  metricsShardWorkflowId,
  orgsTouchedSignal,
  shardOrgStatusQuery,
} from '../../workflows/metrics-shard-workflow.ts'
import { config, uniqueName } from '../support/env.ts'
import { recordingProjectionActivities } from '../support/workflow-env.ts'

const SECONDS = 60_000

let connection: Connection
let client: Client
let native: NativeConnection
let worker: Worker
let running: Promise<void>
const taskQueue = uniqueName('shards')
const links = { ...config, TEMPORAL_TASK_QUEUE: taskQueue }

/** The orgs whose rounds are held: each waits for its `release`. */
const held = new Map<string, { started: () => void; release: Promise<void> }>()
/** The orgs that a round leaves out as bad input: their status carries the failure. */
const rejected = new Set<string>()
const recording = recordingProjectionActivities()

beforeAll(async () => {
  connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS })
  client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE })
  native = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS })
  worker = await Worker.create({
    connection: native,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: {
      ...recording.activities,
      async recomputeTouched(input: { touched: { org: string; days: string[] }[] }) {
        for (const { org } of input.touched) {
          const hold = held.get(org)
          if (hold) {
            held.delete(org)
            hold.started()
            await hold.release
          }
        }
        const done = await recording.activities.recomputeTouched({
          touched: input.touched.filter((t) => !rejected.has(t.org)),
        })
        const out = input.touched.filter((t) => rejected.has(t.org))
        return {
          ...done,
          rejected: out.map(({ org }) => ({ org, type: 'OrgSettingsError', message: `${org}: no such timezone` })),
        }
      },
    },
  })
  running = worker.run()
})

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown()
  await running
  await native?.close()
  await connection?.close()
})

/** An org that two shards put in shard 1, and one shard in shard 0: one that moved. */
function movedOrg(): string {
  for (;;) {
    const org = uniqueName('moved')
    if (metricsShardOf(org, 2) === 1 && metricsShardOf(org, 1) === 0) return org
  }
}

/** Signals shard `shard` of the task queue (started if need be) that `org` touched a day. */
async function touch(shard: number, org: string) {
  return client.workflow.signalWithStart(metricsShardWorkflow, {
    workflowId: metricsShardWorkflowId(taskQueue, shard),
    taskQueue,
    args: [{ shard, debounceMs: 10 }],
    signal: orgsTouchedSignal,
    signalArgs: [{ orgs: { [org]: ['2026-03-02'] } }],
  })
}

/** Until the shard has computed every signal it received for the org. */
async function computed(shard: number, org: string): Promise<void> {
  const handle = client.workflow.getHandle(metricsShardWorkflowId(taskQueue, shard))
  for (;;) {
    const status = await handle.query(shardOrgStatusQuery, org)
    if (status && status.signalsComputed === status.signalsReceived && !status.computing) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('waitForOrgMetrics across a change of the shard count', () => {
  it(
    "waits for the days an org's earlier shard still computes, while its current shard is fresh",
    async () => {
      const org = movedOrg()
      let release!: () => void
      const started = new Promise<void>((resolve) => {
        held.set(org, { started: resolve, release: new Promise((r) => (release = r)) })
      })
      // Before the upgrade: the earlier shard took the org's days, and computes them.
      await touch(1, org)
      await started
      // After: its events go to its shard under one shard, which computes them at once.
      await touch(0, org)
      await computed(0, org)

      const error = await waitForOrgMetrics(client, links, [org], { timeoutMs: 2000 }).then(
        () => expect.fail('--wait returned while the earlier shard was computing the org'),
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(WaitTimeoutError)

      release()
      await waitForOrgMetrics(client, links, [org], { timeoutMs: SECONDS })
      const earlier = await client.workflow
        .getHandle(metricsShardWorkflowId(taskQueue, 1))
        .query(shardOrgStatusQuery, org)
      expect(earlier).toMatchObject({ signalsReceived: 1, signalsComputed: 1, computing: false })
    },
    SECONDS,
  )

  it(
    "takes the earlier shard's failure of an org for the answer only while its current shard knows nothing of it",
    async () => {
      const org = movedOrg()
      rejected.add(org)
      await touch(1, org)
      await computed(1, org)
      const error = await waitForOrgMetrics(client, links, [org], { timeoutMs: SECONDS }).then(
        () => expect.fail('--wait returned for an org whose only round failed'),
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(MetricsWorkflowError)
      expect((error as Error).message).toContain(
        `the metrics of ${org} failed in ${metricsShardWorkflowId(taskQueue, 1)}: OrgSettingsError: ${org}: no such timezone`,
      )

      // Its events after the upgrade are computed in its current shard: that is the answer now.
      rejected.delete(org)
      await touch(0, org)
      await computed(0, org)
      await waitForOrgMetrics(client, links, [org], { timeoutMs: SECONDS })
    },
    SECONDS,
  )
})
