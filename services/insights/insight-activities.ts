/**
 * The activities of the weekly insight workflows (workflows/weekly-insights-workflow.ts): one
 * manager's idempotent send, and who to send a week to.
 */
import type { InsightActivities } from '../../workflows/weekly-insights-workflow.ts'
import { dayIn, lastFullWeeks } from '../projections/days.ts'
import { getUsableOrgSettings } from '../projections/org-settings.ts'
import { managerEmail, sendWeeklyInsight, weekManagers, type SenderDeps } from './insight-sender.ts'

/**
 * The Monday of the Monday–Sunday week before the one `instant` falls in, in `timeZone`: at
 * Monday 08:00 anywhere, the week that ended eight hours earlier there.
 */
export function previousWeek(instant: Date, timeZone: string): string {
  return lastFullWeeks(1, dayIn(instant, timeZone)).from
}

/** The insight activities over their dependencies (see `SenderDeps`). */
export function createInsightActivities(deps: SenderDeps): InsightActivities {
  return {
    sendWeeklyInsight: (input) => sendWeeklyInsight(deps, input),
    async insightRecipients({ org, week, now }) {
      const { timezone } = await getUsableOrgSettings(deps.ch, org)
      const resolved = week ?? previousWeek(new Date(now), timezone)
      const managers: string[] = []
      const withoutEmail: string[] = []
      for (const manager of await weekManagers(deps.ch, { org, week: resolved })) {
        const address = await managerEmail(deps.ch, { org, manager, week: resolved })
        ;(address === undefined ? withoutEmail : managers).push(manager)
      }
      return { week: resolved, timezone, managers, withoutEmail }
    },
  }
}
