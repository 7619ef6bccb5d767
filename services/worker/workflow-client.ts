/**
 * How the other processes (the HTTP API, the CLI) reach the worker's workflows through Temporal:
 * start a rebuild, link to a workflow in the Temporal UI, say why a workflow failed, and tell
 * whether any worker polls a task queue at all before blaming the worker for a wait.
 */
import { ApplicationFailure, type Client } from '@temporalio/client'
import type { RebuildParams } from '../../schemas/report-params.schema.ts'
import type { StackConfig, TemporalConfig } from '../../schemas/config.schema.ts'
import { rebuildWorkflow } from '../../workflows/rebuild-workflow.ts'

export type WorkflowLinkConfig = Pick<StackConfig, 'DUGOUT_TEMPORAL_UI_PORT'> &
  Pick<TemporalConfig, 'TEMPORAL_NAMESPACE'>

/** The workflow's page in the local Temporal UI; with a run id, that run's history. */
export function workflowUiUrl(config: WorkflowLinkConfig, workflowId: string, runId?: string): string {
  const page = `http://127.0.0.1:${config.DUGOUT_TEMPORAL_UI_PORT}/namespaces/${encodeURIComponent(config.TEMPORAL_NAMESPACE)}/workflows/${encodeURIComponent(workflowId)}`
  return runId ? `${page}/${encodeURIComponent(runId)}/history` : page
}

/** A rebuild's workflow id: one per start, so that two rebuilds of an org never collide. */
export function rebuildWorkflowId(org: string, now: Date): string {
  return `rebuild:${org}:${now.toISOString()}`
}

export interface StartedRebuild {
  workflowId: string
  runId: string
  /** Its page in the Temporal UI. */
  url: string
}

/** Starts a rebuild of checked parameters (see `RebuildParams`); returns at once. */
export async function startRebuild(
  client: Client,
  config: WorkflowLinkConfig & Pick<TemporalConfig, 'TEMPORAL_TASK_QUEUE'>,
  params: RebuildParams,
  now: Date,
): Promise<StartedRebuild> {
  const workflowId = rebuildWorkflowId(params.org, now)
  const handle = await client.workflow.start(rebuildWorkflow, {
    workflowId,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    args: [
      {
        org: params.org,
        ...(params.from ? { from: params.from } : {}),
        ...(params.to ? { to: params.to } : {}),
      },
    ],
  })
  return { workflowId, runId: handle.firstExecutionRunId, url: workflowUiUrl(config, workflowId) }
}

/** Why a workflow failed, from its innermost failure (an activity's ApplicationFailure, a timeout, a termination). */
export interface FailureReason {
  /** The ApplicationFailure's type (`DayError`, `ParamsError`, …), else the failure's class name. */
  type: string
  message: string
  /** True when Temporal was told that retrying cannot help. */
  nonRetryable: boolean
}

/** The reason of `WorkflowFailedError` (from `handle.result()`) or of any failure chain. */
export function failureReason(error: unknown): FailureReason {
  let innermost: unknown = error
  while (innermost instanceof Error && innermost.cause instanceof Error) innermost = innermost.cause
  if (innermost instanceof ApplicationFailure) {
    return {
      type: innermost.type ?? 'ApplicationFailure',
      message: innermost.message,
      nonRetryable: innermost.nonRetryable === true,
    }
  }
  if (innermost instanceof Error) return { type: innermost.name, message: innermost.message, nonRetryable: false }
  return { type: 'Error', message: String(innermost), nonRetryable: false }
}

/** One line: `DayError (not retried): days: must be …`. */
export function formatFailureReason(reason: FailureReason): string {
  return `${reason.type}${reason.nonRetryable ? ' (not retried)' : ''}: ${reason.message}`
}

// A live worker polls again as soon as a long poll returns (within about a minute); Temporal lists
// a poller for minutes after its last poll, so an old last access means a worker that is gone.
const POLLER_FRESH_MS = 2 * 60_000

/** Whether some worker has polled the task queue's workflow tasks lately. */
export async function workerPolls(
  client: Client,
  namespace: string,
  taskQueue: string,
  now: Date = new Date(),
): Promise<boolean> {
  const { pollers } = await client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue } })
  return (pollers ?? []).some((poller) => {
    const seconds = poller.lastAccessTime?.seconds
    if (seconds === undefined || seconds === null) return false
    const at = Number(seconds.toString()) * 1000
    return now.getTime() - at < POLLER_FRESH_MS
  })
}
