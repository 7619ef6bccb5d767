/**
 * How a CLI command reaches Dugout's data. With the embedded engine, one process owns the chDB
 * folder: when `dugout run` is up, commands go through its HTTP API; otherwise (or with a
 * ClickHouse server) they open ClickHouse themselves.
 */
import type { DugoutConfig } from '../../schemas/config.schema.ts'
import { createClickHouse, type ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { migrate } from '../clickhouse/migrations.ts'
import { getOrgSettings, setOrgSettings, type OrgSettings } from '../projections/org-settings.ts'
import { displayNames, withNames } from '../reports/display-names.ts'
import { runReport, type ReportName, type ReportParams, type ReportRow } from '../reports/report-queries.ts'

/** How a report is asked for beyond its parameters. */
export interface ReportOptions {
  /** Add `manager_name` / `rep_name` beside the ids (display names as of the end of the range). */
  names?: boolean
}

export interface DugoutData {
  via: 'http' | 'clickhouse'
  report(name: ReportName, params: ReportParams, options?: ReportOptions): Promise<ReportRow[]>
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

async function request<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init)
  const body = (await response.json()) as T & { error?: string }
  if (!response.ok) throw new ServiceRequestError(body.error ?? `${url}: HTTP ${response.status}`)
  return body
}

function overHttp(config: DugoutConfig): DugoutData {
  const base = httpBase(config)
  return {
    via: 'http',
    report: (name, p, options = {}) =>
      request(
        `${base}/v1/orgs/${encodeURIComponent(p.org)}/reports/${name}?${new URLSearchParams({
          from: p.from,
          to: p.to,
          ...(options.names ? { names: 'true' } : {}),
        })}`,
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
