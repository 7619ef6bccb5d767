/**
 * Rendering one manager's weekly insight email (docs/metrics.md "Insight emails", docs/insights.md
 * "Tone"): a subject, an HTML part built with MJML (responsive, tested across mail clients, no
 * hand-built tables), a plain-text part saying the same, and the chart (insight-chart.ts) as an
 * inline image referenced by Content-ID. The result is shaped for nodemailer's `sendMail`.
 *
 * People are named by their display names only: the input carries them (`gatherInsightWeek`), and
 * ids appear only inside links' query strings. Every value that may reach a mail header goes
 * through `headerValue`.
 *
 * Links: each finding's explain route (the events behind its numbers) and the report page, both
 * under the public base URL, and the manager's signed opt-out link (opt-out.ts) in the footer, which
 * the sender also puts in `List-Unsubscribe`.
 */
import type { ExplainLink, Finding } from '../../schemas/insights.schema.ts'
import { CHART_SERIES, renderChart, shortDay } from './insight-chart.ts'
import type { InsightWeekData } from './insight-input.ts'
import { weekSummary } from './insight-rules.ts'

/** The Content-ID of the chart: the HTML shows it as `<img src="cid:chart@dugout">`. */
export const CHART_CID = 'chart@dugout'

/** An inline attachment, as nodemailer takes it. */
export interface EmailAttachment {
  filename: string
  content: Buffer
  cid: string
  contentType: 'image/png'
}

/** One email, ready for nodemailer (`{ ...email, to: { name: email.toName, address } }`). */
export interface InsightEmail {
  subject: string
  /** The manager's display name for the To header, free of CR/LF. */
  toName: string
  html: string
  text: string
  attachments: EmailAttachment[]
  /** The manager's one-click opt-out link, for `List-Unsubscribe`. */
  optOutUrl: string
}

export interface EmailOptions {
  /** Public base URL of Dugout's HTTP API, without a trailing slash (DUGOUT_PUBLIC_URL). */
  publicUrl: string
  /** The manager's signed opt-out link (`optOutUrl` of opt-out.ts). */
  optOutUrl: string
}

/**
 * A value safe for a mail header: every run of CR/LF (and other line breaks or control
 * characters) becomes one space, so no value can end a header and start another; trimmed.
 */
export function headerValue(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\r\n\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim()
}

/** The explain route of a finding: the events behind its numbers. */
export function explainUrl(publicUrl: string, org: string, link: ExplainLink): string {
  const query = new URLSearchParams()
  if (link.manager !== undefined) query.set('manager', link.manager)
  if (link.rep !== undefined) query.set('rep', link.rep)
  query.set('from', link.from)
  query.set('to', link.to)
  return `${publicUrl}/v1/orgs/${encodeURIComponent(org)}/explain/${encodeURIComponent(link.metric)}?${query}`
}

/** The report page. */
export function reportPageUrl(publicUrl: string): string {
  return `${publicUrl}/ui`
}

/** "Your team's week, Feb 16–22: 3 things stood out", header-safe. */
export function emailSubject(data: InsightWeekData, findings: readonly Finding[]): string {
  const { from, to } = data.input.week
  const span =
    from.slice(0, 7) === to.slice(0, 7)
      ? `${shortDay(from)}–${Number(to.slice(8))}`
      : `${shortDay(from)}–${shortDay(to)}`
  const news =
    findings.length === 0
      ? 'a steady week'
      : `${findings.length === 1 ? '1 thing' : `${findings.length} things`} stood out`
  return headerValue(`Your team's week, ${span}: ${news}`)
}

const pct = (share: number | null) => (share === null ? '–' : `${Math.round(share * 100)}%`)

/** The plain-text part: the same content as the HTML, links written out. */
export function emailText(data: InsightWeekData, findings: readonly Finding[], options: EmailOptions): string {
  const { input, org, chart } = data
  const lines = [`Hi ${input.manager.name},`, '', weekSummary(input, findings), '']
  findings.forEach((f, i) => {
    lines.push(`${i + 1}. ${f.severity === 'praise' ? 'Good news: ' : ''}${f.title}`)
    lines.push(`   ${f.detail}`)
    lines.push(`   Suggestion: ${f.action}`)
    lines.push(`   The events behind it: ${explainUrl(options.publicUrl, org, f.explain)}`)
    lines.push('')
  })
  lines.push('Your last eight weeks (the chart in the HTML version):')
  const head = ['week', ...CHART_SERIES.map((s) => s.label)]
  lines.push(`  ${head.join(' | ')}`)
  for (const w of chart) lines.push(`  ${[shortDay(w.week), ...CHART_SERIES.map((s) => pct(w[s.metric]))].join(' | ')}`)
  lines.push('')
  lines.push(`Your full report: ${reportPageUrl(options.publicUrl)}`)
  lines.push('')
  lines.push('Dugout counts what your CRM records; it sees events, not the conversations behind them.')
  lines.push(`Stop these weekly emails: ${options.optOutUrl}`)
  return `${lines.join('\n')}\n`
}

/** Text for HTML: the five characters with a meaning there, escaped. */
export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  )
}

/** The MJML source of the HTML part. */
export function emailMjml(data: InsightWeekData, findings: readonly Finding[], options: EmailOptions): string {
  const { input, org } = data
  const e = escapeHtml
  const cards = findings
    .map((f) => {
      const accent = f.severity === 'praise' ? '#009e73' : '#d55e00'
      const label = f.severity === 'praise' ? 'Good news' : 'Worth a look'
      return `
    <mj-wrapper padding="0 0 12px 0">
    <mj-section padding="6px 0" border-left="4px solid ${accent}" background-color="#fafafa">
      <mj-column>
        <mj-text font-size="12px" color="${accent}" padding-bottom="0">${label}</mj-text>
        <mj-text font-size="16px" font-weight="bold" padding-top="4px">${e(f.title)}</mj-text>
        <mj-text color="#444444">${e(f.detail)}</mj-text>
        <mj-text><strong>Suggestion:</strong> ${e(f.action)}</mj-text>
        <mj-text font-size="13px"><a href="${e(explainUrl(options.publicUrl, org, f.explain))}" style="color:#0072b2">The events behind these numbers</a></mj-text>
      </mj-column>
    </mj-section>
    </mj-wrapper>`
    })
    .join('')
  return `<mjml>
  <mj-head>
    <mj-title>${e(emailSubject(data, findings))}</mj-title>
    <mj-preview>${e(weekSummary(input, findings))}</mj-preview>
    <mj-attributes>
      <mj-all font-family="Helvetica, Arial, sans-serif" />
      <mj-text font-size="15px" line-height="1.5" color="#222222" />
    </mj-attributes>
  </mj-head>
  <mj-body background-color="#ffffff" width="640px">
    <mj-section>
      <mj-column>
        <mj-text>Hi ${e(input.manager.name)},</mj-text>
        <mj-text>${e(weekSummary(input, findings))}</mj-text>
      </mj-column>
    </mj-section>${cards}
    <mj-section>
      <mj-column>
        <mj-text font-weight="bold">Your last eight weeks</mj-text>
        <mj-image src="cid:${CHART_CID}" alt="${e(`Line chart of the last eight weeks: ${CHART_SERIES.map((s) => s.label.toLowerCase()).join(', ')}`)}" width="600px" padding="0 10px" />
      </mj-column>
    </mj-section>
    <mj-section>
      <mj-column>
        <mj-button href="${e(reportPageUrl(options.publicUrl))}" background-color="#0072b2" align="left">Open your full report</mj-button>
        <mj-text font-size="12px" color="#777777">Dugout counts what your CRM records; it sees events, not the conversations behind them. <a href="${e(options.optOutUrl)}" style="color:#777777">Stop these weekly emails</a></mj-text>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>`
}

/** Thrown when MJML refuses the template: a defect of this module, never of the data. */
export class EmailTemplateError extends Error {
  readonly code = 'EMAIL_TEMPLATE_INVALID'
}

/** The whole email of one manager's week: subject, To name, HTML, text and the inline chart. */
export async function renderInsightEmail(
  data: InsightWeekData,
  findings: readonly Finding[],
  options: EmailOptions,
): Promise<InsightEmail> {
  // MJML (about 15 MiB of V8 heap) loads with the first email: a process that sends none, an ingest
  // process or a report command, never holds it.
  const { default: mjml2html } = await import('mjml')
  // Strict validation: a template mistake fails here, in the tests, not in a mail client.
  const { html, errors } = await mjml2html(emailMjml(data, findings, options), { validationLevel: 'strict' })
  if (errors.length > 0) throw new EmailTemplateError(errors.map((e) => e.formattedMessage).join('; '))
  return {
    subject: emailSubject(data, findings),
    toName: headerValue(data.input.manager.name),
    html,
    text: emailText(data, findings, options),
    attachments: [
      { filename: 'chart.png', content: await renderChart(data.chart), cid: CHART_CID, contentType: 'image/png' },
    ],
    optOutUrl: options.optOutUrl,
  }
}
