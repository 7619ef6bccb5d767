/**
 * `dugout insights preview`: one manager's weekly insight email written to files (HTML, text and
 * the chart) instead of sent, to read what a manager would get.
 *
 * It reads ClickHouse directly: gathering needs the event store (the people behind explain's
 * events), which the HTTP API does not serve. With the embedded engine the data folder belongs to
 * one process, so while `dugout run` is up the command says to stop it first (`dugout down`);
 * with a ClickHouse server (CLICKHOUSE_URL) it runs beside the services.
 */
import { Command } from 'commander'
import fs from 'node:fs/promises'
import path from 'node:path'
import { z } from 'zod'
import type { DugoutConfig } from '../../schemas/config.schema.ts'
import { Id, OrgId } from '../../schemas/events.schema.ts'
import { InsightThresholds } from '../../schemas/insights.schema.ts'
import { parseParams } from '../../schemas/report-params.schema.ts'
import { createClickHouse, type ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { migrate } from '../clickhouse/migrations.ts'
import { ParamsError } from '../errors.ts'
import { addDays, isDay, weekOf } from '../projections/days.ts'
import { renderInsightEmail } from '../insights/insight-email.ts'
import { gatherInsightWeek } from '../insights/insight-input.ts'
import { findInsights } from '../insights/insight-rules.ts'
import { httpBase, servicesAnswer } from './service-client.ts'

const WEEK_RULE = 'must be a Monday (2026-03-02) or an ISO week (2026-W10)'

/**
 * The Monday of an ISO week given as `YYYY-Www` (week 1 holds the year's first Thursday, so
 * January 4th), or undefined when the year has no such week (only some years have a week 53).
 */
export function isoWeekMonday(year: number, week: number): string | undefined {
  if (week < 1 || week > 53) return undefined
  const monday = addDays(weekOf(`${String(year).padStart(4, '0')}-01-04`), 7 * (week - 1))
  // The week belongs to the year of its Thursday: week 53 of a 52-week year is week 1 of the next.
  return addDays(monday, 3).startsWith(String(year).padStart(4, '0')) ? monday : undefined
}

/** `--week`: a Monday as given, or an ISO week as its Monday. */
export const InsightWeekOption = z.string({ error: 'is required' }).transform((value, ctx) => {
  const iso = /^(\d{4})-W(\d{2})$/.exec(value)
  const monday = iso ? isoWeekMonday(Number(iso[1]), Number(iso[2])) : isDay(value) ? value : undefined
  if (monday !== undefined && weekOf(monday) === monday) return monday
  const why = iso ? ` (${iso[1]} has no week ${Number(iso[2])})` : isDay(value) ? ` (${value} is not a Monday)` : ''
  ctx.addIssue({ code: 'custom', message: `${WEEK_RULE}${why}` })
  return z.NEVER
})

/** The options of `dugout insights preview`, checked before anything is opened. */
export const PreviewOptions = z.strictObject({
  org: OrgId,
  manager: Id,
  week: InsightWeekOption,
  out: z.string().min(1).default('out'),
})
export type PreviewOptions = z.infer<typeof PreviewOptions>

/** Checks the options; a ParamsError names each bad one as typed (`--week`) and its rule. */
export function parsePreviewOptions(options: Record<string, unknown>): PreviewOptions {
  const result = parseParams(PreviewOptions, options, (p) => `--${p}`)
  if (!result.ok) throw new ParamsError(result.issues, 'insights preview: ')
  return result.value
}

/** What a preview wrote. */
export interface PreviewResult {
  subject: string
  files: { html: string; text: string; chart: string }
  findings: number
}

/**
 * Gathers, finds and renders one manager's email for `week` and writes `email.html`,
 * `email.txt` and `chart.png` to `out` (created if missing); sends nothing.
 */
export async function previewInsightEmail(
  ch: ClickHouse,
  options: PreviewOptions,
  settings: { publicUrl: string; thresholds: InsightThresholds },
): Promise<PreviewResult> {
  const data = await gatherInsightWeek(ch, options, settings.thresholds)
  const findings = findInsights(data.input, settings.thresholds)
  const email = await renderInsightEmail(data, findings, { publicUrl: settings.publicUrl })
  await fs.mkdir(options.out, { recursive: true })
  const files = {
    html: path.join(options.out, 'email.html'),
    text: path.join(options.out, 'email.txt'),
    chart: path.join(options.out, 'chart.png'),
  }
  await fs.writeFile(files.html, email.html)
  await fs.writeFile(files.text, email.text)
  await fs.writeFile(files.chart, email.attachments[0]!.content)
  return { subject: email.subject, files, findings: findings.length }
}

/** Thrown when the embedded engine's folder is held by `dugout run`. */
export class ServicesRunningError extends Error {
  readonly code = 'SERVICES_RUNNING'
}

export function insightsCommand(config: () => DugoutConfig): Command {
  const insights = new Command('insights').description('The weekly insight emails of the managers (docs/insights.md).')
  insights
    .command('preview')
    .description(
      "Write one manager's weekly email (email.html, email.txt, chart.png) to a folder instead of sending it.",
    )
    .requiredOption('--org <org>', 'org id')
    .requiredOption('--manager <id>', 'manager id')
    .requiredOption('--week <week>', 'the week: its Monday (2026-03-02) or its ISO week (2026-W10)')
    .option('--out <dir>', 'folder to write to', 'out')
    .action(async (raw: Record<string, unknown>) => {
      const options = parsePreviewOptions(raw)
      const c = config()
      if (!c.CLICKHOUSE_URL && (await servicesAnswer(c))) {
        throw new ServicesRunningError(
          'insights preview reads the embedded ClickHouse directly, and `dugout run` holds its folder: ' +
            'stop the services with `dugout down` first (or use a ClickHouse server with CLICKHOUSE_URL)',
        )
      }
      const ch = createClickHouse(c)
      try {
        await migrate(ch)
        const result = await previewInsightEmail(ch, options, {
          publicUrl: c.DUGOUT_PUBLIC_URL ?? httpBase(c),
          thresholds: InsightThresholds.parse({}),
        })
        process.stdout.write(
          `subject: ${result.subject}\n${result.findings} finding${result.findings === 1 ? '' : 's'}\n` +
            `${result.files.html}\n${result.files.text}\n${result.files.chart}\n`,
        )
      } finally {
        await ch.close()
      }
    })
  return insights
}
