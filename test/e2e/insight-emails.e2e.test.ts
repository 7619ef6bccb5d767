// The weekly insight emails end to end, through the real commands: `dugout run` hosts the
// services with SMTP_URL pointing at an SMTP server in this process (smtp-server), `dugout import
// --wait` loads two teams, `dugout insights schedule` makes the org's Schedules (one per time zone
// of its managers), and each Schedule fires as on a Monday (trigger: the action its calendar
// starts; Schedules are a server feature the time-skipping test server does not have). Each manager
// receives exactly one email, naming their own reps only, with the findings their week calls for
// and the chart inline as a PNG; a worker killed mid-send leaves one email, not two; firing again
// sends nothing.
import { Client, Connection } from '@temporalio/client'
import { loadImage } from '@napi-rs/canvas'
import { simpleParser, type ParsedMail } from 'mailparser'
import fs from 'node:fs'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateOrg } from '../../services/demo/org-generator.ts'
import { insightSchedulesScheduleId } from '../../services/insights/insight-schedule.ts'
import { addDays, dayIn, weekOf } from '../../services/projections/days.ts'
import { config, uniqueName } from '../support/env.ts'
import { freePort, spawnDugout, waitForHttp, type DugoutProcess } from '../support/processes.ts'

const org = uniqueName('mail').toLowerCase().replaceAll('_', '-')
const env: Record<string, string> = {
  KAFKA_EVENTS_TOPIC: uniqueName('e2e.events'),
  KAFKA_DLQ_TOPIC: uniqueName('e2e.dlq'),
  KAFKA_CONSUMER_GROUP: uniqueName('e2e-group'),
  TEMPORAL_TASK_QUEUE: uniqueName('e2e-queue'),
  CHDB_PATH: path.join(os.tmpdir(), uniqueName('e2e-chdb')),
  DUGOUT_INSIGHTS_SCHEDULE: 'on',
}

/** The week a Schedule of `timezone` sends when it fires now: the Monday–Sunday just ended there. */
const weekEndedIn = (timezone: string) => addDays(weekOf(dayIn(new Date(), timezone)), -7)
// Six weeks of two teams ending with the last full week in UTC; the Schedules' runs cover that
// week, or the one before it for a manager whose Monday has not begun yet (New York, early on a
// Monday in UTC).
const lastWeek = weekEndedIn('UTC')
const events = [
  ...generateOrg({ org, managers: 2, repsPerManager: 3, weeks: 6, seed: 7, start: addDays(lastWeek, -35) }),
]
const people = new Map<string, { name: string; email?: string; manager: string | null; timezone?: string }>()
for (const e of events) {
  if (e.type !== 'user.upserted') continue
  const p = e.payload as {
    user_id: string
    display_name: string
    email?: string
    manager_id: string | null
    timezone?: string
  }
  people.set(p.user_id, { name: p.display_name, email: p.email, manager: p.manager_id, timezone: p.timezone })
}
const managers = ['mgr-1', 'mgr-2']
/** The week each manager's email covered when the Schedules fired (the first test). */
const sentWeek = new Map<string, string>()
const teamOf = (manager: string) =>
  [...people].filter(([id, p]) => id.startsWith('rep-') && p.manager === manager).map(([, p]) => p.name)

const inbox: { to: string[]; mail: ParsedMail }[] = []
/** While set, a DATA is read whole and left unanswered (no 250: the server takes nothing on). */
const hold = { next: false, held: [] as string[] }
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, session, callback) {
    simpleParser(stream).then(
      (mail) => {
        if (hold.next) {
          hold.next = false
          hold.held.push(mail.messageId ?? '')
          return
        }
        inbox.push({ to: session.envelope.rcptTo.map((r) => r.address), mail })
        callback()
      },
      (error: Error) => callback(error),
    )
  },
})

let services: DugoutProcess
let connection: Connection
let client: Client

async function dugout(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawnDugout(args, env)
  const code = await child.exited
  return { code, output: child.output() }
}

async function orgSchedules(): Promise<string[]> {
  const ids: string[] = []
  for await (const s of client.schedule.list()) if (s.scheduleId.startsWith(`insights:${org}:`)) ids.push(s.scheduleId)
  return ids.sort()
}

/** Fires each Schedule once and waits for the fan-out it started; returns their results. */
async function fireAll(): Promise<unknown[]> {
  const results: unknown[] = []
  for (const id of await orgSchedules()) {
    const handle = client.schedule.getHandle(id)
    const before = (await handle.describe()).info.recentActions.length
    await handle.trigger()
    for (;;) {
      const actions = (await handle.describe()).info.recentActions
      if (actions.length > before) {
        results.push(await client.workflow.getHandle(actions[actions.length - 1]!.action.workflow.workflowId).result())
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
  return results
}

beforeAll(async () => {
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve))
  env.SMTP_URL = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`
  env.DUGOUT_HTTP_PORT = String(await freePort())
  connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS })
  client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE })
  services = spawnDugout(['run'], env)
  await waitForHttp(`http://127.0.0.1:${env.DUGOUT_HTTP_PORT}/readyz`, 120_000, services)
  const file = path.join(os.tmpdir(), `${org}.ndjson`)
  fs.writeFileSync(file, events.map((e) => JSON.stringify(e)).join('\n'))
  const imported = await dugout(['import', file, '--wait', '--no-progress'])
  expect(imported.code, imported.output).toBe(0)
}, 600_000)

afterAll(async () => {
  for (const id of [...(await orgSchedules()), insightSchedulesScheduleId(env as never)]) {
    await client.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined)
  }
  services?.child.kill('SIGTERM')
  await services?.exited
  await connection?.close()
  await new Promise<void>((resolve) => smtp.close(() => resolve()))
})

describe('the weekly insight emails', () => {
  it("makes one Schedule per time zone of the org's managers, and lists them", async () => {
    const run = await dugout(['insights', 'schedule'])
    expect(run.code, run.output).toBe(0)
    const zones = [...new Set(managers.map((m) => people.get(m)!.timezone!)), 'UTC'].sort()
    expect(await orgSchedules()).toEqual(zones.map((zone) => `insights:${org}:${zone}`))
    for (const zone of zones) expect(run.output).toMatch(new RegExp(`insights:${org}:${zone}\\tnext \\d{4}-`))
  })

  it('sends each manager exactly one email when the Schedules fire, with their own reps only', async () => {
    for (const manager of managers) sentWeek.set(manager, weekEndedIn(people.get(manager)!.timezone!))
    const results = await fireAll()
    expect(results.flatMap((r) => (r as { started: string[] }).started).sort()).toEqual(managers)
    expect(inbox).toHaveLength(2)
    for (const manager of managers) {
      const address = people.get(manager)!.email!
      const got = inbox.filter((m) => m.to.includes(address))
      expect(got, manager).toHaveLength(1)
      const { mail } = got[0]!
      expect(mail.messageId).toBe(`<insights.${org}.${manager}.${sentWeek.get(manager)}@dugout>`)
      expect(mail.text).toContain(`Hi ${people.get(manager)!.name},`)
      const other = managers.find((m) => m !== manager)!
      for (const name of teamOf(other)) {
        expect(mail.text).not.toContain(name)
        expect(String(mail.html)).not.toContain(name)
      }
      expect(teamOf(manager).some((name) => mail.text!.includes(name))).toBe(true)
      const header = (key: string) => mail.headerLines.find((h) => h.key === key)?.line
      expect(header('list-unsubscribe-post')).toBe('List-Unsubscribe-Post: List-Unsubscribe=One-Click')
      expect(header('list-unsubscribe')?.replace(/\r?\n\s+/g, ' ')).toMatch(
        /^List-Unsubscribe: <http:\/\/.+\/v1\/insights\/opt-out\?org=/,
      )
      const [chart] = mail.attachments
      expect(chart).toMatchObject({ contentType: 'image/png', cid: 'chart@dugout', contentDisposition: 'inline' })
      const image = await loadImage(chart!.content)
      expect(image.width).toBeGreaterThan(100)
      // mailparser resolves the HTML's cid: reference to its part, as a mail client does.
      expect(String(mail.html)).toContain('src="data:image/png;base64,')
    }
    // mgr-2 is generated absent (services/demo/manager-styles.ts): the care findings, each naming a rep.
    const text = (manager: string) => inbox.find((m) => m.to.includes(people.get(manager)!.email!))!.mail.text!
    const absent = text('mgr-2')
    expect(absent).toMatch(/\d+ messages from .+ have waited over a week for a reply/)
    expect(absent).toMatch(/No one-on-one with .+ in the last 14 days/)
    expect(absent).toContain('No recognition for your team this week')
    expect(text('mgr-1')).toMatch(/^1\. /m)
  })

  it('sends once when the worker is killed while the SMTP server holds the message', async () => {
    // The week before: nobody's email of it was sent. The SMTP server holds its first DATA; the
    // worker (all of `dugout run`) is SIGKILLed then, and a new `dugout run` takes the retry.
    const week = addDays(sentWeek.get('mgr-1')!, -7)
    const messageId = `<insights.${org}.mgr-1.${week}@dugout>`
    hold.next = true
    const run = await client.workflow.start('weeklyInsightWorkflow', {
      taskQueue: env.TEMPORAL_TASK_QUEUE!,
      workflowId: `insights:${org}:mgr-1:${week}`,
      args: [{ org, manager: 'mgr-1', week }],
    })
    while (hold.held.length === 0) await new Promise((resolve) => setTimeout(resolve, 100))
    expect(hold.held).toEqual([messageId])
    services.child.kill('SIGKILL')
    await services.exited
    services = spawnDugout(['run'], env)
    await waitForHttp(`http://127.0.0.1:${env.DUGOUT_HTTP_PORT}/readyz`, 120_000, services)
    expect(await run.result()).toEqual({ status: 'sent', message_id: messageId })
    expect(inbox.filter((m) => m.mail.messageId === messageId)).toHaveLength(1)
    expect(inbox).toHaveLength(3)
  })

  it('sends nothing more when the Schedules fire again for the same week', async () => {
    const results = await fireAll()
    expect(results.flatMap((r) => (r as { alreadyStarted: string[] }).alreadyStarted).sort()).toEqual(managers)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect(inbox).toHaveLength(3)
  })
})
