/**
 * Per-org settings read by the metrics: the timezone that cuts days and report ranges, and the
 * currency of amounts sent without one (docs/metrics.md, "Range" and `pipeline_created_amount`).
 */
import type { ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { OrgSettingsError } from '../errors.ts'
import { sql } from '../clickhouse/sql.ts'

export { OrgSettingsError }

export interface OrgSettings {
  /** IANA timezone, e.g. `Asia/Tokyo`. Default `UTC`. */
  timezone: string
  /** ISO-4217 code, e.g. `USD`. Default `USD`. */
  defaultCurrency: string
}

/** The settings of an org that never set any. */
export const DEFAULT_ORG_SETTINGS: Readonly<OrgSettings> = Object.freeze({ timezone: 'UTC', defaultCurrency: 'USD' })

// `known_timezone` costs well under a millisecond, and spares a computation that cannot succeed.
const SELECT_SETTINGS = sql`
  SELECT timezone, default_currency, timezone IN (SELECT time_zone FROM system.time_zones) AS known_timezone
  FROM {db:Identifier}.org_settings FINAL
  WHERE org_id = {org:String}`

// The timezone is checked by the engine that will use it (its tz database, not Node's ICU).
const CHECK_TIMEZONE = sql`SELECT toString(toDateTime(0, {tz:String})) AS ok`

const CURRENCY = /^[A-Z]{3}$/

/** The org's settings, defaults for anything never set; as stored, even if unusable (see `getUsableOrgSettings`). */
export async function getOrgSettings(ch: ClickHouse, org: string): Promise<OrgSettings> {
  const { settings } = await readSettings(ch, org)
  return settings
}

/**
 * The org's settings for a computation. A stored setting that ClickHouse cannot use (a timezone
 * its tz database lacks: the row was written through another engine, or by hand) throws an
 * OrgSettingsError naming it and the way out: every computation of the org would fail alike, so
 * retrying cannot help.
 */
export async function getUsableOrgSettings(ch: ClickHouse, org: string): Promise<OrgSettings> {
  const { settings, knownTimezone } = await readSettings(ch, org)
  // system.time_zones lists the zones of the engine's tz database; one it omits is tried for real.
  // A bad currency is named first, without trying the timezone.
  const works =
    knownTimezone || !CURRENCY.test(settings.defaultCurrency) || (await timezoneWorks(ch, settings.timezone))
  const checked = usable(org, settings, works)
  if (checked instanceof OrgSettingsError) throw checked
  return checked
}

const SELECT_SETTINGS_OF = sql`
  SELECT org_id, timezone, default_currency, timezone IN (SELECT time_zone FROM system.time_zones) AS known_timezone
  FROM {db:Identifier}.org_settings FINAL
  WHERE org_id IN {orgs:Array(String)}`

/**
 * `getUsableOrgSettings` of many orgs in one statement (and one check per timezone the engine's
 * list lacks): each org's settings, or the OrgSettingsError that `getUsableOrgSettings` throws
 * for it. One org's unusable settings spoil only its own computations.
 */
export async function getUsableOrgSettingsOf(
  ch: ClickHouse,
  orgs: readonly string[],
): Promise<Map<string, OrgSettings | OrgSettingsError>> {
  const out = new Map<string, OrgSettings | OrgSettingsError>(orgs.map((org) => [org, { ...DEFAULT_ORG_SETTINGS }]))
  if (orgs.length === 0) return out
  const result = await ch.client.query({
    query: SELECT_SETTINGS_OF.text,
    query_params: { db: ch.database, orgs: [...orgs] },
    format: 'JSONEachRow',
  })
  const rows = await result.json<{
    org_id: string
    timezone: string
    default_currency: string
    known_timezone: number | boolean
  }>()
  const works = new Map<string, boolean>()
  for (const row of rows) {
    const settings = { timezone: row.timezone, defaultCurrency: row.default_currency }
    if (!row.known_timezone && !works.has(row.timezone)) works.set(row.timezone, await timezoneWorks(ch, row.timezone))
    out.set(row.org_id, usable(row.org_id, settings, Boolean(row.known_timezone) || works.get(row.timezone) === true))
  }
  return out
}

/** The settings, or the OrgSettingsError naming what ClickHouse cannot use and the way out. */
function usable(org: string, settings: OrgSettings, timezoneWorks: boolean): OrgSettings | OrgSettingsError {
  const unusable = (what: string) =>
    new OrgSettingsError(
      `the stored settings of org ${JSON.stringify(org)} cannot be used: ${what}; change them with \`dugout org set ${org}\``,
    )
  if (!CURRENCY.test(settings.defaultCurrency)) {
    return unusable(
      `defaultCurrency: must be an ISO-4217 code of 3 upper-case letters (got ${JSON.stringify(settings.defaultCurrency)})`,
    )
  }
  if (!timezoneWorks) return unusable(`timezone: unknown to ClickHouse (got ${JSON.stringify(settings.timezone)})`)
  return settings
}

async function readSettings(ch: ClickHouse, org: string): Promise<{ settings: OrgSettings; knownTimezone: boolean }> {
  const result = await ch.client.query({
    query: SELECT_SETTINGS.text,
    query_params: { db: ch.database, org },
    format: 'JSONEachRow',
  })
  const [row] = await result.json<{ timezone: string; default_currency: string; known_timezone: number | boolean }>()
  if (!row) return { settings: { ...DEFAULT_ORG_SETTINGS }, knownTimezone: true }
  return {
    settings: { timezone: row.timezone, defaultCurrency: row.default_currency },
    knownTimezone: Boolean(row.known_timezone),
  }
}

/** Whether the engine accepts `timezone`; a fault on the way (a lost connection) is thrown, not an answer. */
async function timezoneWorks(ch: ClickHouse, timezone: string): Promise<boolean> {
  try {
    await ch.client
      .query({ query: CHECK_TIMEZONE.text, query_params: { tz: timezone }, format: 'JSONEachRow' })
      .then((r) => r.json())
    return true
  } catch (error) {
    // "Cannot load time zone …" (code 36), on chDB and a server alike.
    if ((error as { type?: string }).type === 'BAD_ARGUMENTS') return false
    throw error
  }
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
  if (changes.defaultCurrency !== undefined && !CURRENCY.test(changes.defaultCurrency)) {
    throw new OrgSettingsError(
      `defaultCurrency: must be an ISO-4217 code of 3 upper-case letters (got ${JSON.stringify(changes.defaultCurrency)})`,
    )
  }
  if (changes.timezone !== undefined && !(await timezoneWorks(ch, changes.timezone))) {
    throw new OrgSettingsError(`timezone: unknown to ClickHouse (got ${JSON.stringify(changes.timezone)})`)
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
