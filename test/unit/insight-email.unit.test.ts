// Rendering the weekly insight email (services/insights/insight-email.ts): header values, the
// text part, names instead of ids, every finding in both parts, links, and a chart that decodes.
import { PNG } from 'pngjs'
import { describe, expect, it } from 'vitest'
import {
  InsightThresholds,
  type InsightInput,
  type KeyMetricWeek,
  type ManagerWeek,
  type RepWeek,
} from '../../schemas/insights.schema.ts'
import { CHART_HEIGHT, CHART_WIDTH, renderChart } from '../../services/insights/insight-chart.ts'
import {
  CHART_CID,
  emailSubject,
  emailText,
  explainUrl,
  headerValue,
  renderInsightEmail,
} from '../../services/insights/insight-email.ts'
import type { InsightWeekData } from '../../services/insights/insight-input.ts'
import { findInsights } from '../../services/insights/insight-rules.ts'

const options = {
  publicUrl: 'https://dugout.example.com',
  optOutUrl: 'https://dugout.example.com/v1/insights/opt-out?org=acme&manager=mgr-1&token=t',
}
const WEEK = { from: '2026-03-02', to: '2026-03-08' }

function managerRow(overrides: Partial<ManagerWeek> = {}): ManagerWeek {
  return {
    manager_id: 'mgr-7',
    deals_active: 20,
    deals_intervened: 15,
    intervention_rate: 0.75,
    takeovers: 0,
    team_wins: 3,
    rep_closed_wins: 3,
    rep_led_win_share: 1,
    team_size: 2,
    reps_with_quota: 2,
    quota_coverage: 1,
    goals_set: 1,
    reps_with_goals: 2,
    goal_coverage: 1,
    rep_messages: 10,
    replied_within_24h: 9,
    reply_within_24h_share: 0.9,
    unanswered: 0,
    median_reply_minutes: 30,
    p90_reply_minutes: 300,
    one_on_ones: 2,
    reps_with_one_on_one: 2,
    one_on_one_coverage: 1,
    lunches: 0,
    recognitions: 2,
    ...overrides,
  }
}

function repRow(id: string, name: string, overrides: Partial<RepWeek> = {}): RepWeek {
  return {
    rep_id: id,
    rep_name: name,
    manager_id: 'mgr-7',
    opportunities_created: 5,
    wins: 1,
    losses: 1,
    activities: 20,
    deals_worked: 4,
    multithreaded_deals: 3,
    ...overrides,
  }
}

const chart: KeyMetricWeek[] = Array.from({ length: 8 }, (_, i) => ({
  week: new Date(Date.parse('2026-01-12T00:00:00Z') + i * 7 * 86_400_000).toISOString().slice(0, 10),
  intervention_rate: i === 2 ? null : 0.1 * i,
  reply_within_24h_share: 0.9,
  one_on_one_coverage: 0.5,
}))

/** A week with three findings: high intervention, a rep waiting for replies, a rep's activity up. */
function weekData(managerName = 'Alex Moreau'): InsightWeekData {
  const reps = [repRow('rep-101', 'Dana <Ruiz>', { activities: 40 }), repRow('rep-102', 'Lee Okafor')]
  const input: InsightInput = {
    manager: { id: 'mgr-7', name: managerName },
    week: WEEK,
    current: managerRow(),
    reps,
    history: ['2026-02-23', '2026-02-16'].map((from) => ({
      week: { from, to: from.replace(/\d\d$/, (d) => String(Number(d) + 6).padStart(2, '0')) },
      manager: managerRow({ deals_intervened: 10, intervention_rate: 0.5 }),
      reps: reps.map((r) => ({ ...r, activities: 20 })),
    })),
    medians: {
      intervention_rate: 0.2,
      rep_led_win_share: 1,
      quota_coverage: 1,
      goal_coverage: 1,
      reply_within_24h_share: 0.9,
      unanswered: 0,
      one_on_one_coverage: 1,
      recognitions: 2,
    },
    repFacts: [
      { rep_id: 'rep-101', days_since_one_on_one: 2, unanswered_over_week: 0 },
      { rep_id: 'rep-102', days_since_one_on_one: 3, unanswered_over_week: 2 },
    ],
  }
  return { org: 'acme', input, chart }
}

const thresholds = InsightThresholds.parse({})

describe('headerValue', () => {
  it('turns every run of CR/LF and control characters into one space', () => {
    expect(headerValue('Alex\r\nBcc: eve@example.com')).toBe('Alex Bcc: eve@example.com')
    expect(headerValue('a\rb\nc\u0000d\u2028e')).toBe('a b c d e')
    expect(headerValue('  plain name  ')).toBe('plain name')
  })
})

describe('the insight email', () => {
  const data = weekData()
  const findings = findInsights(data.input, thresholds)

  it('has the findings the fixture is made for', () => {
    expect(findings.map((f) => f.kind)).toEqual(['activity_up', 'high_intervention', 'unanswered_messages'])
  })

  it('puts every finding, its action and its explain link in the text part', () => {
    const text = emailText(data, findings, options)
    expect(
      text.startsWith(
        'Hi Alex Moreau,\n\n3 things stood out this week (2026-03-02 to 2026-03-08), 1 of them good news.',
      ),
    ).toBe(true)
    for (const f of findings) {
      expect(text).toContain(f.title)
      expect(text).toContain(f.detail)
      expect(text).toContain(`Suggestion: ${f.action}`)
      expect(text).toContain(explainUrl(options.publicUrl, 'acme', f.explain))
    }
    expect(text).toContain('Your full report: https://dugout.example.com/ui')
    expect(text).toContain('Mar 2 | 70% | 90% | 50%')
  })

  it('writes explain links with the manager or rep and the range', () => {
    const link = (kind: string) => findings.find((f) => f.kind === kind)!.explain
    expect(explainUrl(options.publicUrl, 'acme', link('high_intervention'))).toBe(
      'https://dugout.example.com/v1/orgs/acme/explain/deals_intervened?manager=mgr-7&from=2026-03-02&to=2026-03-08',
    )
    expect(explainUrl(options.publicUrl, 'acme', link('activity_up'))).toBe(
      'https://dugout.example.com/v1/orgs/acme/explain/activities?rep=rep-101&from=2026-03-02&to=2026-03-08',
    )
  })

  it('names people by name: no rep or manager id outside a link', async () => {
    const email = await renderInsightEmail(data, findings, options)
    const visibleText = email.text.replace(/https?:\/\/\S+/g, '')
    const visibleHtml = email.html.replace(/href="[^"]*"/g, '').replace(/<[^>]*>/g, ' ')
    for (const id of ['rep-101', 'rep-102', 'mgr-7']) {
      expect(visibleText).not.toContain(id)
      expect(visibleHtml).not.toContain(id)
    }
    expect(email.text).toContain('Lee Okafor')
    expect(email.html).toContain('Lee Okafor')
  })

  it('puts every finding in the HTML, escaped, with the chart by Content-ID and the report link', async () => {
    const email = await renderInsightEmail(data, findings, options)
    expect(email.html).toContain('Dana &lt;Ruiz&gt;')
    expect(email.html).not.toContain('Dana <Ruiz>')
    const escape = (s: string) =>
      s
        .replace(/&/g, '&amp;')
        .replace(/</g, '&lt;')
        .replace(/>/g, '&gt;')
        .replace(/"/g, '&quot;')
        .replace(/'/g, '&#39;')
    for (const f of findings) {
      expect(email.html).toContain(escape(f.title))
      expect(email.html).toContain(escape(f.action))
    }
    expect(email.html).toContain(`src="cid:${CHART_CID}"`)
    expect(email.html).toContain('href="https://dugout.example.com/ui"')
    expect(email.attachments).toEqual([
      { filename: 'chart.png', content: expect.any(Buffer), cid: CHART_CID, contentType: 'image/png' },
    ])
  })

  it('keeps CR/LF out of the subject and the To name', async () => {
    const hostile = weekData('Alex\r\nBcc: eve@example.com')
    const email = await renderInsightEmail(hostile, findInsights(hostile.input, thresholds), options)
    expect(email.toName).toBe('Alex Bcc: eve@example.com')
    expect(email.subject).toBe("Your team's week, Mar 2–8: 3 things stood out")
    expect(email.subject).not.toMatch(/[\r\n]/)
  })

  it('says a quiet week is steady, in the subject and the text', () => {
    expect(emailSubject(data, [])).toBe("Your team's week, Mar 2–8: a steady week")
    expect(emailText(data, [], options)).toContain('Nothing stood out this week')
  })
})

describe('the chart', () => {
  it('is a PNG of the declared size with the series drawn in their colours', async () => {
    const png = await renderChart(chart)
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR')
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([CHART_WIDTH, CHART_HEIGHT])
    const image = PNG.sync.read(png)
    const colours = new Set<string>()
    for (let i = 0; i < image.data.length; i += 4) {
      colours.add(`${image.data[i]},${image.data[i + 1]},${image.data[i + 2]}`)
    }
    // The three series' colours, exactly (the dots' centres), and the white background.
    for (const rgb of ['213,94,0', '0,114,178', '0,158,115', '255,255,255']) expect(colours).toContain(rgb)
  })
})
