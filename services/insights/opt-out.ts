/**
 * Opting out of the weekly insight emails (docs/insights.md, "Opting out"). Each email carries a
 * link, and the same URL in `List-Unsubscribe` with `List-Unsubscribe-Post` (RFC 8058), so mail
 * clients offer a one-click opt-out. The link names the org and the manager and carries an HMAC of
 * both under a server secret: only the holder of the email can opt its manager out, and changing
 * either id breaks the token. The choice is a row of `insight_preferences`, read when a week's
 * recipients are chosen, so the next run honours it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import path from 'node:path'
import type { ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { sql } from '../clickhouse/sql.ts'
import { ensureSecretFile } from '../runtime/local-api-key.ts'

/** The file of `$DUGOUT_HOME` holding the signing secret when DUGOUT_INSIGHTS_SECRET is unset. */
export const INSIGHTS_SECRET_FILE = 'insights-secret'

/** The route of the opt-out link (GET: a page that asks; POST: the opt-out, or opting back in). */
export const OPT_OUT_PATH = '/v1/insights/opt-out'

/** Whose emails a link is about. */
export interface OptOutSubject {
  org: string
  manager: string
}

/**
 * The secret signing opt-out links: DUGOUT_INSIGHTS_SECRET, else a random one created once in
 * `$DUGOUT_HOME/insights-secret` (mode 0600), which every process of one machine shares.
 */
export function insightsSecret(config: { DUGOUT_INSIGHTS_SECRET?: string | undefined; DUGOUT_HOME: string }): string {
  return config.DUGOUT_INSIGHTS_SECRET ?? ensureSecretFile(path.join(config.DUGOUT_HOME, INSIGHTS_SECRET_FILE))
}

/** The token of a link: HMAC-SHA256 of a purpose label, the org and the manager, NUL-separated. */
export function optOutToken(secret: string, { org, manager }: OptOutSubject): string {
  return createHmac('sha256', secret).update(`dugout-insights-opt-out\0${org}\0${manager}`).digest('base64url')
}

/** Whether `token` is the token of (org, manager), compared in constant time. */
export function verifyOptOutToken(secret: string, subject: OptOutSubject, token: string): boolean {
  const expected = Buffer.from(optOutToken(secret, subject))
  const given = Buffer.from(token)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** The manager's opt-out link under the public base URL. */
export function optOutUrl(publicUrl: string, secret: string, subject: OptOutSubject): string {
  const query = new URLSearchParams({ org: subject.org, manager: subject.manager, token: optOutToken(secret, subject) })
  return `${publicUrl}${OPT_OUT_PATH}?${query.toString()}`
}

const OPTED_OUT = sql`
  SELECT manager_id
  FROM {db:Identifier}.insight_preferences
  WHERE org_id = {org:String}
  GROUP BY manager_id
  HAVING argMax(opted_out, updated_at)`

/** The org's managers whose latest choice is to get no insight emails. */
export async function optedOutManagers(ch: ClickHouse, org: string): Promise<Set<string>> {
  const result = await ch.client.query({
    query: OPTED_OUT.text,
    query_params: { db: ch.database, org },
    format: 'JSONEachRow',
  })
  return new Set((await result.json<{ manager_id: string }>()).map((row) => row.manager_id))
}

/** Records the manager's choice at `at`: true stops their emails, false resumes them. */
export async function setInsightOptOut(
  ch: ClickHouse,
  subject: OptOutSubject,
  optedOut: boolean,
  at: Date,
): Promise<void> {
  await ch.client.insert({
    table: `${ch.database}.insight_preferences`,
    values: [
      {
        org_id: subject.org,
        manager_id: subject.manager,
        opted_out: optedOut,
        updated_at: at.toISOString().replace('T', ' ').replace('Z', ''),
      },
    ],
    format: 'JSONEachRow',
  })
}
