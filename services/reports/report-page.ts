/**
 * The built-in report page: `GET /ui` shows one org's charts by week and the four report tables,
 * each count one click from its explanation. No build step: the page is plain HTML, CSS and JS in
 * `page/`, and its charts are Chart.js's standalone file, served from `node_modules` (no CDN:
 * it works offline).
 *
 * | route | who | answer |
 * |---|---|---|
 * | `GET /ui/login` | anyone | the login form (org id + a `read` key) |
 * | `POST /ui/login` | anyone | 303 to `/ui` with a session cookie; 401 the form again for a bad key |
 * | `POST /ui/logout` | anyone | 303 to the form, the session ended |
 * | `GET /ui` | a session | the page of the session's org; 303 to the form without one |
 * | `GET /ui/assets/:file` | anyone | the page's own files and Chart.js (no data) |
 *
 * The page reads the API's own routes (`/v1/orgs/:org/...`), authorised by the session cookie
 * (see services/runtime/ui-sessions.ts and the auth hook in http-api.ts): the numbers it shows are
 * the API's, and a session of org A reading org B is refused there (403). The org is the
 * session's, never a parameter of the page.
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { REPORT_COLUMNS } from './report-queries.ts'
import { EXPLAIN_MANAGER_METRICS, EXPLAIN_REP_METRICS, OrgId } from '../../schemas/report-params.schema.ts'
import { uiCredentials } from '../runtime/http-api.ts'
import { clearedSessionCookie, sessionCookie, sessionIdOf } from '../runtime/ui-sessions.ts'

const PAGE_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'page')
const CHART_JS = createRequire(import.meta.url).resolve('chart.js')

/** The files under `/ui/assets/`: a fixed list, so that no path of the request reaches the disk. */
const ASSETS: Record<string, { file: string; type: string }> = {
  'chart.umd.min.js': {
    file: path.join(path.dirname(CHART_JS), 'chart.umd.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  'report-page.js': { file: path.join(PAGE_DIR, 'report-page.js'), type: 'text/javascript; charset=utf-8' },
  'report-page.css': { file: path.join(PAGE_DIR, 'report-page.css'), type: 'text/css; charset=utf-8' },
}

// Everything the page loads is its own; no inline script can run, whatever a name contains.
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"

/** What the page's script needs to know, besides the API: its org, the columns, what explain lists. */
function pageConfig(org: string) {
  return {
    org,
    columns: REPORT_COLUMNS,
    explain: { manager: EXPLAIN_MANAGER_METRICS, rep: EXPLAIN_REP_METRICS },
  }
}

// The page is no part of the API's contract: its routes stay out of the OpenAPI document.
const PAGE_ROUTE = { schema: { hide: true } }

export function registerReportPage(app: FastifyInstance): void {
  const { checkKey, sessions } = uiCredentials(app)

  // The login form posts form-encoded: the parser is this plugin's, the API's routes keep JSON.
  void app.register(async (ui) => {
    ui.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)))
    })

    ui.get('/ui/login', PAGE_ROUTE, async (_request, reply) => html(reply, 200, loginPage()))

    ui.post('/ui/login', PAGE_ROUTE, async (request, reply) => {
      // A login posted from another site would log the browser into the attacker's org.
      if (!sameOrigin(request)) return html(reply, 403, loginPage('This form must be sent from its own page.'))
      const body = (request.body ?? {}) as Record<string, unknown>
      const org = typeof body.org === 'string' ? body.org.trim() : ''
      const key = typeof body.key === 'string' ? body.key.trim() : ''
      if (!OrgId.safeParse(org).success || key === '') {
        return html(reply, 400, loginPage('Give an org id (a–z, 0–9, - and _) and its read key.', org))
      }
      const check = checkKey(key, org, 'read')
      if (!check.ok) return html(reply, 401, loginPage(`That key does not read org "${org}".`, org))
      const session = sessions.open(org)
      return reply
        .code(303)
        .header('set-cookie', sessionCookie(session, request.protocol === 'https'))
        .header('location', '/ui')
        .send()
    })

    ui.post('/ui/logout', PAGE_ROUTE, async (request, reply) => {
      sessions.close(sessionIdOf(request.headers.cookie))
      return reply.code(303).header('set-cookie', clearedSessionCookie()).header('location', '/ui/login').send()
    })

    ui.get('/ui', PAGE_ROUTE, async (request, reply) => {
      const org = sessions.orgOf(sessionIdOf(request.headers.cookie))
      if (org === null) return reply.code(303).header('location', '/ui/login').send()
      return html(reply, 200, reportPage(org))
    })

    ui.get<{ Params: { file: string } }>('/ui/assets/:file', PAGE_ROUTE, async (request, reply) => {
      const asset = Object.hasOwn(ASSETS, request.params.file) ? ASSETS[request.params.file] : undefined
      if (!asset) return reply.code(404).type('text/plain').send('no such asset')
      return reply
        .type(asset.type)
        .header('cache-control', 'no-cache')
        .send(await readFile(asset.file))
    })
  })
}

function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-store')
    .send(body)
}

/** No `Origin` (a non-browser client), or the page's own. */
function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin
  if (origin === undefined) return true
  try {
    return new URL(origin).host === request.headers.host
  } catch {
    return false
  }
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/assets/report-page.css">
</head>
<body>
${body}
</body>
</html>
`
}

function loginPage(error?: string, org = ''): string {
  return layout(
    'Dugout: log in',
    `<main class="login">
<h1>Dugout</h1>
<p>Team reports of one org. Log in with an API key of the org that has the <code>read</code> right
(or the local key of <code>dugout run</code>, in <code>$DUGOUT_HOME/local-api-key</code>).</p>
${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/ui/login">
<label>Org id <input name="org" required autocomplete="organization" value="${escapeHtml(org)}"></label>
<label>Read key <input name="key" type="password" required autocomplete="current-password"></label>
<button type="submit">Log in</button>
</form>
</main>`,
  )
}

function reportPage(org: string): string {
  // JSON in a non-executed script element; `<` escaped so that no value can close the element.
  const config = JSON.stringify(pageConfig(org)).replace(/</g, '\\u003c')
  return layout(
    `Dugout: ${org}`,
    `<header>
<h1>Dugout <span class="org">${escapeHtml(org)}</span></h1>
<form id="controls">
<label>From <input type="date" id="from" required></label>
<label>To <input type="date" id="to" required></label>
<label>Manager <select id="manager"></select></label>
<button type="submit">Show</button>
</form>
<form method="post" action="/ui/logout"><button type="submit" class="quiet">Log out</button></form>
</header>
<p id="status" role="status">Loading…</p>
<main>
<section class="charts" aria-label="By week">
<figure><figcaption>Autonomy: step-in rate</figcaption><canvas id="chart-autonomy"></canvas></figure>
<figure><figcaption>Direction: quota coverage</figcaption><canvas id="chart-direction"></canvas></figure>
<figure><figcaption>Care: replies within 24 h, one-on-one coverage</figcaption><canvas id="chart-care"></canvas></figure>
<figure><figcaption>Team volume: new and qualified opportunities</figcaption><canvas id="chart-volume"></canvas></figure>
</section>
<section id="tables"></section>
</main>
<aside id="explain" hidden>
<button type="button" id="explain-close" class="quiet">Close</button>
<h2 id="explain-title"></h2>
<div id="explain-body"></div>
</aside>
<script type="application/json" id="dugout-config">${config}</script>
<script src="/ui/assets/chart.umd.min.js"></script>
<script src="/ui/assets/report-page.js"></script>`,
  )
}
