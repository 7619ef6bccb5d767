// The README's main job, on a small org: `dugout demo` runs the whole pipeline and prints the
// story and the four reports. Names isolate it from a developer's own stack.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { CHART_CID } from '../../services/insights/insight-email.ts'
import { launchChromium } from '../support/chromium.ts'
import { uniqueName } from '../support/env.ts'
import { freePort, spawnDugout } from '../support/processes.ts'

describe('dugout demo', () => {
  it('streams a generated org through the pipeline and prints the story and the reports', async () => {
    const org = uniqueName('demo').toLowerCase().replaceAll('_', '-')
    const emailOut = path.join(os.tmpdir(), uniqueName('demo-email'))
    const demo = spawnDugout(
      ['demo', '--org', org, '--weeks', '2', '--reps-per-manager', '3', '--email-out', emailOut],
      {
        KAFKA_EVENTS_TOPIC: uniqueName('demo.events'),
        KAFKA_DLQ_TOPIC: uniqueName('demo.dlq'),
        KAFKA_CONSUMER_GROUP: uniqueName('demo-group'),
        TEMPORAL_TASK_QUEUE: uniqueName('demo-queue'),
        CHDB_PATH: path.join(os.tmpdir(), uniqueName('demo-chdb')),
        DUGOUT_HTTP_PORT: String(await freePort()),
      },
    )
    expect(await demo.exited).toBe(0)
    const output = demo.output()
    for (const expected of [
      '5/5 the reports for the last full week, 2026-08-10 to 2026-08-16',
      // Names, with the style each manager was generated with.
      ' (mgr-1, micromanager) stepped into',
      'Empower me — ',
      'Care about me',
      'Direct me',
      'Volume — most activities',
      'Team summary',
      'Empower me (manager autonomy)',
      'Direct me (manager direction)',
      'Care about me (manager care)',
      'Rep volume',
      `mgr-1's weekly insight email of 2026-08-10 (not sent; \`dugout insights send\` sends)`,
      path.join(emailOut, 'email.html'),
      'Where to look next:',
      'running it again is safe',
    ]) {
      expect(output).toContain(expected)
    }
    // The email as a mail client shows it: the chart's cid: reference resolved to the attached PNG.
    const text = fs.readFileSync(path.join(emailOut, 'email.txt'), 'utf8')
    expect(text).toMatch(/^Hi .+,$/m)
    expect(text).toContain('Stop these weekly emails: http')
    const html = fs.readFileSync(path.join(emailOut, 'email.html'), 'utf8')
    expect(html).toContain(`src="cid:${CHART_CID}"`)
    const shown = path.join(emailOut, 'as-shown.html')
    fs.writeFileSync(shown, html.replaceAll(`cid:${CHART_CID}`, 'chart.png'))
    const browser = await launchChromium()
    try {
      const page = await browser.newPage({ viewport: { width: 700, height: 900 } })
      const failed: string[] = []
      page.on('requestfailed', (request) => failed.push(request.url()))
      await page.goto(pathToFileURL(shown).href, { waitUntil: 'load' })
      const images = await page.$$eval('img', (imgs) =>
        imgs.map((img) => ({ src: img.getAttribute('src'), complete: img.complete, width: img.naturalWidth })),
      )
      expect(images).toEqual([{ src: 'chart.png', complete: true, width: expect.any(Number) }])
      expect(images[0]!.width).toBeGreaterThan(100)
      expect(failed).toEqual([])
      expect(await page.textContent('body')).toContain('Your last eight weeks')
      await page.screenshot({ path: path.join(emailOut, 'email.png'), fullPage: true })
    } finally {
      await browser.close()
    }
    // No raw log lines (JSON) among what a person reads, and no hint that the demo's own services are down.
    expect(output).not.toMatch(/^\{"level"/m)
    expect(output).not.toContain('is `dugout up` running?')
  })
})
