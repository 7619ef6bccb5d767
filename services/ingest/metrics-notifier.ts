/**
 * Ingest's hand-off to Temporal: once per batch, signal (starting it if needed) each metrics
 * shard that holds an org of the batch with the days the batch touched, per org
 * (workflows/metrics-shard-workflow.ts).
 */
import type { Client } from '@temporalio/client'
import {
  DEFAULT_METRICS_SHARDS,
  metricsShardOf,
  metricsShardWorkflow,
  metricsShardWorkflowId,
  orgsTouchedSignal,
} from '../../workflows/metrics-shard-workflow.ts'

export interface MetricsNotifier {
  daysTouched(org: string, days: string[]): Promise<void>
  /** A batch's days of every org it touched: one signal per shard rather than one per org. */
  orgsTouched?(touched: ReadonlyMap<string, string[]>): Promise<void>
}

export function createTemporalNotifier(
  client: Client,
  taskQueue: string,
  shards: number = DEFAULT_METRICS_SHARDS,
): MetricsNotifier {
  const orgsTouched = async (touched: ReadonlyMap<string, string[]>) => {
    const byShard = new Map<number, Record<string, string[]>>()
    for (const [org, days] of touched) {
      const shard = metricsShardOf(org, shards)
      byShard.set(shard, { ...byShard.get(shard), [org]: days })
    }
    for (const [shard, orgs] of [...byShard].sort(([a], [b]) => a - b)) {
      await client.workflow.signalWithStart(metricsShardWorkflow, {
        workflowId: metricsShardWorkflowId(taskQueue, shard),
        taskQueue,
        args: [{ shard }],
        signal: orgsTouchedSignal,
        signalArgs: [{ orgs }],
      })
    }
  }
  return {
    daysTouched: (org, days) => orgsTouched(new Map([[org, days]])),
    orgsTouched,
  }
}
