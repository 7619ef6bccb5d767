/**
 * Records workflow histories for the replay tests: `npx tsx test/support/record-histories.ts`.
 * Re-record only on purpose (a deliberate, versioned workflow change); a replay failure otherwise
 * means a change broke determinism for workflows already running. A version's history is kept
 * when a `patched()` change comes: `org-metrics-workflow.json` is the org metrics workflow from
 * before `patched('fewer-round-trips')`; this script records the current code under the patch's
 * name.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js'
import { Worker } from '@temporalio/worker'
import { WORKFLOWS_PATH } from '../../services/worker/worker-service.ts'
import { eventsIngestedSignal, orgMetricsWorkflow } from '../../workflows/org-metrics-workflow.ts'
import { rebuildWorkflow } from '../../workflows/rebuild-workflow.ts'
import { recordingProjectionActivities, timeSkippingEnvironment } from './workflow-env.ts'

const OUT = fileURLToPath(new URL('../fixtures/histories/', import.meta.url))

const env = await timeSkippingEnvironment()
const recording = recordingProjectionActivities((days) => [...days, '2026-03-09'])
const worker = await Worker.create({
  connection: env.nativeConnection,
  taskQueue: 'record',
  workflowsPath: WORKFLOWS_PATH,
  activities: recording.activities,
})
await worker.runUntil(async () => {
  const metrics = await env.client.workflow.start(orgMetricsWorkflow, {
    taskQueue: 'record',
    workflowId: 'org-metrics:recorded',
    args: [{ org: 'recorded', debounceMs: 1000, maxDelayMs: 3000 }],
  })
  await metrics.signal(eventsIngestedSignal, { days: ['2026-03-02'] })
  await metrics.signal(eventsIngestedSignal, { days: ['2026-03-01'] })
  await env.sleep(4000)
  await metrics.signal(eventsIngestedSignal, { days: ['2026-03-05'] })
  await env.sleep(4000)
  await metrics.terminate('recorded')
  fs.writeFileSync(
    path.join(OUT, 'org-metrics-workflow.fewer-round-trips.json'),
    historyToJSON(await metrics.fetchHistory()),
  )

  const rebuild = await env.client.workflow.start(rebuildWorkflow, {
    taskQueue: 'record',
    workflowId: 'rebuild:recorded',
    args: [{ org: 'recorded', daysPerActivity: 2 }],
  })
  await rebuild.result()
  fs.writeFileSync(path.join(OUT, 'rebuild-workflow.json'), historyToJSON(await rebuild.fetchHistory()))
})
await env.teardown()
process.stdout.write(`recorded histories in ${OUT}\n`)
