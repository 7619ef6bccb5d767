// The report page in a real browser (headless Chromium, Debian's package, driven by
// playwright-core) against a real `dugout run --only reports` over two generated orgs: it loads
// with no console error, every chart draws, every number shown is the API's, explain is one
// click away, and read as org A it shows nothing of org B. A screenshot is written to
// test-results/report-page.png (git-ignored) for a person to look at.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PROJECT_ROOT } from '../../schemas/config.schema.ts'
import { createClickHouse } from '../../services/clickhouse/clickhouse-client.ts'
import { migrate } from '../../services/clickhouse/migrations.ts'
import { generateOrg } from '../../services/demo/org-generator.ts'
import { createProjectionActivities } from '../../services/projections/projection-activities.ts'
import { apiKeyEntry, generateApiKey } from '../../services/runtime/api-keys.ts'
import { launchChromium } from '../support/chromium.ts'
import { config, uniqueName } from '../support/env.ts'
import { insertRawEvents } from '../support/event-store-fixtures.ts'
import { freePort, spawnDugout, waitForHttp, type DugoutProcess } from '../support/processes.ts'

const A = 'page-a'
const B = 'page-b'
const KEYS: Record<string, string> = { [A]: generateApiKey(), [B]: generateApiKey() }
const keyOf = (org: string) => KEYS[org]!
const SCREENSHOT = path.join(PROJECT_ROOT, 'test-results', 'report-page.png')
const REPORTS = ['team-summary', 'manager-autonomy', 'manager-direction', 'manager-care', 'rep-volume'] as const
type Row = Record<string, unknown>

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10)
const DAY = 86_400_000
// The page's default range is the last 8 whole weeks (org time zone, UTC here): the orgs' events
// cover exactly the 9 weeks before this one.
const today = Date.parse(`${iso(Date.now())}T00:00:00Z`)
const monday = today - ((new Date(today).getUTCDay() + 6) % 7) * DAY
const RANGE = { from: iso(monday - 56 * DAY), to: iso(monday - DAY) }

let dugout: DugoutProcess | undefined
let browser: Browser | undefined
let base = ''

beforeAll(async () => {
  const storage = {
    CLICKHOUSE_DATABASE: uniqueName('page').toLowerCase(),
    CHDB_PATH: path.join(os.tmpdir(), uniqueName('dugout-page-chdb')),
  }
  const ch = createClickHouse({ ...config, ...storage })
  await migrate(ch)
  const activities = createProjectionActivities({ ch })
  // B has more managers than A, so that some of its ids (mgr-4, mgr-5) exist in B only.
  for (const [org, managers, seed] of [
    [A, 3, 11],
    [B, 5, 29],
  ] as const) {
    const events = [...generateOrg({ org, managers, repsPerManager: 3, weeks: 9, seed, start: iso(monday - 63 * DAY) })]
    await insertRawEvents(ch, events)
    await activities.recomputeDays({ org, days: await activities.listEventDays({ org }) })
  }
  // chDB: one process per data folder, and `dugout run` is about to open it.
  await ch.close()
  const port = await freePort()
  dugout = spawnDugout(['run', '--only', 'reports'], {
    DUGOUT_HTTP_PORT: String(port),
    DUGOUT_HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'dugout-page-home-')),
    ...storage,
    DUGOUT_API_KEYS: [apiKeyEntry(A, keyOf(A), 'read'), apiKeyEntry(B, keyOf(B), 'read')].join(','),
  })
  base = `http://127.0.0.1:${port}`
  await waitForHttp(`${base}/healthz`, 60_000, dugout)
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  if (dugout && dugout.child.exitCode === null) {
    dugout.child.kill('SIGTERM')
    await dugout.exited
  }
})

/** A report as the API answers it, with the org's own key. */
async function report(org: string, name: string): Promise<Row[]> {
  const query = new URLSearchParams({ ...RANGE, names: 'true' })
  const response = await fetch(`${base}/v1/orgs/${org}/reports/${name}?${query}`, {
    headers: { authorization: `Bearer ${keyOf(org)}` },
  })
  expect(response.status, `${org} ${name}`).toBe(200)
  return (await response.json()) as Row[]
}

/** People's ids and names in an org's reports. */
async function people(org: string): Promise<{ ids: Set<string>; names: Set<string> }> {
  const ids = new Set<string>()
  const names = new Set<string>()
  for (const row of [...(await report(org, 'team-summary')), ...(await report(org, 'rep-volume'))]) {
    for (const key of ['manager_id', 'rep_id']) if (typeof row[key] === 'string' && row[key]) ids.add(row[key])
    for (const key of ['manager_name', 'rep_name']) if (typeof row[key] === 'string') names.add(row[key])
  }
  return { ids, names }
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

describe('the report page, read as org A', () => {
  let page: Page
  const consoleErrors: string[] = []
  const loaded: Promise<{ url: string; body: string }>[] = []

  beforeAll(async () => {
    const context = await browser!.newContext({ viewport: { width: 1440, height: 900 } })
    page = await context.newPage()
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text())
    })
    page.on('pageerror', (error) => consoleErrors.push(String(error)))
    page.on('response', (response) => {
      loaded.push(
        response.text().then(
          (body) => ({ url: response.url(), body }),
          () => ({ url: response.url(), body: '' }),
        ),
      )
    })
    await page.goto(`${base}/ui`)
    expect(new URL(page.url()).pathname).toBe('/ui/login')
    await page.fill('input[name=org]', A)
    await page.fill('input[name=key]', keyOf(A))
    await page.click('button[type=submit]')
    await page.waitForSelector('body[data-loaded=true]')
  })

  it('loads with no console error, in the range of the last 8 whole weeks', async () => {
    expect(consoleErrors).toEqual([])
    expect(await page.inputValue('#from')).toBe(RANGE.from)
    expect(await page.inputValue('#to')).toBe(RANGE.to)
    expect(await page.textContent('#status')).toContain('Click a count')
  })

  it('draws every chart', async () => {
    const charts = await page.$$eval('canvas', (canvases) =>
      canvases.map((canvas) => {
        const { width, height } = canvas
        const pixels = canvas.getContext('2d')!.getImageData(0, 0, width, height).data
        let painted = 0
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) painted++
        return { id: canvas.id, width, height, painted, points: Number(canvas.dataset.points) }
      }),
    )
    expect(charts.map((c) => c.id)).toEqual(['chart-autonomy', 'chart-direction', 'chart-care', 'chart-volume'])
    for (const chart of charts) {
      expect(chart.width * chart.height, chart.id).toBeGreaterThan(0)
      expect(chart.points, chart.id).toBeGreaterThan(0)
      // Axes alone paint a few hundred pixels; lines or bars of 8 weeks paint more.
      expect(chart.painted, chart.id).toBeGreaterThan(1000)
    }
  })

  it("shows the API's numbers, exactly, in every table", async () => {
    const manager = await page.inputValue('#manager')
    const teamSummary = await report(A, 'team-summary')
    expect(teamSummary.map((r) => r.manager_id)).toContain(manager)
    let compared = 0
    for (const name of REPORTS) {
      const rows = (await report(A, name)).filter((r) => name !== 'rep-volume' || r.manager_id === manager)
      expect(rows.length, name).toBeGreaterThan(0)
      const shown = await page.$$eval(`section[data-report="${name}"] tbody tr`, (trs) =>
        trs.map((tr) => ({
          id: (tr as HTMLElement).dataset.id,
          cells: Object.fromEntries(
            [...tr.querySelectorAll<HTMLElement>('td[data-value]')].map((td) => [
              td.dataset.column,
              JSON.parse(td.dataset.value!),
            ]),
          ),
        })),
      )
      expect(
        shown.map((r) => r.id),
        name,
      ).toEqual(rows.map((r) => (name === 'rep-volume' ? r.rep_id : r.manager_id)))
      for (const [i, row] of rows.entries()) {
        const cells = shown[i]!.cells
        for (const [column, value] of Object.entries(cells)) {
          expect(value, `${name} ${shown[i]!.id} ${column}`).toEqual(row[column])
          compared++
        }
        // Every metric column of the row is shown.
        expect(Object.keys(cells).length).toBe(Object.keys(row).filter((k) => !/_(id|name)$/.test(k)).length)
      }
    }
    expect(compared).toBeGreaterThan(100)
  })

  it('explains a count in one click: the panel lists as many items as the cell says', async () => {
    const cell = page.locator('section[data-report="manager-care"] td[data-column="rep_messages"]').first()
    const value = JSON.parse((await cell.getAttribute('data-value'))!) as number
    expect(value).toBeGreaterThan(0)
    await cell.locator('button.explain').click()
    await page.waitForSelector('#explain-body ol.items')
    expect(await page.locator('#explain-body ol.items > li').count()).toBe(value)
    expect(await page.textContent('#explain-title')).toContain('rep messages')
    await page.click('#explain-close')
  })

  it("shows nothing of org B, and A's session is refused on B's data (403)", async () => {
    const [a, b] = [await people(A), await people(B)]
    const bOnly = [...[...b.ids].filter((id) => !a.ids.has(id)), ...[...b.names].filter((name) => !a.names.has(name))]
    // The check must have something to look for: B's extra managers, its own names.
    expect(bOnly).toEqual(expect.arrayContaining(['mgr-4', 'mgr-5']))
    expect(bOnly.length).toBeGreaterThan(5)
    const responses = await Promise.all(loaded)
    expect(responses.some((r) => r.url.includes(`/v1/orgs/${A}/reports/`))).toBe(true)
    expect(responses.filter((r) => r.url.includes(`/orgs/${B}`))).toEqual([])
    const texts = [await page.content(), ...responses.map((r) => r.body)]
    for (const text of texts) {
      for (const mark of bOnly) expect(text).not.toMatch(new RegExp(`(^|[^\\w-])${escapeRegExp(mark)}([^\\w-]|$)`))
    }
    for (const url of [
      `/v1/orgs/${B}/reports/team-summary?from=${RANGE.from}&to=${RANGE.to}`,
      `/v1/orgs/${B}/settings`,
    ]) {
      const refused = await page.request.get(`${base}${url}`)
      expect(refused.status(), url).toBe(403)
    }
    // The same request with A's org is let through: the 403 is the org's, not a broken session.
    expect((await page.request.get(`${base}/v1/orgs/${A}/settings`)).status()).toBe(200)
  })

  it('writes a screenshot for a person to look at', async () => {
    await page.evaluate(() => window.scrollTo(0, 0))
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true })
    await page.screenshot({ path: SCREENSHOT, fullPage: true })
    expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10_000)
  })
})
