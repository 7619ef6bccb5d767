/**
 * Whether an org's metrics hold every event produced so far: ingest has committed the events
 * topic up to its current end, and the org's metrics shard has computed every batch it was
 * signalled (and so has its shard under an earlier shard count, after an upgrade). The weekly
 * insight emails wait for it before they send (insightMetricsSettled).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client'
import type { Kafka } from 'kafkajs'
import type { DugoutConfig } from '../../schemas/config.schema.ts'
import {
  metricsShardsHolding,
  metricsShardWorkflowId,
  shardOrgStatusQuery,
} from '../../workflows/metrics-shard-workflow.ts'
import type { MetricsSettled } from '../../workflows/weekly-insights-workflow.ts'
import { partitionsBehind } from '../kafka/consumer-progress.ts'

export interface MetricsSettledDeps {
  client: Client
  kafka: Kafka
  config: Pick<DugoutConfig, 'TEMPORAL_TASK_QUEUE' | 'KAFKA_CONSUMER_GROUP' | 'KAFKA_EVENTS_TOPIC'>
}

export async function orgMetricsSettled(
  { client, kafka, config }: MetricsSettledDeps,
  org: string,
): Promise<MetricsSettled> {
  const behind = await partitionsBehind(kafka, config.KAFKA_CONSUMER_GROUP, config.KAFKA_EVENTS_TOPIC)
  if (behind.length > 0) return { settled: false, waitingFor: `ingest (${behind.length} partitions behind)` }
  // The org's shard, and its shards under earlier shard counts: one of those may still be
  // computing the days it received before an upgrade.
  for (const index of metricsShardsHolding(org)) {
    const shard = metricsShardWorkflowId(config.TEMPORAL_TASK_QUEUE, index)
    try {
      const status = await client.workflow.getHandle(shard).query(shardOrgStatusQuery, org)
      // null: the shard knows nothing of the org, so nothing of it is pending.
      if (
        status !== null &&
        (status.pendingDays > 0 || status.computing || status.signalsComputed < status.signalsReceived)
      ) {
        return {
          settled: false,
          waitingFor: `the metrics of ${org} (${status.signalsComputed} of ${status.signalsReceived} batches computed, ${status.pendingDays} days pending)`,
        }
      }
    } catch (error) {
      // No such shard: no event of its orgs has been stored since the services started.
      if (!(error instanceof WorkflowNotFoundError)) throw error
    }
  }
  return { settled: true }
}
