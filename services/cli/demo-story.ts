/**
 * The short story on top of the demo's reports: managers ranked on their three jobs, reps on
 * volume and multi-threading. Pure: report rows in, lines of text out.
 */
import type { ReportRow } from '../reports/report-queries.ts'
import { MANAGER_STYLES, styleOfManager } from '../demo/manager-styles.ts'

/** The reports the demo prints, with `manager_name` / `rep_name` beside the ids. */
export interface DemoReports {
  autonomy: ReportRow[]
  direction: ReportRow[]
  care: ReportRow[]
  volume: ReportRow[]
  summary: ReportRow[]
}

const pct = (v: unknown) => (typeof v === 'number' ? `${Math.round(v * 100)}%` : 'n/a')
const minutes = (v: unknown) => {
  if (typeof v !== 'number') return 'n/a'
  if (v < 90) return `${Math.round(v)} min`
  if (v < 48 * 60) return `${(v / 60).toFixed(1)} h`
  return `${(v / 60 / 24).toFixed(1)} days`
}
const num = (v: unknown) => (typeof v === 'number' ? v : -Infinity)

/** A person's name in a row, else their id. */
function nameOf(row: ReportRow, id = 'manager_id'): string {
  const name = row[id.replace('_id', '_name')]
  return typeof name === 'string' && name !== '' ? name : String(row[id])
}

/**
 * A manager's row → `Zoe Tanaka (mgr-3, coach)`: the generator's styles are the ground truth of
 * the demo, so the story says which style each manager was generated with.
 */
export function managerLabel(row: ReportRow): string {
  const id = String(row.manager_id)
  const index = Number(/^mgr-(\d+)$/.exec(id)?.[1] ?? NaN) - 1
  const style = Number.isInteger(index) && index >= 0 ? MANAGER_STYLES[styleOfManager(index)].name : undefined
  const name = nameOf(row)
  const details = [...(name === id ? [] : [id]), ...(style ? [style] : [])]
  return details.length ? `${name} (${details.join(', ')})` : name
}

function ranked(rows: ReportRow[], key: string, descending: boolean, id = 'manager_id'): ReportRow[] {
  return rows
    .filter((r) => r[key] !== null && r[key] !== undefined)
    .sort(
      (a, b) =>
        (descending ? num(b[key]) - num(a[key]) : num(a[key]) - num(b[key])) ||
        String(a[id]).localeCompare(String(b[id])),
    )
}

export function demoStory(reports: DemoReports, week: { from: string; to: string }): string[] {
  const lines = [`The week of ${week.from} to ${week.to}:`, '']
  const byIntervention = ranked(reports.autonomy, 'intervention_rate', true)
  const top = byIntervention[0]
  const bottom = byIntervention[byIntervention.length - 1]
  if (top && bottom) {
    lines.push(
      `Empower me — ${managerLabel(top)} stepped into ${pct(top.intervention_rate)} of the team's active deals ` +
        `(${top.deals_intervened} of ${top.deals_active}); ${managerLabel(bottom)} only ${pct(bottom.intervention_rate)}.`,
      `  Ranked by intervention rate: ${byIntervention.map((r) => `${nameOf(r)} ${pct(r.intervention_rate)}`).join(' > ')}`,
    )
  }
  const byReply = ranked(reports.care, 'median_reply_minutes', false)
  const slowest = byReply[byReply.length - 1]
  const fastest = byReply[0]
  if (fastest && slowest) {
    lines.push(
      `Care about me — ${managerLabel(fastest)} answers reps in ${minutes(fastest.median_reply_minutes)} (median); ` +
        `${managerLabel(slowest)} takes ${minutes(slowest.median_reply_minutes)} and left ${slowest.unanswered} of ${slowest.rep_messages} messages unanswered.`,
      `  Ranked by median reply time: ${byReply.map((r) => `${nameOf(r)} ${minutes(r.median_reply_minutes)}`).join(' < ')}`,
    )
  }
  const byOneOnOne = ranked(reports.care, 'one_on_one_coverage', true)
  if (byOneOnOne.length) {
    lines.push(
      `  One-on-one coverage: ${byOneOnOne.map((r) => `${nameOf(r)} ${pct(r.one_on_one_coverage)}`).join(' > ')}`,
    )
  }
  const noQuota = reports.direction.filter(
    (r) => typeof r.quota_coverage === 'number' && (r.quota_coverage as number) < 1,
  )
  lines.push(
    noQuota.length
      ? `Direct me — ${noQuota.map((r) => `${managerLabel(r)}: ${r.reps_with_quota} of ${r.team_size} reps have a quota`).join('; ')}.`
      : 'Direct me — every rep has a quota for the week.',
  )
  const byVolume = ranked(reports.volume, 'activities', true, 'rep_id')
  const byThreads = ranked(reports.volume, 'multithreaded_share', true, 'rep_id')
  if (byVolume.length) {
    const names = (rows: ReportRow[], key: string, show: (v: unknown) => string) =>
      rows
        .slice(0, 3)
        .map((r) => `${nameOf(r, 'rep_id')} ${show(r[key])}`)
        .join(', ')
    lines.push(
      `Volume — most activities: ${names(byVolume, 'activities', String)}; most new deals: ${names(ranked(reports.volume, 'opportunities_created', true, 'rep_id'), 'opportunities_created', String)}.`,
      `  Most multi-threaded (≥ 3 contacts per deal): ${names(byThreads, 'multithreaded_share', pct)}.`,
    )
  }
  return lines
}
