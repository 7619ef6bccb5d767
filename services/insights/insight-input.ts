/**
 * Gathering: what the rules of docs/insights.md read for one manager's week, from ClickHouse. The
 * reports come from the metric projections (`runReport`), the two rep facts from `explainMetric`
 * (the event store), each as docs/insights.md "Where the facts come from" says; the rules
 * themselves stay pure (insight-rules.ts) and never see ClickHouse.
 */
import type { KeyMetricWeek } from '../../schemas/insights.schema.ts'
import {
  InsightInput,
  ManagerWeek,
  RepWeek,
  type InsightHistoryWeek,
  type InsightThresholds,
  type RepFacts,
} from '../../schemas/insights.schema.ts'
import type { ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { sql } from '../clickhouse/sql.ts'
import { ReportParamsError } from '../errors.ts'
import { addDays, dayIn, daysBetween, weekOf } from '../projections/days.ts'
import { getUsableOrgSettings } from '../projections/org-settings.ts'
import { displayNames } from '../reports/display-names.ts'
import { explainMetric, type Explanation } from '../reports/explain.ts'
import { runReport, type ReportRow } from '../reports/report-queries.ts'
import { orgMedians } from './insight-rules.ts'

/** Whose week: the org, the manager's id, and the week's Monday (`YYYY-MM-DD`). */
export interface InsightRequest {
  org: string
  manager: string
  week: string
}

/** What an email is made of: the rules' input and the chart's last eight weeks (oldest first). */
export interface InsightWeekData {
  org: string
  input: InsightInput
  chart: KeyMetricWeek[]
}

/** Previous weeks the rules compare with (docs/insights.md), and weeks the chart shows. */
const HISTORY_WEEKS = 4
const CHART_WEEKS = 8

const MANAGER_REPORTS = ['manager-autonomy', 'manager-direction', 'manager-care'] as const

/**
 * Builds the rules' input for `manager`'s week starting `week` (a Monday), and the chart's weeks.
 * Throws a ReportParamsError naming `week` (not a Monday) or `manager` (no manager row that week).
 */
export async function gatherInsightWeek(
  ch: ClickHouse,
  request: InsightRequest,
  thresholds: InsightThresholds,
): Promise<InsightWeekData> {
  const { org, manager } = request
  if (weekOf(request.week) !== request.week) {
    const rule = 'must be the Monday of an ISO week'
    throw new ReportParamsError([
      { parameter: 'week', rule, message: `week: ${rule} (got ${JSON.stringify(request.week)})` },
    ])
  }
  const { timezone } = await getUsableOrgSettings(ch, org)
  const week = { from: request.week, to: addDays(request.week, 6) }
  const names = await displayNames(ch, { org, to: week.to, tz: timezone })
  const nameOf = (id: string) => names.get(id) ?? id

  const managers = await managerWeeks(ch, org, week)
  const current = managers.find((m) => m.manager_id === manager)
  if (current === undefined) {
    const rule = 'must be a manager at the end of the week (the reports have no row for them)'
    throw new ReportParamsError([
      { parameter: 'manager', rule, message: `manager: ${rule} (got ${JSON.stringify(manager)})` },
    ])
  }
  const reps = (await repWeeks(ch, org, week, nameOf)).filter((r) => r.manager_id === manager)
  const team = new Set(reps.map((r) => r.rep_id))

  // A rep's history follows the rep (docs/insights.md): their rows of each earlier week,
  // whichever team they were on then. Weeks before the manager and the team existed are left out.
  const history: InsightHistoryWeek[] = []
  const chart: KeyMetricWeek[] = [keyMetrics(week.from, current)]
  for (let back = 1; back < CHART_WEEKS; back++) {
    const from = addDays(week.from, -7 * back)
    const earlier = { from, to: addDays(from, 6) }
    const row = (await managerWeeks(ch, org, earlier)).find((m) => m.manager_id === manager) ?? null
    chart.unshift(keyMetrics(from, row))
    if (back > HISTORY_WEEKS) continue
    const teamRows = (await repWeeks(ch, org, earlier, nameOf)).filter((r) => team.has(r.rep_id))
    if (row !== null || teamRows.length > 0) history.push({ week: earlier, manager: row, reps: teamRows })
  }

  const input = InsightInput.parse({
    manager: { id: manager, name: nameOf(manager) },
    week,
    current,
    reps,
    history,
    medians: orgMedians(managers),
    repFacts: await repFacts(ch, { org, manager, week, timezone, team: [...team] }, thresholds),
  })
  return { org, input, chart }
}

// The three manager reports share one query's parts, so their rows of one manager agree; they
// are merged into one object and parsed (ManagerWeek drops the columns the rules do not read).
async function managerWeeks(ch: ClickHouse, org: string, week: { from: string; to: string }): Promise<ManagerWeek[]> {
  const merged = new Map<string, ReportRow>()
  for (const name of MANAGER_REPORTS) {
    for (const row of await runReport(ch, name, { org, ...week })) {
      const id = String(row.manager_id)
      merged.set(id, { ...merged.get(id), ...row })
    }
  }
  return [...merged.values()].map((row) => ManagerWeek.parse(row))
}

async function repWeeks(
  ch: ClickHouse,
  org: string,
  week: { from: string; to: string },
  nameOf: (id: string) => string,
): Promise<RepWeek[]> {
  const rows = await runReport(ch, 'rep-volume', { org, ...week })
  return rows.map((row) => RepWeek.parse({ ...row, rep_name: nameOf(String(row.rep_id)) }))
}

function keyMetrics(week: string, row: ManagerWeek | null): KeyMetricWeek {
  return {
    week,
    intervention_rate: row?.intervention_rate ?? null,
    reply_within_24h_share: row?.reply_within_24h_share ?? null,
    one_on_one_coverage: row?.one_on_one_coverage ?? null,
  }
}

/** The people of the explained events, read from the event store (one stored copy each). */
const EVENT_PEOPLE = sql`
  SELECT event_id,
         JSONExtractString(payload, 'sender_id') AS sender_id,
         JSONExtractString(payload, 'organizer_id') AS organizer_id,
         JSONExtract(payload, 'attendee_ids', 'Array(String)') AS attendee_ids
  FROM {db:Identifier}.events
  WHERE org_id = {org:String} AND event_id IN {ids:Array(String)}
    AND occurred_at >= {lo:DateTime64(3, 'UTC')} AND occurred_at <= {hi:DateTime64(3, 'UTC')}
  LIMIT 1 BY event_id`

interface EventPeople {
  event_id: string
  sender_id: string
  organizer_id: string
  attendee_ids: string[]
}

async function eventPeople(ch: ClickHouse, org: string, explanation: Explanation): Promise<Map<string, EventPeople>> {
  const events = explanation.items.flatMap((item) => item.events)
  if (events.length === 0) return new Map()
  const times = events.map((e) => e.occurred_at).sort()
  const instant = (iso: string) => iso.replace('T', ' ').replace('Z', '')
  const result = await ch.client.query({
    query: EVENT_PEOPLE.text,
    query_params: {
      db: ch.database,
      org,
      ids: events.map((e) => e.event_id),
      lo: instant(times[0]!),
      hi: instant(times[times.length - 1]!),
    },
    format: 'JSONEachRow',
  })
  return new Map((await result.json<EventPeople>()).map((row) => [row.event_id, row]))
}

/**
 * The two rep facts of docs/insights.md for every rep of the team: messages of the previous week
 * unanswered within 168 h (explain `unanswered`, per sender), and whole days from the last
 * one-on-one to Sunday (explain `one_on_ones` over the look-back, per organizer and attendee).
 */
async function repFacts(
  ch: ClickHouse,
  ctx: { org: string; manager: string; week: { from: string; to: string }; timezone: string; team: string[] },
  thresholds: InsightThresholds,
): Promise<RepFacts[]> {
  const { org, manager, week, timezone, team } = ctx
  const unanswered = new Map<string, number>()
  const previous = { from: addDays(week.from, -7), to: addDays(week.from, -1) }
  const missed = await explainIfManager(ch, { org, metric: 'unanswered', manager, ...previous })
  if (missed !== undefined) {
    const people = await eventPeople(ch, org, missed)
    for (const item of missed.items) {
      const sender = people.get(item.id)?.sender_id
      if (sender !== undefined) unanswered.set(sender, (unanswered.get(sender) ?? 0) + 1)
    }
  }
  const lastMeeting = new Map<string, string>()
  const lookback = { from: addDays(week.to, 1 - thresholds.oneOnOneLookbackDays), to: week.to }
  const meetings = await explainIfManager(ch, { org, metric: 'one_on_ones', manager, ...lookback })
  if (meetings !== undefined) {
    const people = await eventPeople(ch, org, meetings)
    for (const event of meetings.items.flatMap((item) => item.events)) {
      const p = people.get(event.event_id)
      if (p === undefined) continue
      const day = dayIn(new Date(event.occurred_at), timezone)
      for (const person of [p.organizer_id, ...p.attendee_ids])
        if (day > (lastMeeting.get(person) ?? '')) lastMeeting.set(person, day)
    }
  }
  return team.map((rep) => {
    const day = lastMeeting.get(rep)
    return {
      rep_id: rep,
      days_since_one_on_one: day === undefined ? null : daysBetween(day, week.to).length - 1,
      unanswered_over_week: unanswered.get(rep) ?? 0,
    }
  })
}

// A manager who was not one yet at the end of the previous week has no messages to answer then:
// explain refuses the manager (ReportParamsError on `manager`), which here means "none".
async function explainIfManager(
  ch: ClickHouse,
  params: Parameters<typeof explainMetric>[1],
): Promise<Explanation | undefined> {
  try {
    return await explainMetric(ch, params)
  } catch (error) {
    if (error instanceof ReportParamsError && error.issues.some((i) => i.parameter === 'manager')) return undefined
    throw error
  }
}
