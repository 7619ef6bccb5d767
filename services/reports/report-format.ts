/**
 * Report output: JSON exactly as docs/metrics.md says (numbers unrounded, null for a zero
 * denominator), CSV and a readable table with the same columns, rounded for display.
 */
import Table from 'cli-table3'
import { REPORT_COLUMNS, type ReportName, type ReportRow } from './report-queries.ts'

export const REPORT_FORMATS = ['json', 'csv', 'table'] as const
export type ReportFormat = (typeof REPORT_FORMATS)[number]

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

export function formatReport(name: ReportName, rows: readonly ReportRow[], format: ReportFormat): string {
  const columns = REPORT_COLUMNS[name]
  switch (format) {
    case 'json':
      return `${JSON.stringify(rows, null, 2)}\n`
    case 'csv':
      return `${[columns.join(','), ...rows.map((row) => columns.map((c) => csvCell(row[c])).join(','))].join('\n')}\n`
    case 'table': {
      const table = new Table({
        head: columns.map((c) => c.replaceAll('_', ' ')),
        style: { head: [], border: [] },
        wordWrap: true,
      })
      for (const row of rows) table.push(columns.map((c) => displayValue(c, row[c])))
      return `${table.toString()}\n`
    }
  }
}
