// The project's public documentation (docs/): it exists, it points only inside the repository,
// its links resolve, and the report columns of docs/metrics.md are those the code produces.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { PROJECT_ROOT } from '../../schemas/config.schema.ts'
import { REPORT_COLUMNS, REPORT_NAMES } from '../../services/reports/report-definitions.ts'

const read = (relative: string): string => fs.readFileSync(path.join(PROJECT_ROOT, relative), 'utf8')

/** Every file under a folder of the repository, as repository-relative paths. */
function filesUnder(folder: string): string[] {
  return fs
    .readdirSync(path.join(PROJECT_ROOT, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(PROJECT_ROOT, path.join(entry.parentPath, entry.name)))
    .sort()
}

const MARKDOWN = ['README.md', ...filesUnder('docs').filter((f) => f.endsWith('.md'))]
const USER_FACING = ['README.md', ...filesUnder('docs'), ...filesUnder('services'), ...filesUnder('schemas')]

/** Markdown without its fenced code blocks (which hold neither links nor headings). */
function withoutFences(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '')
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replaceAll(' ', '-')
}

function anchorsOf(markdown: string): Set<string> {
  const headings = withoutFences(markdown).match(/^#{1,6} .+$/gm) ?? []
  return new Set(headings.map((h) => anchorOf(h.replace(/^#+ /, ''))))
}

describe('docs', () => {
  it('holds the event contract and the metric definitions, linked from the README', () => {
    expect(read('docs/events.md')).toMatch(/^# Dugout canonical CRM events, schema version 1$/m)
    expect(read('docs/metrics.md')).toMatch(/^# Dugout metrics, version 1$/m)
    const readme = read('README.md')
    expect(readme).toContain('(docs/events.md)')
    expect(readme).toContain('(docs/metrics.md)')
  })

  it('no user-facing file points at design documents outside the repository', () => {
    const outside = /\.\.\/shared\b|(?<![\w./-])shared\/[\w-]+\.md\b|shared design doc/i
    const offenders = USER_FACING.filter((file) => outside.test(read(file)))
    expect(offenders).toEqual([])
  })

  it.each(MARKDOWN)('every relative link of %s points at a file of the repository', (file) => {
    const text = read(file)
    const links = [...withoutFences(text).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '')
    const relative = links.filter((link) => !/^[a-z][a-z0-9+.-]*:/i.test(link))
    const broken = relative.filter((link) => {
      const [target = '', anchor] = link.split('#')
      const resolved =
        target === '' ? path.join(PROJECT_ROOT, file) : path.resolve(PROJECT_ROOT, path.dirname(file), target)
      if (!resolved.startsWith(PROJECT_ROOT + path.sep) || !fs.existsSync(resolved)) return true
      if (anchor === undefined) return false
      return !resolved.endsWith('.md') || !anchorsOf(fs.readFileSync(resolved, 'utf8')).has(anchor)
    })
    expect(broken).toEqual([])
  })
})

// ---------------------------------------------------------------------------------------------
// The "Reports" table of docs/metrics.md against REPORT_COLUMNS.

interface Table {
  heading: string
  /** Cells of each body row (header and separator rows dropped). */
  rows: string[][]
}

/** The tables of a markdown page, each with the last heading above it. */
function tables(markdown: string): Table[] {
  const out: Table[] = []
  let heading = ''
  let current: string[][] | undefined
  for (const line of markdown.split('\n')) {
    if (line.startsWith('#')) heading = line.replace(/^#+ /, '')
    if (!line.startsWith('|')) {
      current = undefined
      continue
    }
    const cells = line
      .slice(1, line.endsWith('|') ? -1 : undefined)
      .split('|')
      .map((c) => c.trim())
    if (current === undefined) {
      current = []
      out.push({ heading, rows: current })
      continue // the header row
    }
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue
    current.push(cells)
  }
  return out
}

const names = (cell: string): string[] => [...cell.matchAll(/`([a-z0-9_]+)`/g)].map((m) => m[1] ?? '')

/**
 * The columns a "Reports" row lists, in order: its backquoted names, and for "the X metrics" the
 * names of the metric table whose heading says X (those not listed already: `rep-volume` lists
 * `manager_id` before "the volume metrics", whose table starts with it).
 */
function documentedColumns(cell: string, metricTables: Table[]): string[] {
  const columns: string[] = []
  for (const m of cell.matchAll(/`([a-z0-9_]+)`|the (\w+) metrics/g)) {
    if (m[1] !== undefined) {
      columns.push(m[1])
      continue
    }
    const word = new RegExp(`\\b${m[2] ?? ''}\\b`, 'i')
    const matching = metricTables.filter((t) => word.test(t.heading))
    expect(
      matching.map((t) => t.heading),
      `one metric table for "${m[0]}"`,
    ).toHaveLength(1)
    for (const name of matching[0]?.rows.flatMap((r) => names(r[0] ?? '')) ?? [])
      if (!columns.includes(name)) columns.push(name)
  }
  return columns
}

describe('docs/metrics.md "Reports"', () => {
  const all = tables(read('docs/metrics.md'))
  const reports = all.filter((t) => t.heading === 'Reports')
  const metricTables = all.filter((t) => t.heading !== 'Reports')

  it('has one reports table and the four metric tables it refers to', () => {
    expect(reports).toHaveLength(1)
    expect(metricTables.map((t) => t.heading)).toEqual([
      'Empower me — autonomy',
      'Direct me — direction',
      'Care about me — care',
      'Per rep r (report `rep-volume`)',
    ])
  })

  it('lists the reports the code has, and trend (parameters of its own: summary-reports.ts)', () => {
    expect(reports[0]?.rows.map((r) => r[0])).toEqual([...REPORT_NAMES, 'trend'].map((name) => `\`${name}\``))
  })

  it.each(REPORT_NAMES)('lists the columns of %s in the order the code returns them', (name) => {
    const row = reports[0]?.rows.find((r) => r[0] === `\`${name}\``)
    expect(row, `a row for ${name}`).toBeDefined()
    const cell = row?.[2] ?? ''
    // A report whose columns depend on its parameters (`trend`: the chosen metric) lists no fixed set.
    if (cell.includes('chosen metric')) return
    expect(documentedColumns(cell, metricTables)).toEqual(REPORT_COLUMNS[name])
  })
})
