/**
 * `/v1/insights/opt-out?org&manager&token`: the opt-out link of the weekly insight emails
 * (docs/insights.md, "Opting out"). The signed token is the key of this route: it opens one
 * manager's preference of one org and nothing else, so the route sits outside `/v1/orgs/:org/`
 * and its API keys.
 * - GET shows a page that asks, and changes nothing: mail scanners and link previews open links.
 * - POST records the choice: `choice=opt-in` sends the emails again; anything else, among them
 *   RFC 8058's one-click body `List-Unsubscribe=One-Click`, stops them.
 * A token that is not the one of (org, manager) gets 403 and changes nothing.
 */
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { dayIn } from '../projections/days.ts'
import { getUsableOrgSettings } from '../projections/org-settings.ts'
import { displayNames } from '../reports/display-names.ts'
import { requireHttpApi } from '../runtime/http-api.ts'
import { escapeHtml } from './insight-email.ts'
import { OPT_OUT_PATH, optedOutManagers, setInsightOptOut, verifyOptOutToken, type OptOutSubject } from './opt-out.ts'

const OptOutQuery = z.object({
  org: z.string().min(1, 'must name the org'),
  manager: z.string().min(1, "must be the manager's id"),
  token: z.string().min(1, "must be the link's token"),
})

const OptOutBody = z.record(z.string(), z.string()).optional()

export interface OptOutRouteDeps {
  ch: ClickHouse
  /** The secret the emails' links were signed with (`insightsSecret`). */
  secret: string
  clock: () => Date
}

// The page loads nothing and runs nothing; its one form posts back here.
const PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"

function page(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Dugout</title>
<style>body{font-family:Helvetica,Arial,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222;line-height:1.5}
button{font:inherit;padding:.5rem 1rem;border:0;border-radius:4px;background:#0072b2;color:#fff;cursor:pointer}</style>
</head><body><h1>${escapeHtml(title)}</h1>${body}</body></html>`
  return reply
    .code(status)
    .header('content-security-policy', PAGE_POLICY)
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .type('text/html; charset=utf-8')
    .send(html)
}

const choiceForm = (optIn: boolean) =>
  `<form method="post"><input type="hidden" name="choice" value="${optIn ? 'opt-in' : 'opt-out'}">` +
  `<button type="submit">${optIn ? 'Send them to me again' : 'Stop these emails'}</button></form>`

async function managerName(ch: ClickHouse, { org, manager }: OptOutSubject, now: Date): Promise<string> {
  const { timezone } = await getUsableOrgSettings(ch, org)
  return (await displayNames(ch, { org, to: dayIn(now, timezone), tz: timezone })).get(manager) ?? manager
}

export function registerOptOutRoute(app: FastifyInstance, deps: OptOutRouteDeps): void {
  requireHttpApi(app)
  const refused = (reply: FastifyReply) =>
    page(reply, 403, 'This link does not work', '<p>It is not the link of an insight email, or it was changed.</p>')
  void app.register(async (scope) => {
    // Forms and RFC 8058's one-click POST send application/x-www-form-urlencoded.
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) =>
      done(null, Object.fromEntries(new URLSearchParams(String(body)))),
    )
    const typed = scope.withTypeProvider<ZodTypeProvider>()
    typed.get(
      OPT_OUT_PATH,
      { schema: { summary: 'Asks a manager whether to stop their weekly insight emails (changes nothing)', querystring: OptOutQuery } },
      async (request, reply) => {
        const { token, ...subject } = request.query
        if (!verifyOptOutToken(deps.secret, subject, token)) return refused(reply)
        const name = escapeHtml(await managerName(deps.ch, subject, deps.clock()))
        const out = (await optedOutManagers(deps.ch, subject.org)).has(subject.manager)
        return out
          ? page(reply, 200, 'Weekly insight emails are off', `<p>${name} gets no weekly Dugout emails.</p>${choiceForm(true)}`)
          : page(
              reply,
              200,
              'Stop the weekly insight emails?',
              `<p>${name} gets a short Dugout email about the team every Monday.</p>${choiceForm(false)}`,
            )
      },
    )
    typed.post(
      OPT_OUT_PATH,
      {
        schema: {
          summary: "Records a manager's choice: stop their weekly insight emails, or (choice=opt-in) send them again",
          querystring: OptOutQuery,
          body: OptOutBody,
        },
      },
      async (request, reply) => {
        const { token, ...subject } = request.query
        if (!verifyOptOutToken(deps.secret, subject, token)) return refused(reply)
        const optIn = request.body?.choice === 'opt-in'
        await setInsightOptOut(deps.ch, subject, !optIn, deps.clock())
        return optIn
          ? page(reply, 200, 'Weekly insight emails are on', '<p>The next Monday email will reach you again.</p>')
          : page(
              reply,
              200,
              'Weekly insight emails are off',
              `<p>You will get no more weekly Dugout emails. Changed your mind?</p>${choiceForm(true)}`,
            )
      },
    )
  })
}
