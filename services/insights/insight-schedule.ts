/**
 * The Temporal Schedule of an org's weekly insight emails (docs/insights.md, "Schedule"): Mondays at
 * 08:00 in the org's time zone it starts `weeklyInsightsFanOutWorkflow`, which sends each manager
 * the Monday–Sunday that just ended.
 */
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client'
import type { TemporalConfig } from '../../schemas/config.schema.ts'
import { weeklyInsightsFanOutWorkflow } from '../../workflows/weekly-insights-workflow.ts'

/** The org's Schedule id; its runs are `insights:<org>-<scheduled time>`. */
export const insightScheduleId = (org: string) => `insights:${org}`

/**
 * The Schedule's options. Policies, each protecting a guarantee:
 * - `catchupWindow: 7 days`: a Monday missed while Temporal was down runs when it is back, once (a
 *   weekly spec has at most one missed action in 7 days), rather than being skipped (the default
 *   window is one year, which after a long outage would start weeks nobody expects any more);
 * - `overlap: BUFFER_ONE`: a Monday whose previous fan-out is still running (an SMTP server retried
 *   for half an hour) starts once that one ends, instead of being dropped as SKIP would; it cannot
 *   double a week, as each run covers the week before its own scheduled time and each manager's
 *   week is a workflow id Temporal starts once.
 */
export function insightScheduleOptions(
  config: Pick<TemporalConfig, 'TEMPORAL_TASK_QUEUE'>,
  org: string,
  timezone: string,
): ScheduleOptions {
  return {
    scheduleId: insightScheduleId(org),
    spec: { calendars: [{ dayOfWeek: 'MONDAY', hour: 8 }], timezone },
    action: {
      type: 'startWorkflow',
      workflowType: weeklyInsightsFanOutWorkflow,
      workflowId: insightScheduleId(org),
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ org }],
    },
    policies: { overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: '7 days' },
  }
}

/** Creates the org's Schedule, or updates it to today's options (a new time zone): idempotent. */
export async function ensureInsightSchedule(
  client: Client,
  config: Pick<TemporalConfig, 'TEMPORAL_TASK_QUEUE'>,
  org: string,
  timezone: string,
): Promise<'created' | 'updated'> {
  const options = insightScheduleOptions(config, org, timezone)
  try {
    await client.schedule.create(options)
    return 'created'
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error
  }
  await client.schedule.getHandle(options.scheduleId).update((previous) => ({
    ...previous,
    spec: options.spec,
    action: options.action,
    policies: { ...previous.policies, ...options.policies },
  }))
  return 'updated'
}
