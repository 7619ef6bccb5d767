/**
 * The activities of the weekly insight workflows (workflows/weekly-insights-workflow.ts): one
 * manager's idempotent send, and who to send a week to.
 */
import type { InsightActivities } from '../../workflows/weekly-insights-workflow.ts'
import { addDays, dayIn, dayStart, lastFullWeeks } from '../projections/days.ts'
import { getUsableOrgSettings } from '../projections/org-settings.ts'
import { managerContact, sendWeeklyInsight, weekManagers, type SenderDeps } from './insight-sender.ts'
import { optedOutManagers } from './opt-out.ts'

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
