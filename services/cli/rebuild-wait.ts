/**
 * `dugout rebuild`'s waiting: its progress as it goes; once it fails, the reason and its Temporal
 * UI link, as an error (so a non-zero exit); "is the worker running?" only when no worker polls
 * the task queue, and otherwise what the rebuild is waiting for (an activity being retried).
 */
import type { WorkflowHandle } from '@temporalio/client'
import { rebuildProgressQuery, type RebuildProgress, type rebuildWorkflow } from '../../workflows/rebuild-workflow.ts'
import { failureReason, formatFailureReason, type FailureReason } from '../worker/workflow-client.ts'

/** A workflow the CLI waited on ended without its result; `reason` says why. */
export class WorkflowFailureError extends Error {
  readonly code = 'WORKFLOW_FAILED'
  readonly reason: FailureReason

  constructor(message: string, reason: FailureReason, options?: ErrorOptions) {
    super(message, options)
    this.reason = reason
  }
}

export interface RebuildWaitOptions {
  say: (line: string) => void
  /** The rebuild's page in the Temporal UI. */
  url: string
  /** The task queue the rebuild runs on, named in the hint when no worker polls it. */
  taskQueue: string
  /** Whether a worker polls that task queue (see `workerPolls`). */
  workerPolls: () => Promise<boolean>
  /** Quiet time without progress before saying what the rebuild waits for (default 15 s). */
  quietMs?: number
  /** Time between two looks at the progress (default 1 s). */
  pollMs?: number
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits for the rebuild's result; throws a WorkflowFailureError naming its reason if it fails. */
export async function waitForRebuild(
  handle: WorkflowHandle<typeof rebuildWorkflow>,
  options: RebuildWaitOptions,
): Promise<RebuildProgress> {
  const { say, quietMs = 15_000, pollMs = 1000 } = options
  const result = handle.result()
  let ended: { ok: true; value: RebuildProgress } | { ok: false; error: unknown } | undefined
  const settled = result.then(
    (value) => (ended = { ok: true, value }),
    (error: unknown) => (ended = { ok: false, error }),
  )
  let lastProgress = -1
  let quietSince = Date.now()
  while (!ended) {
    await Promise.race([settled, sleep(pollMs)])
    if (ended) break
    const polled = await options.workerPolls().catch(() => true)
    const progress = polled ? await handle.query(rebuildProgressQuery).catch(() => undefined) : undefined
    if (progress && progress.doneDays !== lastProgress) {
      say(`rebuild: ${progress.doneDays}/${progress.totalDays} days, ${progress.rows} fact rows`)
      lastProgress = progress.doneDays
      quietSince = Date.now()
    }
    if (ended || Date.now() - quietSince < quietMs) continue
    quietSince = Date.now()
    if (!polled) say(`rebuild: no worker polls task queue ${options.taskQueue} (is the worker running? \`dugout up\`)`)
    else say(`rebuild: ${(await retryingActivity(handle)) ?? 'no progress yet'}; ${options.url}`)
  }
  if (ended.ok) return ended.value
  const reason = failureReason(ended.error)
  throw new WorkflowFailureError(
    `rebuild failed: ${formatFailureReason(reason)}\n  its history: ${options.url}`,
    reason,
    {
      cause: ended.error,
    },
  )
}

/** `recomputeDays failed 3 times (last: …); retrying`, for an activity that is being retried. */
async function retryingActivity(handle: WorkflowHandle): Promise<string | undefined> {
  const description = await handle.describe().catch(() => undefined)
  const pending = description?.raw.pendingActivities?.find((a) => (a.attempt ?? 1) > 1)
  if (!pending) return undefined
  const last = pending.lastFailure?.message ?? 'no message'
  return `${pending.activityType?.name ?? 'an activity'} failed ${(pending.attempt ?? 2) - 1} times (last: ${last}); retrying`
}
