/**
 * Report output: JSON exactly as docs/metrics.md says (numbers unrounded, null for a zero
 * denominator), CSV with the same columns, and a table for a terminal, rounded for display.
 *
 * People are shown by name beside their id (rows carry `*_name` keys when names were looked up,
 * see display-names.ts). The table fits the terminal (100 columns unless told otherwise): by
 * default it shows each report's key columns; `wide` shows them all; a table still too wide for
 * the terminal is printed as one block per row instead.
 */
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

/** Two-line headers, so that a table of key columns fits 100 columns. */
const HEADERS: Record<string, readonly [string, string]> = {
  manager_id: ['manager', ''],
  rep_id: ['rep', ''],
  deals_active: ['active', 'deals'],
  deals_intervened: ['stepped', 'into'],
  intervention_rate: ['step-in', 'rate'],
  takeovers: ['take-', 'overs'],
  team_wins: ['team', 'wins'],
  rep_closed_wins: ['closed', 'by rep'],
  rep_led_win_share: ['rep-led', 'wins'],
  team_size: ['team', 'size'],
  reps_with_quota: ['reps w/', 'quota'],
  quota_coverage: ['quota', 'cover'],
  goals_set: ['goals', 'set'],
  reps_with_goals: ['reps w/', 'goals'],
  goal_coverage: ['goal', 'cover'],
  rep_messages: ['rep', 'msgs'],
  replied_within_24h: ['replied', '≤ 24h'],
  reply_within_24h_share: ['reply', '≤ 24h'],
  unanswered: ['un-', 'answered'],
  median_reply_minutes: ['median', 'reply min'],
  p90_reply_minutes: ['p90', 'reply min'],
  one_on_ones: ['one-on-', 'ones'],
  reps_with_one_on_one: ['reps w/', '1:1'],
  one_on_one_coverage: ['1:1', 'cover'],
  lunches: ['lun-', 'ches'],
  recognitions: ['recog-', 'nitions'],
  opportunities_created: ['new', 'opps'],
  pipeline_created_amount: ['new', 'pipeline'],
  opportunities_qualified: ['quali-', 'fied'],
  wins: ['wins', ''],
  losses: ['losses', ''],
  win_rate: ['win', 'rate'],
  won_amount: ['won', 'amount'],
  activities: ['activi-', 'ties'],
  calls: ['calls', ''],
  emails: ['emails', ''],
  meetings: ['meet-', 'ings'],
  accounts_engaged: ['accounts', ''],
  contacts_engaged: ['contacts', ''],
  contacts_per_account: ['contacts', '/account'],
  deals_worked: ['deals', 'worked'],
  multithreaded_deals: ['multi-', 'threaded'],
  multithreaded_share: ['multi-', 'threaded'],
  team_opportunities_created: ['team new', 'opps'],
  team_opportunities_qualified: ['team', 'qualified'],
  team_losses: ['team', 'losses'],
  team_win_rate: ['team', 'win rate'],
  team_activities: ['team', 'activities'],
  team_multithreaded_share: ['team multi-', 'threaded'],
  week: ['week', ''],
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

/**
 * A person's cell: `Name (id)` for the row's subject, the name alone for a rep's manager (the id
 * is in CSV and JSON), the id alone when no name is known.
 */
function personCell(row: ReportRow, column: string, subject: boolean): string {
  const id = row[column]
  const name = row[NAMED_COLUMNS[column] ?? '']
  if (typeof id !== 'string' || id === '') return '–'
  if (typeof name !== 'string' || name === '') return id
  return subject ? `${name} (${id})` : name
}

function cell(row: ReportRow, column: string, subject = column === 'rep_id' || !('rep_id' in row)): string {
  return NAMED_COLUMNS[column] ? personCell(row, column, subject) : displayValue(column, row[column])
}

/**
 * A plain table: a two-line header, a rule, one line per row; numbers to the right, people to the
 * left, two spaces between columns, no boxes.
 */
function table(columns: readonly string[], rows: readonly ReportRow[]): string {
  const heads = columns.map((c) => HEADERS[c] ?? ([c.replaceAll('_', ' '), ''] as const))
  const cells = rows.map((row) => columns.map((c) => cell(row, c)))
  const widths = columns.map((_, i) =>
    Math.max(heads[i]![0].length, heads[i]![1].length, ...cells.map((line) => line[i]!.length)),
  )
  const left = columns.map((c) => NAMED_COLUMNS[c] !== undefined || c === 'week')
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (left[i] ? v.padEnd(widths[i]!) : v.padStart(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [
    line(heads.map((h) => h[0])),
    line(heads.map((h) => h[1])),
    widths.map((w) => '─'.repeat(w)).join('  '),
    ...cells.map(line),
  ].join('\n')
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
