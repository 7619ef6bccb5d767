/**
 * `--wait`: returns once everything produced so far is reflected in the metrics — ingest has
 * committed past the topic's end offsets as they were when the import finished, and every
 * imported org's metrics workflow has computed every signal it received.
 */
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client'
import type { Kafka } from 'kafkajs'
import type { DugoutConfig } from '../../schemas/config.schema.ts'
import { orgMetricsStatusQuery, orgMetricsWorkflowId } from '../../workflows/org-metrics-workflow.ts'
import { partitionsBehind } from '../kafka/consumer-progress.ts'

export interface WaitOptions {
  timeoutMs: number
  onWaiting?: (what: string) => void
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export class WaitTimeoutError extends Error {
  readonly code = 'WAIT_TIMEOUT'
}

/** An org's metrics workflow exists but cannot answer: its workflow task is failing. */
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
      options.onWaiting?.(`ingest to store the events (${behind.length} partitions behind; is \`dugout up\` running?)`)
      hinted = Date.now()
    }
    check('ingest')
    await sleep(250)
  }

  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS })
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE })
  try {
    for (const org of orgs) {
      const handle = client.workflow.getHandle(orgMetricsWorkflowId(org))
      for (;;) {
        try {
          const status = await handle.query(orgMetricsStatusQuery)
          if (status.pendingDays === 0 && !status.computing && status.signalsComputed === status.signalsReceived) break
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) {
            const id = orgMetricsWorkflowId(org)
            throw new MetricsWorkflowError(
              `--wait: the metrics workflow of ${org} (${id}) does not answer: ${(error as Error).message}. ` +
                `Its history and error: http://127.0.0.1:${config.DUGOUT_TEMPORAL_UI_PORT}/namespaces/${config.TEMPORAL_NAMESPACE}/workflows/${encodeURIComponent(id)}` +
                ` (a workflow started by an incompatible older version can be terminated; the next event starts a new one, and \`dugout rebuild --org ${org}\` recomputes its days)`,
              { cause: error },
            )
          }
        }
        if (Date.now() - hinted > 10_000) {
          options.onWaiting?.(`the metrics of ${org} (is the worker running?)`)
          hinted = Date.now()
        }
        check(`the metrics of ${org}`)
        await sleep(250)
      }
    }
  } finally {
    await connection.close()
  }
}
