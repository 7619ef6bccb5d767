/**
 * The activities of the weekly insight workflows (workflows/weekly-insights-workflow.ts): one
 * manager's idempotent send, and who to send a week to.
 */
import { Context } from '@temporalio/activity'
import type { Client } from '@temporalio/client'
import type { TemporalConfig } from '../../schemas/config.schema.ts'
import type { InsightActivities, MetricsSettled } from '../../workflows/weekly-insights-workflow.ts'
import { addDays, dayIn, dayStart, lastFullWeeks } from '../projections/days.ts'
import { getUsableOrgSettings } from '../projections/org-settings.ts'
import { managerContact, sendWeeklyInsight, weekManagers, type SenderDeps } from './insight-sender.ts'
import { eventOrgs, insightTimeZones, reconcileInsightSchedules } from './insight-schedule.ts'
import { optedOutManagers } from './opt-out.ts'

/**
 * The Monday of the Monday–Sunday week before the one `instant` falls in, in `timeZone`: at
 * Monday 08:00 anywhere, the week that ended eight hours earlier there.
 */
export function previousWeek(instant: Date, timeZone: string): string {
  return lastFullWeeks(1, dayIn(instant, timeZone)).from
}

/** How often a running send tells Temporal it is alive (the workflow's heartbeat timeout is 15 s). */
const HEARTBEAT_MS = 3_000

/** Runs `work`, heartbeating while it runs when called as an activity (else just runs it). */
async function heartbeating<T>(work: () => Promise<T>): Promise<T> {
  let context: Context | undefined
  try {
    context = Context.current()
  } catch {
    return work()
  }
  const timer = setInterval(() => context.heartbeat(), HEARTBEAT_MS)
  try {
    return await work()
  } finally {
    clearInterval(timer)
  }
}

/** What the activities need: the sender's dependencies, and Temporal for the Schedules. */
export interface InsightActivityDeps extends SenderDeps {
  /** The client and task queue of the Schedules; without, `syncInsightSchedules` refuses. */
  temporal?: { client: Client; config: Pick<TemporalConfig, 'TEMPORAL_TASK_QUEUE'> }
  /** Whether ingest and the org's metrics have caught up (the worker's); without, they count as caught up. */
  metricsSettled?: (org: string) => Promise<MetricsSettled>
}

/** The insight activities over their dependencies (see `InsightActivityDeps`). */
export function createInsightActivities(deps: InsightActivityDeps): InsightActivities {
  return {
    insightMetricsSettled: ({ org }) => deps.metricsSettled?.(org) ?? Promise.resolve({ settled: true }),
    async syncInsightSchedules({ now }) {
      if (deps.temporal === undefined) throw new Error('syncInsightSchedules needs a Temporal client')
      const { client, config } = deps.temporal
      const changes = []
      for (const org of await eventOrgs(deps.ch)) {
        const zones = await insightTimeZones(deps.ch, org, new Date(now))
        changes.push(await reconcileInsightSchedules(client, config, org, zones))
      }
      return changes
    },
    sendWeeklyInsight: (input) => heartbeating(() => sendWeeklyInsight(deps, input)),
    async insightRecipients({ org, week, now, timezone: zone }) {
      const { timezone } = await getUsableOrgSettings(deps.ch, org)
      const resolved = week ?? previousWeek(new Date(now), zone ?? timezone)
      const optedOutOfOrg = await optedOutManagers(deps.ch, org)
      const managers: string[] = []
      const withoutEmail: string[] = []
      const optedOut: string[] = []
      for (const manager of await weekManagers(deps.ch, { org, week: resolved })) {
        const contact = await managerContact(deps.ch, { org, manager, week: resolved })
        if (zone !== undefined && (contact.timezone ?? timezone) !== zone) continue
        if (contact.email === undefined) withoutEmail.push(manager)
        else if (optedOutOfOrg.has(manager)) optedOut.push(manager)
        else managers.push(manager)
      }
      const weekEndsAt = dayStart(addDays(resolved, 7), timezone).toISOString()
      return { week: resolved, timezone, managers, withoutEmail, optedOut, weekEndsAt }
    },
  }
}
