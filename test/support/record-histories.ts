/**
 * Records workflow histories for the replay tests: `npx tsx test/support/record-histories.ts`.
 * A history is the record of a version that ran, so this script never overwrites one: after a
 * `patched()` change, it records the current code under the newest patch's name, and the replay
 * tests keep replaying the older versions' histories (`org-metrics-workflow.json` is from before
 * `patched('fewer-round-trips')`, `org-metrics-workflow.fewer-round-trips.json` from before
 * `patched('prune-in-background')`, `org-metrics-workflow.prune-in-background.json` from before
 * `patched('retire-to-metrics-shards')`, `rebuild-workflow.json` from before
 * `patched('set-based-rebuild')`, `weekly-insights-fan-out-workflow.json` and its `already-started`
 * twin from before `patched('wait-for-metrics')`). A replay failure means a change broke determinism for
 * workflows already running.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js'
import { Worker } from '@temporalio/worker'
import { WORKFLOWS_PATH } from '../../services/worker/worker-service.ts'
import {
  metricsShardWorkflow,
  metricsShardWorkflowId,
  orgsTouchedSignal,
} from '../../workflows/metrics-shard-workflow.ts'
import { eventsIngestedSignal, orgMetricsWorkflow } from '../../workflows/org-metrics-workflow.ts'
import { rebuildWorkflow } from '../../workflows/rebuild-workflow.ts'
import {
  type InsightActivities,
  insightSchedulesWorkflow,
  weeklyInsightsFanOutWorkflow,
  weeklyInsightWorkflowId,
} from '../../workflows/weekly-insights-workflow.ts'
import { recordingProjectionActivities, timeSkippingEnvironment } from './workflow-env.ts'

/** The metrics checks of the recorded fan-outs: each sees "not settled", then "settled". */
let metricsChecks = 0

const OUT = fileURLToPath(new URL('../fixtures/histories/', import.meta.url))

const env = await timeSkippingEnvironment()
const recording = recordingProjectionActivities((days) => [...days, '2026-03-09'])
const worker = await Worker.create({
  connection: env.nativeConnection,
  taskQueue: 'record',
  workflowsPath: WORKFLOWS_PATH,
  activities: { ...recording.activities, ...recordedInsightActivities() },
})
await worker.runUntil(async () => {
  const metrics = await env.client.workflow.start(orgMetricsWorkflow, {
    taskQueue: 'record',
    workflowId: 'org-metrics:recorded',
    args: [{ org: 'recorded', debounceMs: 1000, maxDelayMs: 3000, pruneEvery: 2 }],
  })
  await metrics.signal(eventsIngestedSignal, { days: ['2026-03-02'] })
  await metrics.signal(eventsIngestedSignal, { days: ['2026-03-01'] })
  await env.sleep(4000)
  // Past the 4th recomputation, so that the history holds two prunes.
  for (const day of ['2026-03-05', '2026-03-06', '2026-03-07', '2026-03-08']) {
    await metrics.signal(eventsIngestedSignal, { days: [day] })
    await env.sleep(4000)
  }
  await metrics.terminate('recorded')
  record('org-metrics-workflow.retire-to-metrics-shards.json', await metrics.fetchHistory())

  // Two orgs in one round, a third in the next; a round of 40 days has a rest; two prunes.
  const shard = await env.client.workflow.start(metricsShardWorkflow, {
    taskQueue: 'record',
    workflowId: metricsShardWorkflowId('record', 0),
    args: [{ shard: 0, debounceMs: 1000, maxDelayMs: 3000, pruneEvery: 2 }],
  })
  await shard.signal(orgsTouchedSignal, { orgs: { acme: ['2026-03-02'], globex: ['2026-03-01'] } })
  await shard.signal(orgsTouchedSignal, { orgs: { acme: ['2026-03-03'] } })
  await env.sleep(4000)
  await shard.signal(orgsTouchedSignal, { orgs: { initech: ['2026-03-05'] } })
  await env.sleep(4000)
  const year = Array.from({ length: 40 }, (_, i) => new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10))
  await shard.signal(orgsTouchedSignal, { orgs: { acme: year } })
  await env.sleep(4000)
  await shard.terminate('recorded')
  record('metrics-shard-workflow.json', await shard.fetchHistory())

  const rebuild = await env.client.workflow.start(rebuildWorkflow, {
    taskQueue: 'record',
    workflowId: 'rebuild:recorded',
    args: [{ org: 'recorded', daysPerActivity: 2 }],
  })
  await rebuild.result()
  record('rebuild-workflow.set-based-rebuild.json', await rebuild.fetchHistory())

  // Two managers with an address and one without; the second fan-out finds mgr-1's week done.
  const week = '2026-03-02'
  const fanOut = await env.client.workflow.start(weeklyInsightsFanOutWorkflow, {
    taskQueue: 'record',
    workflowId: 'insights:recorded',
    args: [{ org: 'recorded', week }],
  })
  await fanOut.result()
  record('weekly-insights-fan-out-workflow.json', await fanOut.fetchHistory())
  const child = env.client.workflow.getHandle(weeklyInsightWorkflowId({ org: 'recorded', manager: 'mgr-1', week }))
  record('weekly-insight-workflow.json', await child.fetchHistory())
  const again = await env.client.workflow.start(weeklyInsightsFanOutWorkflow, {
    taskQueue: 'record',
    workflowId: 'insights:recorded:again',
    args: [{ org: 'recorded', week }],
  })
  await again.result()
  record('weekly-insights-fan-out-workflow.already-started.json', await again.fetchHistory())
  // patched('wait-for-metrics'): the metrics not settled at the first check, settled a minute later.
  const waited = await env.client.workflow.start(weeklyInsightsFanOutWorkflow, {
    taskQueue: 'record',
    workflowId: 'insights:recorded:waited',
    args: [{ org: 'recorded', week: '2026-03-09' }],
  })
  await waited.result()
  record('weekly-insights-fan-out-workflow.wait-for-metrics.json', await waited.fetchHistory())
  const sync = await env.client.workflow.start(insightSchedulesWorkflow, {
    taskQueue: 'record',
    workflowId: 'insight-schedules:recorded',
  })
  await sync.result()
  record('insight-schedules-workflow.json', await sync.fetchHistory())
})
await env.teardown()

/** Insight activities that send nothing: the workflows' decisions are what a history records. */
function recordedInsightActivities(): InsightActivities {
  return {
    async insightRecipients({ week }) {
      return { week: week ?? '2026-03-02', timezone: 'UTC', managers: ['mgr-1', 'mgr-2'], withoutEmail: ['mgr-3'] }
    },
    async sendWeeklyInsight({ org, manager, week }) {
      return { status: 'sent', message_id: `<insights.${org}.${manager}.${week}@dugout>` }
    },
    async syncInsightSchedules() {
      return [{ org: 'recorded', created: ['UTC'], updated: [], deleted: [] }]
    },
    async insightMetricsSettled() {
      return { settled: ++metricsChecks % 2 === 0, waitingFor: 'ingest (1 partitions behind)' }
    },
  }
}

function record(file: string, history: Parameters<typeof historyToJSON>[0]): void {
  const target = path.join(OUT, file)
  if (fs.existsSync(target)) return void process.stdout.write(`kept ${target}: recorded already\n`)
  fs.writeFileSync(target, historyToJSON(history))
  process.stdout.write(`recorded ${target}\n`)
}
