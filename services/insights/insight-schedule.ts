/**
 * The Temporal Schedules of the weekly insight emails (docs/insights.md, "Schedule"). Each org has
 * one Schedule per time zone of its managers (a manager's own `timezone`, else the org's): Mondays
 * at 08:00 in that zone it starts `weeklyInsightsFanOutWorkflow` for that zone's managers, which
 * sends each the Monday–Sunday that just ended.
 *
 * Which zones an org needs changes with its people, so one more Schedule, per task queue, runs
 * `insightSchedulesWorkflow` every hour: it creates the Schedules of new orgs and zones, updates
 * the others, and deletes those of zones nobody is in any more. The worker ensures that one when it
 * starts (DUGOUT_INSIGHTS_SCHEDULE=off: not), and `dugout insights schedule` does an org's by hand.
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptions,
} from '@temporalio/client'
import type { TemporalConfig } from '../../schemas/config.schema.ts'
import {
  insightSchedulesWorkflow,
  weeklyInsightsFanOutWorkflow,
  type InsightSchedulesChange,
} from '../../workflows/weekly-insights-workflow.ts'
import type { ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { sql } from '../clickhouse/sql.ts'
import { dayIn, lastFullWeeks } from '../projections/days.ts'
import { getUsableOrgSettings } from '../projections/org-settings.ts'
import { managerContact, weekManagers } from './insight-sender.ts'

type QueueConfig = Pick<TemporalConfig, 'TEMPORAL_TASK_QUEUE'>

/** The Schedule of an org's managers in `timezone`; its runs are `<id>-<scheduled time>`. */
export const insightScheduleId = (org: string, timezone: string) => `insights:${org}:${timezone}`

/** The prefix of every insight Schedule of an org. */
const orgSchedulePrefix = (org: string) => `insights:${org}:`

/** The hourly Schedule that keeps the orgs' Schedules in step with their managers' time zones. */
export const insightSchedulesScheduleId = (config: QueueConfig) => `insight-schedules:${config.TEMPORAL_TASK_QUEUE}`

/**
 * The options of the Schedule of (org, timezone). Policies, each protecting a guarantee:
 * - `catchupWindow: 7 days`: a Monday missed while Temporal was down runs when it is back, once (a
 *   weekly spec has at most one missed action in 7 days), rather than being skipped (the default
 *   window is one year, which after a long outage would start weeks nobody expects any more);
 * - `overlap: BUFFER_ONE`: a Monday whose previous fan-out is still running (an SMTP server retried
 *   for half an hour) starts once that one ends, instead of being dropped as SKIP would; it cannot
 *   double a week, as each run covers the week before its own scheduled time and each manager's
 *   week is a workflow id Temporal starts once.
 */
export function insightScheduleOptions(config: QueueConfig, org: string, timezone: string): ScheduleOptions {
  const scheduleId = insightScheduleId(org, timezone)
  return {
    scheduleId,
    spec: { calendars: [{ dayOfWeek: 'MONDAY', hour: 8 }], timezone },
    action: {
      type: 'startWorkflow',
      workflowType: weeklyInsightsFanOutWorkflow,
      workflowId: scheduleId,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [{ org, timezone }],
    },
    policies: { overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: '7 days' },
  }
}

/** Creates the Schedule, or updates it to `options` (a new task queue): idempotent. */
async function ensureSchedule(client: Client, options: ScheduleOptions): Promise<'created' | 'updated'> {
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

/** Creates the Schedule of (org, timezone), or updates it to today's options: idempotent. */
export function ensureInsightSchedule(
  client: Client,
  config: QueueConfig,
  org: string,
  timezone: string,
): Promise<'created' | 'updated'> {
  return ensureSchedule(client, insightScheduleOptions(config, org, timezone))
}

/**
 * The time zones whose Mondays an org's emails go out on: the org's own, and each of the managers
 * of the last full week who has one of their own.
 */
export async function insightTimeZones(ch: ClickHouse, org: string, now: Date): Promise<string[]> {
  const { timezone } = await getUsableOrgSettings(ch, org)
  const week = lastFullWeeks(1, dayIn(now, timezone)).from
  const zones = new Set([timezone])
  for (const manager of await weekManagers(ch, { org, week })) {
    const own = (await managerContact(ch, { org, manager, week })).timezone
    if (own !== undefined) zones.add(own)
  }
  return [...zones].sort()
}

/** Brings an org's Schedules in step with `timezones`: creates, updates, deletes the others. */
export async function reconcileInsightSchedules(
  client: Client,
  config: QueueConfig,
  org: string,
  timezones: readonly string[],
): Promise<InsightSchedulesChange> {
  const change: InsightSchedulesChange = { org, created: [], updated: [], deleted: [] }
  for (const zone of timezones) change[await ensureInsightSchedule(client, config, org, zone)].push(zone)
  const wanted = new Set(timezones.map((zone) => insightScheduleId(org, zone)))
  for await (const schedule of client.schedule.list()) {
    if (!schedule.scheduleId.startsWith(orgSchedulePrefix(org)) || wanted.has(schedule.scheduleId)) continue
    try {
      await client.schedule.getHandle(schedule.scheduleId).delete()
      change.deleted.push(schedule.scheduleId.slice(orgSchedulePrefix(org).length))
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError)) throw error
    }
  }
  return change
}

const ORGS = sql`SELECT DISTINCT org_id FROM {db:Identifier}.events ORDER BY org_id`

/** Every org of the event store. */
export async function eventOrgs(ch: ClickHouse): Promise<string[]> {
  const result = await ch.client.query({ query: ORGS.text, query_params: { db: ch.database }, format: 'JSONEachRow' })
  return (await result.json<{ org_id: string }>()).map((row) => row.org_id)
}

/**
 * Ensures the hourly Schedule of `insightSchedulesWorkflow` on this task queue; a new one runs at
 * once, so a first start has its orgs' Schedules within seconds. SKIP: an hour whose previous run
 * is still going needs no second one.
 */
export function ensureInsightSchedulesSchedule(client: Client, config: QueueConfig): Promise<'created' | 'updated'> {
  const scheduleId = insightSchedulesScheduleId(config)
  return ensureSchedule(client, {
    scheduleId,
    spec: { intervals: [{ every: '1 hour' }] },
    action: {
      type: 'startWorkflow',
      workflowType: insightSchedulesWorkflow,
      workflowId: scheduleId,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      args: [],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 hour' },
    state: { triggerImmediately: true },
  })
}
