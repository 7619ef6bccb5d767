// Sending the weekly insight email exactly once (docs/insights.md, "Exactly once"): a generated
// org in chDB, a real SMTP server in this process (smtp-server), nodemailer between them.
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InsightThresholds } from '../../schemas/insights.schema.ts'
import { migrate } from '../../services/clickhouse/migrations.ts'
import { generateOrg } from '../../services/demo/org-generator.ts'
import {
  insightStatus,
  parseSendOptions,
  parseStatusOptions,
  sendInsights,
  sendOutcomeLine,
} from '../../services/cli/insights-command.ts'
import Fastify from 'fastify'
import { createInsightActivities } from '../../services/insights/insight-activities.ts'
import { escapeHtml } from '../../services/insights/insight-email.ts'
import { optedOutManagers, optOutUrl } from '../../services/insights/opt-out.ts'
import { registerOptOutRoute } from '../../services/insights/opt-out-route.ts'
import { installHttpApi } from '../../services/runtime/http-api.ts'
import {
  createSmtpMailer,
  insightMessageId,
  sendWeeklyInsight,
  sentInsights,
  weekManagers,
  type SenderDeps,
} from '../../services/insights/insight-sender.ts'
import { createProjectionActivities } from '../../services/projections/projection-activities.ts'
import { testClickHouse } from '../support/env.ts'
import { insertRawEvents, type RawEvent } from '../support/event-store-fixtures.ts'
import { startSmtpInbox } from '../support/smtp-inbox.ts'

const ch = testClickHouse('insight_send')
const org = 'sendorg'
const week = '2026-02-16'
const weekEnd = '2026-02-22T23:59:59Z'
const thresholds = InsightThresholds.parse({})
const SECRET = 'send-test-secret-of-32-characters!!'

interface Delivered {
  to: string[]
  raw: string
}

/** What the SMTP server received, and how many DATA commands it answers 451 before accepting. */
const inbox = { messages: [] as Delivered[], refuseNext: 0 }
const server = new SMTPServer({
  authOptional: true,
  // nodemailer upgrades to TLS when offered; the test server has no certificate worth trusting.
  disabledCommands: ['STARTTLS'],
  logger: false,
  onData(stream, session, callback) {
    const chunks: Buffer[] = []
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('end', () => {
      if (inbox.refuseNext > 0) {
        inbox.refuseNext--
        callback(Object.assign(new Error('mailbox busy, try again later'), { responseCode: 451 }))
        return
      }
      inbox.messages.push({ to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString() })
      callback()
    })
  },
})

/** Each user's latest user.upserted payload by the end of the week, from the generated events. */
const users = new Map<string, Record<string, unknown>>()
let deps: SenderDeps
let mailer: ReturnType<typeof createSmtpMailer>

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as AddressInfo
  mailer = createSmtpMailer(`smtp://127.0.0.1:${port}`, 'Dugout <dugout@localhost>')

  await migrate(ch)
  const seen = new Set<string>()
  const events: RawEvent[] = []
  for (const event of generateOrg({ org, managers: 3, repsPerManager: 4, weeks: 8, seed: 11, start: '2026-01-05' })) {
    if (seen.has(event.event_id)) continue
    seen.add(event.event_id)
    const raw = event as unknown as RawEvent
    events.push(raw)
    if (raw.type === 'user.upserted' && raw.occurred_at <= weekEnd) users.set(String(raw.payload.user_id), raw.payload)
  }
  // mgr-3's latest upsert of the week has no email: their email is not sent.
  const { email: _email, ...noEmail } = users.get('mgr-3')!
  const upsert = { event_id: 'mgr-3-no-email', org_id: org, type: 'user.upserted', payload: noEmail }
  events.push({ ...upsert, occurred_at: '2026-02-22T12:00:00Z' })
  users.set('mgr-3', noEmail)
  for (let i = 0; i < events.length; i += 20_000) await insertRawEvents(ch, events.slice(i, i + 20_000))
  const projections = createProjectionActivities({ ch })
  const days = await projections.listEventDays({ org })
  for (let i = 0; i < days.length; i += 31) await projections.recomputeDays({ org, days: days.slice(i, i + 31) })

  deps = {
    ch,
    mailer,
    clock: () => new Date('2026-02-23T07:00:00Z'),
    publicUrl: 'http://dugout.test',
    thresholds,
    optOutSecret: SECRET,
  }
}, 600_000)

afterAll(async () => {
  mailer.close()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  await ch.close()
})

const to = (manager: string) => inbox.messages.filter((m) => m.to.includes(String(users.get(manager)!.email)))

/** RFC 2045 quoted-printable: soft line breaks joined, `=XX` bytes decoded, the result read as UTF-8. */
function decodeQuotedPrintable(body: string): string {
  const joined = body.replace(/=\r?\n/g, '')
  const bytes: number[] = []
  for (let i = 0; i < joined.length; i++) {
    const hex = joined[i] === '=' ? /^[0-9A-F]{2}/.exec(joined.slice(i + 1, i + 3)) : null
    if (hex) {
      bytes.push(parseInt(hex[0], 16))
      i += 2
    } else bytes.push(...Buffer.from(joined[i]!, 'utf8'))
  }
  return Buffer.from(bytes).toString('utf8')
}

/** The MIME parts of a message as `{ type, body }`, bodies decoded (base64 or quoted-printable). */
function mimeParts(raw: string): { headers: string; body: string }[] {
  return raw.split(/\r?\n--[^\r\n]+\r?\n/).map((chunk) => {
    const cut = chunk.search(/\r?\n\r?\n/)
    const headers = chunk.slice(0, cut).replace(/\r?\n[ \t]+/g, ' ')
    const body = chunk.slice(cut).trim()
    const encoding = /^Content-Transfer-Encoding:\s*(\S+)/im.exec(headers)?.[1]?.toLowerCase()
    if (encoding === 'base64') return { headers, body: Buffer.from(body, 'base64').toString('utf8') }
    if (encoding === 'quoted-printable') return { headers, body: decodeQuotedPrintable(body) }
    return { headers, body }
  })
}

function part(raw: string, type: string): string {
  const found = mimeParts(raw).find((p) => new RegExp(`^Content-Type:\\s*${type}`, 'im').test(p.headers))
  expect(found, `a ${type} part`).toBeDefined()
  return found!.body
}

describe('sending the weekly insight email', () => {
  it('lists the managers of the week', async () => {
    expect(await weekManagers(ch, { org, week })).toEqual(['mgr-1', 'mgr-2', 'mgr-3'])
  })

  it('sends once: the second call finds the sent-log row and sends nothing', async () => {
    const first = await sendWeeklyInsight(deps, { org, manager: 'mgr-1', week })
    const messageId = `<insights.${org}.mgr-1.${week}@dugout>`
    expect(first).toEqual({ status: 'sent', message_id: messageId })
    const second = await sendWeeklyInsight(deps, { org, manager: 'mgr-1', week })
    expect(second).toEqual({ status: 'already_sent', message_id: messageId })

    const delivered = to('mgr-1')
    expect(delivered).toHaveLength(1)
    const address = String(users.get('mgr-1')!.email)
    expect(delivered[0]!.to).toEqual([address])
    const { raw } = delivered[0]!
    expect(raw).toMatch(new RegExp(`^To: .*<${address.replace(/\./g, '\\.')}>`, 'm'))
    expect(raw).toContain(`Message-ID: ${messageId}`)
    expect(part(raw, 'text/plain')).toContain(`Hi ${String(users.get('mgr-1')!.display_name)},`)
    expect(part(raw, 'text/html')).toContain('src="cid:chart@dugout"')
    expect(raw).toMatch(/^Content-Type: image\/png/m)
    expect(raw).toContain('Content-ID: <chart@dugout>')
    expect(raw).toContain('iVBORw0KGgo')
    // RFC 8058 one-click opt-out: the signed link in List-Unsubscribe, and in both parts.
    const link = optOutUrl('http://dugout.test', SECRET, { org, manager: 'mgr-1' })
    expect(raw.replace(/\r?\n[ \t]+/g, ' ')).toContain(`List-Unsubscribe: <${link}>`)
    expect(raw).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click')
    expect(part(raw, 'text/plain')).toContain(`Stop these weekly emails: ${link}`)
    expect(part(raw, 'text/html')).toContain(`href="${escapeHtml(link)}"`)

    expect(await sentInsights(ch, { org, week })).toEqual([
      {
        manager_id: 'mgr-1',
        week,
        message_id: messageId,
        recipient: address,
        subject: expect.stringMatching(/^Your team's week, Feb 16–22: /),
        sent_at: '2026-02-23 07:00:00.000',
      },
    ])
  })

  it('writes nothing when the SMTP server answers 451, and the retry sends once', async () => {
    inbox.refuseNext = 1
    await expect(sendWeeklyInsight(deps, { org, manager: 'mgr-2', week })).rejects.toMatchObject({ responseCode: 451 })
    expect(inbox.refuseNext).toBe(0)
    expect(to('mgr-2')).toHaveLength(0)
    expect((await sentInsights(ch, { org, week })).map((r) => r.manager_id)).toEqual(['mgr-1'])

    expect(await sendWeeklyInsight(deps, { org, manager: 'mgr-2', week })).toEqual({
      status: 'sent',
      message_id: insightMessageId({ org, manager: 'mgr-2', week }),
    })
    expect(to('mgr-2')).toHaveLength(1)
    expect((await sentInsights(ch, { org, week })).map((r) => r.manager_id)).toEqual(['mgr-1', 'mgr-2'])
  })

  it("names only the manager's own reps", () => {
    // mgr-2 is the absent manager: their reps' unanswered messages name them.
    const reps = [...users.values()].filter((u) => u.role === 'rep')
    const team = reps.filter((u) => u.manager_id === 'mgr-2').map((u) => String(u.display_name))
    const others = reps.map((u) => String(u.display_name)).filter((name) => !team.includes(name))
    expect(team.length).toBeGreaterThan(0)
    expect(others.length).toBeGreaterThan(0)
    const { raw } = to('mgr-2')[0]!
    const text = part(raw, 'text/plain')
    const html = part(raw, 'text/html')
    expect(team.some((name) => text.includes(name))).toBe(true)
    for (const name of others) {
      expect(text).not.toContain(name)
      expect(html).not.toContain(escapeHtml(name))
    }
  })

  it('skips a manager without an email', async () => {
    const before = inbox.messages.length
    expect(await sendWeeklyInsight(deps, { org, manager: 'mgr-3', week })).toEqual({ status: 'no_email' })
    expect(inbox.messages).toHaveLength(before)
    expect((await sentInsights(ch, { org, week })).map((r) => r.manager_id)).not.toContain('mgr-3')
  })
})

describe('dugout insights send and status', () => {
  it('sends to every manager of the week only what was not sent yet', async () => {
    const options = parseSendOptions({ org, week: '2026-W08' })
    expect(options).toEqual({ org, week })
    const before = inbox.messages.length
    const lines = (await sendInsights(deps, options)).map(sendOutcomeLine)
    expect(lines).toEqual([
      `mgr-1 already_sent <insights.${org}.mgr-1.${week}@dugout>`,
      `mgr-2 already_sent <insights.${org}.mgr-2.${week}@dugout>`,
      'mgr-3 no_email',
    ])
    expect(inbox.messages).toHaveLength(before)
  })

  it('reports a send that throws as failed, and logs nothing for it', async () => {
    const before = inbox.messages.length
    const [outcome] = await sendInsights(deps, parseSendOptions({ org, week, manager: 'rep-1' }))
    expect(outcome).toEqual({ manager: 'rep-1', status: 'failed', error: expect.stringMatching(/^manager: /) })
    expect(sendOutcomeLine(outcome!)).toMatch(/^rep-1 failed manager: /)
    expect(inbox.messages).toHaveLength(before)
  })

  it('lists who got what: name, address, when, Message-ID', async () => {
    const rows = await insightStatus(ch, parseStatusOptions({ org, week }))
    expect(rows).toEqual(
      ['mgr-1', 'mgr-2'].map((manager) => ({
        manager_id: manager,
        manager_name: String(users.get(manager)!.display_name),
        recipient: String(users.get(manager)!.email),
        sent_at: '2026-02-23 07:00:00.000',
        message_id: insightMessageId({ org, manager, week }),
      })),
    )
  })

  it('names a bad option as typed', () => {
    expect(() => parseSendOptions({ org, week: '2026-02-17' })).toThrow(/--week/)
    expect(() => parseStatusOptions({ org })).toThrow(/--week/)
  })
})

describe('an SMTP server that goes silent after DATA', () => {
  it('fails the attempt, logs nothing, and the retry is the one message the server accepts', async () => {
    // The first DATA is read whole and never answered: no 250, so the server took nothing on.
    const silent = await startSmtpInbox({ silentFirst: 1 })
    const quick = createSmtpMailer(`${silent.url}?socketTimeout=1500`, 'Dugout <dugout@localhost>')
    const request = { org, manager: 'mgr-1', week: '2026-02-09' }
    try {
      await expect(sendWeeklyInsight({ ...deps, mailer: quick }, request)).rejects.toThrow(/timeout/i)
      expect(await sentInsights(ch, request)).toEqual([])
      expect(await sendWeeklyInsight({ ...deps, mailer: quick }, request)).toEqual({
        status: 'sent',
        message_id: insightMessageId(request),
      })
      expect({ accepted: silent.accepted, dataReceived: silent.dataReceived() }).toEqual({
        accepted: [insightMessageId(request)],
        dataReceived: 2,
      })
      expect((await sentInsights(ch, request)).map((r) => r.manager_id)).toEqual(['mgr-1'])
    } finally {
      quick.close()
      await silent.close()
    }
  })
})

describe('opting out', () => {
  const manager = 'mgr-2'
  const optOutApp = async () => {
    const app = Fastify()
    await installHttpApi(app, { apiKeys: [] })
    registerOptOutRoute(app, { ch, secret: SECRET, clock: () => new Date() })
    await app.ready()
    return app
  }
  const link = (subject: { org: string; manager: string }, secret = SECRET) =>
    new URL(optOutUrl('http://dugout.test', secret, subject))
  const path = (url: URL) => `${url.pathname}${url.search}`

  it('refuses a link of another manager, another org or another secret, and changes nothing', async () => {
    const app = await optOutApp()
    const forged = link({ org, manager: 'mgr-1' })
    forged.searchParams.set('manager', manager)
    for (const url of [
      forged,
      link({ org, manager }, 'another-secret-of-at-least-32-chars'),
      link({ org: 'other', manager }),
    ]) {
      if (url.searchParams.get('org') === 'other') url.searchParams.set('org', org)
      const response = await app.inject({
        method: 'POST',
        url: path(url),
        payload: 'List-Unsubscribe=One-Click',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      })
      expect(response.statusCode).toBe(403)
    }
    expect(await optedOutManagers(ch, org)).toEqual(new Set())
  })

  it('asks on GET without changing anything, stops on the one-click POST, and the next send sends nothing', async () => {
    const app = await optOutApp()
    const url = path(link({ org, manager }))
    const page = await app.inject({ method: 'GET', url })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.body).toContain(escapeHtml(String(users.get(manager)!.display_name)))
    expect(page.body).toContain('Stop these emails')
    expect(await optedOutManagers(ch, org)).toEqual(new Set())

    const oneClick = await app.inject({
      method: 'POST',
      url,
      payload: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(oneClick.statusCode).toBe(200)
    expect(await optedOutManagers(ch, org)).toEqual(new Set([manager]))
    expect((await app.inject({ method: 'GET', url })).body).toContain('Send them to me again')

    const before = inbox.messages.length
    const nextWeek = '2026-02-23'
    expect(await sendWeeklyInsight(deps, { org, manager, week: nextWeek })).toEqual({ status: 'opted_out' })
    expect(inbox.messages).toHaveLength(before)
    const recipients = await createInsightActivities(deps).insightRecipients({
      org,
      week: nextWeek,
      now: '2026-03-02T08:00:00Z',
    })
    expect(recipients.optedOut).toEqual([manager])
    expect(recipients.managers).not.toContain(manager)

    const optIn = await app.inject({
      method: 'POST',
      url,
      payload: 'choice=opt-in',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(optIn.statusCode).toBe(200)
    expect(await optedOutManagers(ch, org)).toEqual(new Set())
    await app.close()
  })
})

describe('the Message-ID', () => {
  it('keeps safe characters and encodes the others, so different ids never collide', () => {
    expect(insightMessageId({ org: 'acme', manager: 'mgr-1', week })).toBe(`<insights.acme.mgr-1.${week}@dugout>`)
    const odd = insightMessageId({ org: 'a.b', manager: 'x>\r\ny@z', week })
    expect(odd).toBe(`<insights.a=2Eb.x=3E=0D=0Ay=40z.${week}@dugout>`)
    expect(insightMessageId({ org: 'a-b', manager: 'm', week })).not.toBe(
      insightMessageId({ org: 'a.b', manager: 'm', week }),
    )
  })
})
