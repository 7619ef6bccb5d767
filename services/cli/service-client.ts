/**
 * How a CLI command reaches Dugout's data. With the embedded engine, one process owns the chDB
 * folder: when `dugout run` is up, commands go through its HTTP API, authenticated with the local
 * key that `dugout run` keeps in `$DUGOUT_HOME` (services/runtime/local-api-key.ts); otherwise (or
 * with a ClickHouse server) they open ClickHouse themselves.
 */
import type { Problem } from '../../schemas/api-problem.schema.ts'
import type { DugoutConfig } from '../../schemas/config.schema.ts'
import { createClickHouse, type ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { migrate } from '../clickhouse/migrations.ts'
import { getOrgSettings, setOrgSettings, type OrgSettings } from '../projections/org-settings.ts'
import { displayNames, withNames } from '../reports/display-names.ts'
import { runReport, type ReportName, type ReportRow } from '../reports/report-queries.ts'
import { trend } from '../reports/summary-reports.ts'
import type { ExplainParams, ReportAsOfParams, TrendParams } from '../../schemas/report-params.schema.ts'
import { explainMetric, type Explanation } from '../reports/explain.ts'
import { localApiKeyPath, readLocalApiKey } from '../runtime/local-api-key.ts'

/** How a report is asked for beyond its parameters. */
export interface ReportOptions {
  /** Add `manager_name` / `rep_name` beside the ids (display names as of the end of the range). */
  names?: boolean
}

export interface DugoutData {
  via: 'http' | 'clickhouse'
  report(name: ReportName, params: ReportAsOfParams, options?: ReportOptions): Promise<ReportRow[]>
  /** One metric of one manager or rep per ISO week (summary-reports.ts, `trend`). */
  trend(params: TrendParams): Promise<ReportRow[]>
  /** The events and deals behind one count (explain.ts). */
  explain(params: ExplainParams): Promise<Explanation>
  orgSettings(org: string): Promise<OrgSettings>
  setOrgSettings(org: string, changes: Partial<OrgSettings>): Promise<OrgSettings>
  close(): Promise<void>
}

export class ServiceRequestError extends Error {
  readonly code = 'SERVICE_REQUEST_FAILED'
}

export function httpBase(config: DugoutConfig): string {
  return `http://${config.DUGOUT_HTTP_HOST === '0.0.0.0' ? '127.0.0.1' : config.DUGOUT_HTTP_HOST}:${config.DUGOUT_HTTP_PORT}`
}

export async function servicesAnswer(config: DugoutConfig): Promise<boolean> {
  try {
    const response = await fetch(`${httpBase(config)}/healthz`, { signal: AbortSignal.timeout(1000) })
    return response.ok
  } catch {
    return false
  }
}

/** Sends the local key on every request; a refusal is thrown with the problem's own sentence. */
function serviceRequester(config: DugoutConfig) {
  const key = readLocalApiKey(config.DUGOUT_HOME)
  return async <T>(url: string, init: RequestInit = {}): Promise<T> => {
    const headers = new Headers(init.headers)
    if (key !== undefined) headers.set('authorization', `Bearer ${key}`)
    const response = await fetch(url, { ...init, headers })
    const body = (await response.json().catch(() => undefined)) as (T & Partial<Problem>) | undefined
    if (response.ok) return body as T
    const detail = body?.detail ?? `${url}: HTTP ${response.status}`
    if (response.status === 401 || response.status === 403) {
      // The services run with another $DUGOUT_HOME than this command, or the file was replaced.
      throw new ServiceRequestError(
        `${detail} (the local key ${localApiKeyPath(config.DUGOUT_HOME)} ${key === undefined ? 'does not exist' : 'was refused'}: ` +
          'is `dugout run` using the same DUGOUT_HOME?)',
      )
    }
    throw new ServiceRequestError(detail)
  }
}

function overHttp(config: DugoutConfig): DugoutData {
  const base = httpBase(config)
  const request = serviceRequester(config)
  return {
    via: 'http',
    report: (name, p, options = {}) =>
      request(
        `${base}/v1/orgs/${encodeURIComponent(p.org)}/reports/${encodeURIComponent(name)}?${new URLSearchParams({
          from: p.from,
          to: p.to,
          ...(p.asOf !== undefined ? { as_of: p.asOf } : {}),
          ...(options.names ? { names: 'true' } : {}),
        })}`,
      ),
    explain: ({ org, metric, asOf, ...rest }) =>
      request(
        `${base}/v1/orgs/${encodeURIComponent(org)}/explain/${encodeURIComponent(metric)}?${new URLSearchParams(
          Object.entries({ ...rest, as_of: asOf }).flatMap(([k, v]) => (v === undefined ? [] : [[k, String(v)]])),
        )}`,
      ),
    trend: ({ org, metric, ...rest }) =>
      request(
        `${base}/v1/orgs/${encodeURIComponent(org)}/trend/${encodeURIComponent(metric)}?${new URLSearchParams(
          Object.entries(rest).flatMap(([k, v]) => (v === undefined ? [] : [[k === 'asOf' ? 'as_of' : k, String(v)]])),
        )}`,
      ),
    orgSettings: (org) => request(`${base}/v1/orgs/${encodeURIComponent(org)}/settings`),
    setOrgSettings: (org, changes) =>
      request(`${base}/v1/orgs/${encodeURIComponent(org)}/settings`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(changes),
      }),
    close: async () => {},
  }
}

function direct(ch: ClickHouse): DugoutData {
  return {
    via: 'clickhouse',
    report: async (name, p, options = {}) => {
      const rows = await runReport(ch, name, p)
      if (!options.names) return rows
      const { timezone } = await getOrgSettings(ch, p.org)
      return withNames(rows, await displayNames(ch, { org: p.org, to: p.to, tz: timezone }))
    },
    trend: (params) => trend(ch, params, 'projections', new Date()),
    explain: (params) => explainMetric(ch, params),
    orgSettings: (org) => getOrgSettings(ch, org),
    setOrgSettings: (org, changes) => setOrgSettings(ch, org, changes),
    close: () => ch.close(),
  }
}

export async function openDugoutData(config: DugoutConfig): Promise<DugoutData> {
  if (!config.CLICKHOUSE_URL && (await servicesAnswer(config))) return overHttp(config)
  const ch = createClickHouse(config)
  await migrate(ch)
  return direct(ch)
}
