// The weekly insight email of a generated demo org, gathered from the projections and the event
// store: the demo styles (services/demo/README.md) are the ground truth of what the rules find.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PNG } from 'pngjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parsePreviewOptions, previewInsightEmail } from '../../services/cli/insights-command.ts'
import { InsightInput, InsightThresholds } from '../../schemas/insights.schema.ts'
import { migrate } from '../../services/clickhouse/migrations.ts'
import { generateOrg } from '../../services/demo/org-generator.ts'
import { gatherInsightWeek, type InsightWeekData } from '../../services/insights/insight-input.ts'
import { findInsights } from '../../services/insights/insight-rules.ts'
import { createProjectionActivities } from '../../services/projections/projection-activities.ts'
import { ReportParamsError } from '../../services/errors.ts'
import { testClickHouse, uniqueName } from '../support/env.ts'
import { insertRawEvents, type RawEvent } from '../support/event-store-fixtures.ts'

const ch = testClickHouse('insights')
const org = 'insights'
const start = '2026-01-05'
// The seventh week: four previous weeks for the rules and six for the chart.
const week = '2026-02-16'
const thresholds = InsightThresholds.parse({})
const data: Record<string, InsightWeekData> = {}

beforeAll(async () => {
  await migrate(ch)
  const seen = new Set<string>()
  let batch: RawEvent[] = []
  for (const event of generateOrg({ org, managers: 4, repsPerManager: 5, weeks: 8, seed: 7, start })) {
    if (seen.has(event.event_id)) continue
    seen.add(event.event_id)
    batch.push(event as unknown as RawEvent)
    if (batch.length === 20_000) {
      await insertRawEvents(ch, batch)
      batch = []
    }
  }
  await insertRawEvents(ch, batch)
  const projections = createProjectionActivities({ ch })
  const days = await projections.listEventDays({ org })
  for (let i = 0; i < days.length; i += 31) await projections.recomputeDays({ org, days: days.slice(i, i + 31) })
  for (const manager of ['mgr-1', 'mgr-2'])
    data[manager] = await gatherInsightWeek(ch, { org, manager, week }, thresholds)
}, 600_000)
afterAll(() => ch.close())

describe('gathering a manager week', () => {
  it('builds a well-formed input: the week, the team with names, four previous weeks, a fact per rep', () => {
    const { input, chart } = data['mgr-1']!
    expect(InsightInput.safeParse(input).success).toBe(true)
    expect(input.week).toEqual({ from: week, to: '2026-02-22' })
    expect(input.manager.name).not.toBe('mgr-1')
    expect(input.reps.length).toBeGreaterThan(0)
    for (const rep of input.reps) {
      expect(rep.manager_id).toBe('mgr-1')
      expect(rep.rep_name).not.toBe(rep.rep_id)
    }
    expect(input.history.map((h) => h.week.from).sort()).toEqual([
      '2026-01-19',
      '2026-01-26',
      '2026-02-02',
      '2026-02-09',
    ])
    expect(input.repFacts.map((f) => f.rep_id).sort()).toEqual(input.reps.map((r) => r.rep_id).sort())
    expect(chart.map((w) => w.week)).toEqual([
      '2025-12-29',
      '2026-01-05',
      '2026-01-12',
      '2026-01-19',
      '2026-01-26',
      '2026-02-02',
      '2026-02-09',
      week,
    ])
    expect(chart[7]).toEqual({
      week,
      intervention_rate: input.current.intervention_rate,
      reply_within_24h_share: input.current.reply_within_24h_share,
      one_on_one_coverage: input.current.one_on_one_coverage,
    })
    const previous = input.history.find((h) => h.week.from === '2026-02-09')!.manager!
    expect(chart[6]!.intervention_rate).toBe(previous.intervention_rate)
  })

  it('finds the micromanager stepping into deals', () => {
    const kinds = findInsights(data['mgr-1']!.input, thresholds).map((f) => f.kind)
    expect(kinds).toContain('high_intervention')
  })

  it("finds the absent manager's reps waiting for replies", () => {
    const { input } = data['mgr-2']!
    expect(input.repFacts.some((f) => f.unanswered_over_week > 0)).toBe(true)
    const kinds = findInsights(input, thresholds).map((f) => f.kind)
    expect(kinds).toEqual(expect.arrayContaining(['unanswered_messages']))
    expect(kinds).not.toContain('high_intervention')
  })

  it('refuses a day that is not a Monday, and a rep as manager, naming the parameter', async () => {
    await expect(gatherInsightWeek(ch, { org, manager: 'mgr-1', week: '2026-02-17' }, thresholds)).rejects.toThrow(
      ReportParamsError,
    )
    await expect(gatherInsightWeek(ch, { org, manager: 'rep-1', week }, thresholds)).rejects.toThrow(/^manager: /)
  })
})

describe('dugout insights preview', () => {
  it("writes the absent manager's email, text and chart, naming reps by name", async () => {
    const out = path.join(os.tmpdir(), uniqueName('insights-preview'))
    const options = parsePreviewOptions({ org, manager: 'mgr-2', week: '2026-W08', out })
    expect(options.week).toBe(week)
    const result = await previewInsightEmail(ch, options, {
      publicUrl: 'http://127.0.0.1:8080',
      thresholds,
      optOutSecret: 'preview-test-secret-of-32-characters!',
    })
    expect(result.files).toEqual({
      html: path.join(out, 'email.html'),
      text: path.join(out, 'email.txt'),
      chart: path.join(out, 'chart.png'),
    })
    const { input } = data['mgr-2']!
    const findings = findInsights(input, thresholds)
    expect(result.findings).toBe(findings.length)
    expect(result.subject).toMatch(/^Your team's week, Feb 16–22: \d things? stood out$/)
    const text = fs.readFileSync(result.files.text, 'utf8')
    const html = fs.readFileSync(result.files.html, 'utf8')
    expect(text).toContain(`Hi ${input.manager.name},`)
    for (const f of findings) expect(text).toContain(f.title)
    const named = findings.flatMap((f) => f.reps)
    expect(named.length).toBeGreaterThan(0)
    for (const rep of named) {
      expect(text).toContain(rep.name)
      expect(text.replace(/https?:\/\/\S+/g, '')).not.toMatch(new RegExp(`\\b${rep.id}\\b`))
      expect(html.replace(/href="[^"]*"/g, '')).not.toMatch(new RegExp(`\\b${rep.id}\\b`))
    }
    const png = PNG.sync.read(fs.readFileSync(result.files.chart))
    expect([png.width, png.height]).toEqual([1200, 520])
  })
})
