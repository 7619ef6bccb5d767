/**
 * Per-org settings read by the metrics: the timezone that cuts days and report ranges, and the
 * currency of amounts sent without one (METRICS.md, "Range" and `pipeline_created_amount`).
 */
import type { ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { sql } from './sql.ts'

export interface OrgSettings {
  /** IANA timezone, e.g. `Asia/Tokyo`. Default `UTC`. */
  timezone: string
  /** ISO-4217 code, e.g. `USD`. Default `USD`. */
  defaultCurrency: string
}

/** The settings of an org that never set any. */
export const DEFAULT_ORG_SETTINGS: Readonly<OrgSettings> = Object.freeze({ timezone: 'UTC', defaultCurrency: 'USD' })

/** A setting that ClickHouse could not use; nothing was written. */
export class OrgSettingsError extends Error {
  readonly code = 'ORG_SETTINGS_INVALID'
}

const SELECT_SETTINGS = sql`
  SELECT timezone, default_currency
  FROM {db:Identifier}.org_settings FINAL
  WHERE org_id = {org:String}`

// The timezone is checked by the engine that will use it (its tz database, not Node's ICU).
const CHECK_TIMEZONE = sql`SELECT toString(toDateTime(0, {tz:String})) AS ok`

/** The org's settings, defaults for anything never set. */
export async function getOrgSettings(ch: ClickHouse, org: string): Promise<OrgSettings> {
  const result = await ch.client.query({
    query: SELECT_SETTINGS.text,
    query_params: { db: ch.database, org },
    format: 'JSONEachRow',
  })
  const [row] = await result.json<{ timezone: string; default_currency: string }>()
  if (!row) return { ...DEFAULT_ORG_SETTINGS }
  return { timezone: row.timezone, defaultCurrency: row.default_currency }
}

/**
 * Updates the given settings of an org, keeping the others. Changing the timezone moves every day
 * boundary: the metric projections computed under the old timezone stop being read (see
 * `metric_days`) until the org's days are recomputed.
 */
export async function setOrgSettings(
  ch: ClickHouse,
  org: string,
  changes: { timezone?: string; defaultCurrency?: string },
): Promise<OrgSettings> {
  if (changes.defaultCurrency !== undefined && !/^[A-Z]{3}$/.test(changes.defaultCurrency)) {
    throw new OrgSettingsError(
      `defaultCurrency: must be an ISO-4217 code of 3 upper-case letters (got ${JSON.stringify(changes.defaultCurrency)})`,
    )
  }
  if (changes.timezone !== undefined) {
    try {
      await ch.client
        .query({ query: CHECK_TIMEZONE.text, query_params: { tz: changes.timezone }, format: 'JSONEachRow' })
        .then((r) => r.json())
    } catch (error) {
      throw new OrgSettingsError(`timezone: unknown to ClickHouse (got ${JSON.stringify(changes.timezone)})`, {
        cause: error,
      })
    }
  }
  const next = { ...(await getOrgSettings(ch, org)), ...definedOnly(changes) }
  await ch.client.insert({
    table: `${ch.database}.org_settings`,
    values: [{ org_id: org, timezone: next.timezone, default_currency: next.defaultCurrency }],
    format: 'JSONEachRow',
  })
  return next
}

function definedOnly(changes: { timezone?: string; defaultCurrency?: string }): Partial<OrgSettings> {
  return Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined))
}
