/**
 * People's display names, for reports people read: the `display_name` of each user's latest
 * `user.upserted` (by occurred_at, then event_id, as docs/metrics.md orders the same instant) on a
 * day up to the end of the range, in the org's time zone. JSON reports keep docs/metrics.md's
 * exact keys; `withNames` adds `*_name` keys beside the ids only when asked.
 */
import type { ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { sql } from '../clickhouse/sql.ts'
import { addDays } from '../projections/days.ts'
import type { ReportRow } from './report-definitions.ts'

const DISPLAY_NAMES = sql`
  SELECT user_id, argMax(JSONExtractString(payload, 'display_name'), (occurred_at, event_id)) AS name
  FROM {db:Identifier}.events
  WHERE org_id = {org:String} AND type = 'user.upserted'
    AND occurred_at < {hi:DateTime64(3, 'UTC')} AND toDate(occurred_at, {tz:String}) <= {to:Date}
  GROUP BY user_id`

/** user id → display name, as of the end of `to` in time zone `tz`. */
export async function displayNames(
  ch: ClickHouse,
  { org, to, tz }: { org: string; to: string; tz: string },
): Promise<Map<string, string>> {
  const result = await ch.client.query({
    query: DISPLAY_NAMES.text,
    // Any zone's day `to` ends before 00:00 UTC two days later: a bound the primary key can use.
    query_params: { db: ch.database, org, to, tz, hi: `${addDays(to, 2)} 00:00:00.000` },
    format: 'JSONEachRow',
  })
  const rows = await result.json<{ user_id: string; name: string }>()
  return new Map(rows.filter((r) => r.name !== '').map((r) => [r.user_id, r.name]))
}

/** The id columns that name a person, and the name column each gets beside it. */
export const NAMED_COLUMNS: Readonly<Record<string, string>> = { manager_id: 'manager_name', rep_id: 'rep_name' }

/** Rows with a `*_name` after each person's id column (null for an id without a name). */
export function withNames(rows: readonly ReportRow[], names: ReadonlyMap<string, string>): ReportRow[] {
  return rows.map((row) => {
    const named: ReportRow = {}
    for (const [key, value] of Object.entries(row)) {
      named[key] = value
      const nameKey = NAMED_COLUMNS[key]
      if (nameKey) named[nameKey] = typeof value === 'string' ? (names.get(value) ?? null) : null
    }
    return named
  })
}
