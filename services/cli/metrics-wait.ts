/**
 * `--wait`: returns once everything produced so far is reflected in the metrics — ingest has
 * committed past the topic's end offsets as they were when the import finished, and every
 * imported org's metrics shard has computed every signal it received for the org.
 */
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client'
import type { Kafka } from 'kafkajs'
import type { DugoutConfig } from '../../schemas/config.schema.ts'
import {
  orgMetricsStatusQuery,
  orgMetricsWorkflowId,
  type OrgMetricsStatus,
} from '../../workflows/org-metrics-workflow.ts'
import {
  metricsShardsHolding,
  metricsShardWorkflowId,
  shardOrgStatusQuery,
  type ShardOrgStatus,
} from '../../workflows/metrics-shard-workflow.ts'
import { partitionsBehind } from '../kafka/consumer-progress.ts'
import {
  failureReason,
  formatFailureReason,
  workerPolls,
  workflowUiUrl,
  type WorkflowLinkConfig,
} from '../worker/workflow-client.ts'

export interface WaitOptions {
  timeoutMs: number
  onWaiting?: (what: string) => void
  /**
   * Said after "N partitions behind" when ingest is slow to catch up, e.g. a hint that the
   * services may not run; none when the caller runs them itself (the demo).
   */
  ingestHint?: string
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export class WaitTimeoutError extends Error {
  readonly code = 'WAIT_TIMEOUT'
}

/** An org's metrics workflow failed, or exists but cannot answer (its workflow task is failing). */
export class MetricsWorkflowError extends Error {
  readonly code = 'METRICS_WORKFLOW_FAILING'
}

export async function topicEnds(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]))
  } finally {
    await admin.disconnect()
  }
}

export async function waitForMetrics(
  config: DugoutConfig,
  kafka: Kafka,
  orgs: readonly string[],
  ends: Map<number, bigint>,
  options: WaitOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs
  const check = (what: string) => {
    if (Date.now() > deadline) {
      throw new WaitTimeoutError(`--wait: gave up after ${Math.round(options.timeoutMs / 1000)} s waiting for ${what}`)
    }
  }
  let hinted = Date.now()
  for (;;) {
    const behind = await partitionsBehind(kafka, config.KAFKA_CONSUMER_GROUP, config.KAFKA_EVENTS_TOPIC, ends)
    if (behind.length === 0) break
    if (Date.now() - hinted > 10_000) {
      options.onWaiting?.(`ingest to store the events (${behind.length} partitions behind${options.ingestHint ?? ''})`)
      hinted = Date.now()
    }
    check('ingest')
    await sleep(250)
  }

  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS })
  try {
    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE })
    await waitForOrgMetrics(client, config, orgs, options, deadline)
  } finally {
    await connection.close()
  }
}

/**
 * The Temporal half of `--wait`: until each org's metrics are computed for every signal ingest
 * sent. An org's metrics are its metrics shard's (metrics-shard-workflow.ts, the org's status
 * there, and in its shard under an earlier shard count, which may hold days from before an
 * upgrade); a per-org metrics workflow of before the shards (org-metrics-workflow.ts) still
 * running is waited for too, and one that failed ends the wait when its shard knows nothing of
 * the org. A
 * failure ends the wait at once with its reason and Temporal UI link; the hint that the worker may
 * be down comes only when no worker polls the workflow's task queue.
 */
export async function waitForOrgMetrics(
  client: Client,
  config: Pick<DugoutConfig, 'TEMPORAL_NAMESPACE' | 'TEMPORAL_TASK_QUEUE' | 'DUGOUT_TEMPORAL_UI_PORT'>,
  orgs: readonly string[],
  options: WaitOptions & { shards?: number },
  deadline = Date.now() + options.timeoutMs,
): Promise<void> {
  let hinted = Date.now()
  const hint = (what: string) => {
    if (Date.now() - hinted < 10_000) return
    options.onWaiting?.(what)
    hinted = Date.now()
  }
  for (const org of orgs) {
    const id = orgMetricsWorkflowId(org)
    const [shardId, ...earlierIds] = metricsShardsHolding(org, options.shards).map((shard) =>
      metricsShardWorkflowId(config.TEMPORAL_TASK_QUEUE, shard),
    ) as [string, ...string[]]
    for (;;) {
      const inShard = await lookAtShard(client, config, org, shardId)
      // Its shards under earlier shard counts, which may still compute days received before an
      // upgrade; their failure is the answer only without the current shard's word on the org.
      const earlier: [string, InShard][] = []
      for (const id of earlierIds) earlier.push([id, await lookAtShard(client, config, org, id)])
      const seen = await lookAt(client, config, org)
      const asked: [string, InShard][] = [[shardId, inShard], ...(inShard.kind === 'status' ? [] : earlier)]
      for (const [id, s] of asked) {
        if (s.kind !== 'status' || !s.status.failure) continue
        const { failure } = s.status
        throw new MetricsWorkflowError(
          `--wait: the metrics of ${org} failed in ${id}: ${failure.type}: ${failure.message}. ` +
            `Its history: ${workflowUiUrl(config, id)}` +
            ` (the org's next events try again; \`dugout rebuild --org ${org}\` recomputes its days)`,
        )
      }
      // Without the shard's word on the org, a per-org workflow that ended badly is the answer.
      if (inShard.kind !== 'status' && seen.kind === 'ended') {
        const reason = failureReason(seen.error)
        throw new MetricsWorkflowError(
          `--wait: the metrics workflow of ${org} (${id}) failed: ${formatFailureReason(reason)}. ` +
            `Its history: ${workflowUiUrl(config, id, seen.runId)}` +
            ` (the org's next events start a new one; \`dugout rebuild --org ${org}\` recomputes its days)`,
          { cause: seen.error },
        )
      }
      const shardFresh = inShard.kind === 'status' && fresh(inShard.status)
      const legacyFresh = seen.kind !== 'status' || fresh(seen.status)
      const earlierFresh = earlier.every(([, s]) => s.kind !== 'status' || fresh(s.status))
      const known =
        inShard.kind === 'status' ||
        earlier.some(([, s]) => s.kind === 'status') ||
        seen.kind === 'status' ||
        seen.kind === 'completed'
      if (known && legacyFresh && earlierFresh && (shardFresh || inShard.kind !== 'status')) break
      for (const s of [inShard, ...earlier.map(([, e]) => e), seen]) {
        if (s.kind === 'status' && !fresh(s.status)) {
          hint(
            `the metrics of ${org} (${s.status.signalsComputed} of ${s.status.signalsReceived} batches computed, ${s.status.pendingDays} days pending)`,
          )
        }
        if (s.kind === 'no-worker') {
          hint(
            `the metrics of ${org}: no worker polls task queue ${s.taskQueue} (is the worker running? \`dugout up\`)`,
          )
        }
      }
      if (Date.now() > deadline) {
        throw new WaitTimeoutError(
          `--wait: gave up after ${Math.round(options.timeoutMs / 1000)} s waiting for the metrics of ${org}`,
        )
      }
      await sleep(250)
    }
  }
}

const fresh = (status: OrgMetricsStatus) =>
  status.pendingDays === 0 && !status.computing && status.signalsComputed === status.signalsReceived

type InShard =
  | { kind: 'not-started' }
  | { kind: 'unknown' }
  | { kind: 'no-worker'; taskQueue: string }
  | { kind: 'status'; status: ShardOrgStatus }

/** What an org's metrics shard says of it; throws a MetricsWorkflowError when a running shard cannot answer. */
async function lookAtShard(client: Client, config: WorkflowLinkConfig, org: string, id: string): Promise<InShard> {
  const handle = client.workflow.getHandle(id)
  try {
    const description = await handle.describe()
    // Continue-as-new leaves the latest run running: a closed shard was terminated or failed.
    if (description.status.name !== 'RUNNING') return { kind: 'not-started' }
    if (!(await workerPolls(client, config.TEMPORAL_NAMESPACE, description.taskQueue)))
      return { kind: 'no-worker', taskQueue: description.taskQueue }
    const status = await handle.query(shardOrgStatusQuery, org)
    return status ? { kind: 'status', status } : { kind: 'unknown' }
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return { kind: 'not-started' }
    throw new MetricsWorkflowError(
      `--wait: the metrics shard of ${org} (${id}) does not answer: ${(error as Error).message}. ` +
        `Its history and error: ${workflowUiUrl(config, id)}`,
      { cause: error },
    )
  }
}

type Seen =
  | { kind: 'not-started' }
  | { kind: 'completed' }
  | { kind: 'ended'; runId: string; error: unknown }
  | { kind: 'no-worker'; taskQueue: string }
  | { kind: 'status'; status: OrgMetricsStatus }

/** Where an org's metrics workflow is; throws a MetricsWorkflowError when a running one cannot answer. */
async function lookAt(client: Client, config: WorkflowLinkConfig, org: string): Promise<Seen> {
  const id = orgMetricsWorkflowId(org)
  const handle = client.workflow.getHandle(id)
  try {
    const description = await handle.describe()
    // A per-org workflow of before the shards ends once idle (retire-to-metrics-shards).
    if (description.status.name === 'COMPLETED') return { kind: 'completed' }
    // Continue-as-new leaves the latest run running: a closed latest run failed, timed out or was terminated.
    if (description.status.name !== 'RUNNING') {
      const error = await handle.result().then(
        () => new Error(`it ended ${description.status.name.toLowerCase()}`),
        (failure: unknown) => failure,
      )
      return { kind: 'ended', runId: description.runId, error }
    }
    if (!(await workerPolls(client, config.TEMPORAL_NAMESPACE, description.taskQueue)))
      return { kind: 'no-worker', taskQueue: description.taskQueue }
    return { kind: 'status', status: await handle.query(orgMetricsStatusQuery) }
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return { kind: 'not-started' }
    throw new MetricsWorkflowError(
      `--wait: the metrics workflow of ${org} (${id}) does not answer: ${(error as Error).message}. ` +
        `Its history and error: ${workflowUiUrl(config, id)}` +
        ` (a workflow started by an incompatible older version can be terminated; the next event starts a new one, and \`dugout rebuild --org ${org}\` recomputes its days)`,
      { cause: error },
    )
  }
}
