/**
 * Report output: JSON exactly as docs/metrics.md says (numbers unrounded, null for a zero
 * denominator), CSV with the same columns, and a table for a terminal, rounded for display.
 *
 * People are shown by name beside their id (rows carry `*_name` keys when names were looked up,
 * see display-names.ts). The table fits the terminal (100 columns unless told otherwise): by
 * default it shows each report's key columns; `wide` shows them all; a table still too wide for
 * the terminal is printed as one block per row instead.
 */
import Table from 'cli-table3'
import { NAMED_COLUMNS } from './display-names.ts'
import { REPORT_COLUMNS, type ReportName, type ReportRow } from './report-queries.ts'

export const REPORT_FORMATS = ['json', 'csv', 'table'] as const
export type ReportFormat = (typeof REPORT_FORMATS)[number]

export interface FormatOptions {
  /** Every column in the table, not only the key ones. */
  wide?: boolean
  /** Terminal width the table must fit (default 100). */
  width?: number
}

/** The columns a default table shows: what a reader scans first; `--wide` shows the rest. */
const KEY_COLUMNS: Partial<Record<ReportName, readonly string[]>> = {
  'manager-care': [
    'manager_id',
    'rep_messages',
    'reply_within_24h_share',
    'unanswered',
    'median_reply_minutes',
    'one_on_ones',
    'one_on_one_coverage',
    'lunches',
    'recognitions',
  ],
  'rep-volume': [
    'rep_id',
    'manager_id',
    'opportunities_created',
    'opportunities_qualified',
    'wins',
    'losses',
    'win_rate',
    'activities',
    'contacts_per_account',
    'multithreaded_share',
  ],
  'team-summary': [
    'manager_id',
    'team_size',
    'intervention_rate',
    'quota_coverage',
    'reply_within_24h_share',
    'one_on_one_coverage',
    'recognitions',
    'team_opportunities_created',
    'team_win_rate',
    'team_multithreaded_share',
  ],
}

/** Short headers, so that a table of key columns fits 100 columns. */
const HEADERS: Record<string, string> = {
  manager_id: 'manager',
  rep_id: 'rep',
  deals_active: 'deals',
  deals_intervened: 'stepped in',
  intervention_rate: 'step-in rate',
  rep_closed_wins: 'rep-closed',
  rep_led_win_share: 'rep-led',
  team_size: 'team',
  reps_with_quota: 'w/ quota',
  quota_coverage: 'quota cov.',
  goals_set: 'goals',
  reps_with_goals: 'w/ goals',
  goal_coverage: 'goal cov.',
  rep_messages: 'rep msgs',
  replied_within_24h: '≤24h',
  reply_within_24h_share: '≤24h reply',
  median_reply_minutes: 'median min',
  p90_reply_minutes: 'p90 min',
  one_on_ones: '1:1s',
  reps_with_one_on_one: 'reps 1:1',
  one_on_one_coverage: '1:1 cov.',
  recognitions: 'recognition',
  opportunities_created: 'new opps',
  pipeline_created_amount: 'pipeline',
  opportunities_qualified: 'qualified',
  win_rate: 'win rate',
  won_amount: 'won',
  accounts_engaged: 'accounts',
  contacts_engaged: 'contacts',
  contacts_per_account: 'contacts/acct',
  deals_worked: 'deals worked',
  multithreaded_deals: 'multithr.',
  multithreaded_share: 'multithr.',
  team_opportunities_created: 'new opps',
  team_opportunities_qualified: 'qualified',
  team_wins: 'wins',
  team_losses: 'losses',
  team_win_rate: 'win rate',
  team_activities: 'activities',
  team_multithreaded_share: 'multithr.',
}

/** A cell for display: ratios as percentages, amounts per currency, null as a dash. */
export function displayValue(column: string, value: unknown): string {
  if (value === null || value === undefined) return '–'
  if (typeof value === 'number') {
    if (/(_rate|_share|coverage)$/.test(column)) return `${(value * 100).toFixed(1)}%`
    if (Number.isInteger(value)) return String(value)
    return value.toFixed(column.endsWith('_minutes') ? 0 : 2)
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, number>)
    return entries.length === 0
      ? '0'
      : entries.map(([currency, amount]) => `${currency} ${Math.round(amount).toLocaleString('en-US')}`).join(', ')
  }
  return String(value)
}

function csvCell(value: unknown): string {
  const text =
    value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value)
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/** The report's columns, with each `*_name` the rows carry right after its id. */
export function outputColumns(columns: readonly string[], rows: readonly ReportRow[]): string[] {
  const named =
    rows.length > 0 && rows.every((row) => Object.keys(NAMED_COLUMNS).some((id) => NAMED_COLUMNS[id]! in row))
  return columns.flatMap((c) =>
    named && NAMED_COLUMNS[c] && NAMED_COLUMNS[c] in rows[0]! ? [c, NAMED_COLUMNS[c]] : [c],
  )
}

/** A person's cell: `Name (id)`, or the id alone when no name is known. */
function personCell(row: ReportRow, column: string): string {
  const id = row[column]
  const name = row[NAMED_COLUMNS[column] ?? '']
  if (typeof id !== 'string' || id === '') return '–'
  return typeof name === 'string' && name !== '' ? `${name} (${id})` : id
}

function cell(row: ReportRow, column: string): string {
  return NAMED_COLUMNS[column] ? personCell(row, column) : displayValue(column, row[column])
}

function table(columns: readonly string[], rows: readonly ReportRow[]): string {
  const t = new Table({
    head: columns.map((c) => HEADERS[c] ?? c.replaceAll('_', ' ')),
    style: { head: [], border: [] },
  })
  for (const row of rows) t.push(columns.map((c) => cell(row, c)))
  return t.toString()
}

/** One block per row, `header: value` lines: for a terminal too narrow for the table. */
function blocks(columns: readonly string[], rows: readonly ReportRow[]): string {
  const [subject, ...rest] = columns
  const labels = rest.map((c) => c.replaceAll('_', ' '))
  const pad = Math.max(0, ...labels.map((l) => l.length))
  return rows
    .map((row) =>
      [cell(row, subject!), ...rest.map((c, i) => `  ${labels[i]!.padEnd(pad)}  ${cell(row, c)}`)].join('\n'),
    )
    .join('\n\n')
}

export function formatReport(
  name: ReportName | 'trend',
  rows: readonly ReportRow[],
  format: ReportFormat,
  options: FormatOptions = {},
): string {
  const columns: readonly string[] =
    name === 'trend' ? Object.keys(rows[0] ?? { week: null }) : REPORT_COLUMNS[name as ReportName]
  switch (format) {
    case 'json':
      return `${JSON.stringify(rows, null, 2)}\n`
    case 'csv': {
      const all = outputColumns(columns, rows)
      return `${[all.join(','), ...rows.map((row) => all.map((c) => csvCell(row[c])).join(','))].join('\n')}\n`
    }
    case 'table': {
      if (rows.length === 0) return '(no rows: nobody held that role at the end of the range)\n'
      const shown = options.wide ? columns : (KEY_COLUMNS[name as ReportName] ?? columns)
      const width = options.width ?? 100
      const text = table(shown, rows)
      const fits = text.split('\n').every((line) => line.length <= width)
      const hidden = columns.length - shown.length
      const footer = hidden > 0 ? `\n${hidden} more columns: --wide, or --format csv|json\n` : '\n'
      return `${fits ? text : blocks(shown, rows)}${footer}`
    }
  }
}
