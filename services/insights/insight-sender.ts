/**
 * Sending one manager's weekly insight email, idempotently (docs/insights.md, "Exactly once").
 *
 * The order of a send, each step protecting a guarantee:
 * 1. the manager's address: the `email` of their latest `user.upserted` by the end of the week (in
 *    the org's time zone); none → `no_email`, nothing sent;
 * 2. the manager's choice (`insight_preferences`): opted out → `opted_out`, nothing sent;
 * 3. the sent-log (`insight_emails_sent`): a row for (org, week, manager) → `already_sent`, nothing
 *    sent, so a retry after the SMTP server accepted sends nothing;
 * 4. gather, find, render, and hand the message to the SMTP server with a deterministic Message-ID;
 * 5. only once the server accepted it, the sent-log row.
 *
 * A send that throws (a refused or failed SMTP transaction) writes nothing, so its retry sends
 * again. A crash between steps 4 and 5 also sends again: delivery to the SMTP server is
 * at-least-once, and the second copy carries the same Message-ID, by which the recipient's side
 * (mail servers, clients) de-duplicates it.
 */
import nodemailer from 'nodemailer'
import type { InsightThresholds } from '../../schemas/insights.schema.ts'
import type { ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { sql } from '../clickhouse/sql.ts'
import { ReportParamsError } from '../errors.ts'
import { addDays, isTimeZone, weekOf } from '../projections/days.ts'
import { getUsableOrgSettings } from '../projections/org-settings.ts'
import { runReport } from '../reports/report-queries.ts'
import { headerValue, renderInsightEmail, type EmailAttachment } from './insight-email.ts'
import { gatherInsightWeek, type InsightRequest } from './insight-input.ts'
import { findInsights } from './insight-rules.ts'
import { optedOutManagers, optOutUrl } from './opt-out.ts'

/** One message as the Mailer takes it: header values already free of CR/LF. */
export interface MailMessage {
  to: { name: string; address: string }
  subject: string
  /** The Message-ID header, with its angle brackets. */
  messageId: string
  text: string
  html: string
  attachments: EmailAttachment[]
  /** The one-click opt-out link: `List-Unsubscribe`, with `List-Unsubscribe-Post` (RFC 8058). */
  optOutUrl: string
}

/** What sending needs of a mail transport: the addresses the SMTP server accepted, or a throw. */
export interface Mailer {
  send(message: MailMessage): Promise<{ accepted: string[] }>
}

/** How long the SMTP transport waits: to connect, for the greeting, for any answer. */
export const SMTP_TIMEOUTS_MS = { connection: 30_000, greeting: 30_000, socket: 60_000 }

/** A Mailer over nodemailer's SMTP transport, configured by URL (SMTP_URL), sending as `from` (MAIL_FROM). */
export function createSmtpMailer(smtpUrl: string, from: string): Mailer & { close(): void } {
  // Bounded waits, well inside the send activity's 5 minutes: a server that stops answering (after
  // DATA, say) fails this attempt, which sent nothing the server accepted, and the retry sends.
  // Options in the URL's query (smtp://host:25?socketTimeout=5000) take precedence.
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    connectionTimeout: SMTP_TIMEOUTS_MS.connection,
    greetingTimeout: SMTP_TIMEOUTS_MS.greeting,
    socketTimeout: SMTP_TIMEOUTS_MS.socket,
  })
  return {
    async send({ optOutUrl, ...message }) {
      const info = await transport.sendMail({
        ...message,
        from: headerValue(from),
        list: { unsubscribe: { url: optOutUrl, comment: 'Stop these weekly emails' } },
        headers: { 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      })
      return { accepted: info.accepted.map((a) => (typeof a === 'string' ? a : a.address)) }
    },
    close: () => transport.close(),
  }
}

/** Thrown when the SMTP server answered but accepted none of the recipients: nothing was sent. */
export class InsightSendError extends Error {
  readonly code = 'INSIGHT_NOT_ACCEPTED'
}

export interface SenderDeps {
  ch: ClickHouse
  mailer: Mailer
  /** The clock of `sent_at`. */
  clock: () => Date
  /** Public base URL of the HTTP API for the email's links; default the local API's address. */
  publicUrl?: string
  thresholds: InsightThresholds
  /** The secret signing the email's opt-out link (`insightsSecret` of opt-out.ts). */
  optOutSecret: string
}

/** The outcome of one manager's send. */
export type SendResult =
  | { status: 'no_email' | 'opted_out' }
  | { status: 'already_sent' | 'sent'; message_id: string }

/** The local HTTP API's default address (DUGOUT_HTTP_HOST, DUGOUT_HTTP_PORT). */
const DEFAULT_PUBLIC_URL = 'http://127.0.0.1:8080'

/**
 * The Message-ID of a manager's week: `<insights.<org>.<manager>.<week>@dugout>`. Each part keeps
 * letters, digits, `_` and `-`; any other byte is written `=XX` (hex of its UTF-8), so the header is
 * always valid and two different (org, manager) never share an id.
 */
export function insightMessageId({ org, manager, week }: InsightRequest): string {
  const part = (value: string) =>
    [...Buffer.from(value, 'utf8')]
      .map((b) =>
        /[A-Za-z0-9_-]/.test(String.fromCharCode(b))
          ? String.fromCharCode(b)
          : `=${b.toString(16).toUpperCase().padStart(2, '0')}`,
      )
      .join('')
  return `<insights.${part(org)}.${part(manager)}.${part(week)}@dugout>`
}

const MANAGER_CONTACT = sql`
  SELECT argMax(JSONExtractString(payload, 'email'), (occurred_at, event_id)) AS email,
         argMax(JSONExtractString(payload, 'timezone'), (occurred_at, event_id)) AS timezone
  FROM {db:Identifier}.events
  WHERE org_id = {org:String} AND type = 'user.upserted'
    AND JSONExtractString(payload, 'user_id') = {manager:String}
    AND occurred_at < {hi:DateTime64(3, 'UTC')} AND toDate(occurred_at, {tz:String}) <= {to:Date}`

const SENT = sql`
  SELECT manager_id, week, message_id, recipient, subject, sent_at
  FROM {db:Identifier}.insight_emails_sent FINAL
  WHERE org_id = {org:String} AND week = {week:Date}
  ORDER BY manager_id`

/** One row of the sent-log. */
export interface SentInsight {
  manager_id: string
  week: string
  message_id: string
  recipient: string
  subject: string
  /** `YYYY-MM-DD HH:MM:SS.mmm`, UTC. */
  sent_at: string
}

/** The sent-log of an org's week, one row per manager whose email the SMTP server accepted. */
export async function sentInsights(
  ch: ClickHouse,
  { org, week }: { org: string; week: string },
): Promise<SentInsight[]> {
  const result = await ch.client.query({
    query: SENT.text,
    query_params: { db: ch.database, org, week },
    format: 'JSONEachRow',
  })
  return result.json<SentInsight>()
}

/** Throws a ReportParamsError naming `week` unless it is a Monday. */
function checkWeek(week: string): void {
  if (weekOf(week) === week) return
  const rule = 'must be the Monday of an ISO week'
  throw new ReportParamsError([{ parameter: 'week', rule, message: `week: ${rule} (got ${JSON.stringify(week)})` }])
}

/** A manager's address and time zone as of the end of a week; each absent when their latest upsert has none. */
export interface ManagerContact {
  email?: string
  /** Their own IANA time zone; absent (the org's applies) when none or one nobody knows. */
  timezone?: string
}

/** The manager's address and time zone as of the end of the week, from their latest upsert. */
export async function managerContact(ch: ClickHouse, request: InsightRequest): Promise<ManagerContact> {
  const { timezone } = await getUsableOrgSettings(ch, request.org)
  const to = addDays(request.week, 6)
  const result = await ch.client.query({
    query: MANAGER_CONTACT.text,
    // Any zone's day `to` ends before 00:00 UTC two days later: a bound the primary key can use.
    query_params: {
      db: ch.database,
      org: request.org,
      manager: request.manager,
      tz: timezone,
      to,
      hi: `${addDays(to, 2)} 00:00:00.000`,
    },
    format: 'JSONEachRow',
  })
  const row = (await result.json<{ email: string; timezone: string }>())[0]
  const email = headerValue(row?.email ?? '')
  const zone = row?.timezone ?? ''
  return {
    ...(email === '' ? {} : { email }),
    ...(zone !== '' && isTimeZone(zone) ? { timezone: zone } : {}),
  }
}

/** The manager's address as of the end of the week; undefined when their latest upsert has none. */
export async function managerEmail(ch: ClickHouse, request: InsightRequest): Promise<string | undefined> {
  return (await managerContact(ch, request)).email
}

/** The managers of the week (those the manager reports have a row for), sorted by id. */
export async function weekManagers(ch: ClickHouse, { org, week }: { org: string; week: string }): Promise<string[]> {
  checkWeek(week)
  const rows = await runReport(ch, 'manager-care', { org, from: week, to: addDays(week, 6) })
  return [...new Set(rows.map((r) => String(r.manager_id)))].sort()
}

/** Sends one manager's email for `week` unless the sent-log already has it (see the module). */
export async function sendWeeklyInsight(deps: SenderDeps, request: InsightRequest): Promise<SendResult> {
  const { ch, mailer, clock, thresholds } = deps
  checkWeek(request.week)
  const address = await managerEmail(ch, request)
  if (address === undefined) return { status: 'no_email' }
  if ((await optedOutManagers(ch, request.org)).has(request.manager)) return { status: 'opted_out' }

  const logged = (await sentInsights(ch, request)).find((row) => row.manager_id === request.manager)
  if (logged !== undefined) return { status: 'already_sent', message_id: logged.message_id }

  const data = await gatherInsightWeek(ch, request, thresholds)
  const findings = findInsights(data.input, thresholds)
  const publicUrl = deps.publicUrl ?? DEFAULT_PUBLIC_URL
  const email = await renderInsightEmail(data, findings, {
    publicUrl,
    optOutUrl: optOutUrl(publicUrl, deps.optOutSecret, request),
  })
  const messageId = insightMessageId(request)
  const { accepted } = await mailer.send({
    to: { name: email.toName, address },
    subject: email.subject,
    messageId,
    text: email.text,
    html: email.html,
    attachments: email.attachments,
    optOutUrl: email.optOutUrl,
  })
  if (!accepted.some((a) => a.toLowerCase() === address.toLowerCase()))
    throw new InsightSendError(`the SMTP server did not accept ${address} (accepted: ${accepted.join(', ') || 'none'})`)

  // Only now, after the server accepted: a row written earlier would make a failed send final.
  await ch.client.insert({
    table: `${ch.database}.insight_emails_sent`,
    values: [
      {
        org_id: request.org,
        manager_id: request.manager,
        week: request.week,
        message_id: messageId,
        recipient: address,
        subject: email.subject,
        sent_at: clock().toISOString().replace('T', ' ').replace('Z', ''),
      },
    ],
    format: 'JSONEachRow',
  })
  return { status: 'sent', message_id: messageId }
}
