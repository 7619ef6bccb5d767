/**
 * Read-only, tenant-scoped access to the BI views (docs/bi.md): the SQL of `dugout bi grant`,
 * `revoke` and `list`, as pure functions. A BI user is one ClickHouse user per org, with the role
 * `dugout_bi` (SELECT on the four views, read-only profile: infra/clickhouse/server/bi-access.sql)
 * and a row policy `org_id = '<org>'` on each view. Server only: chDB has no access control.
 */
import fs from 'node:fs'
import path from 'node:path'
import { PROJECT_ROOT } from '../../schemas/config.schema.ts'
import { OrgId } from '../../schemas/events.schema.ts'
import { splitStatements } from '../clickhouse/migrations.ts'

/** The views of the BI interface, version 1 (migration 0004): all that the role may read. */
export const BI_VIEWS = ['bi_manager_weekly', 'bi_rep_weekly', 'bi_manager_monthly', 'bi_rep_monthly'] as const

/** The role every BI user gets (created by infra/clickhouse/server/bi-access.sql). */
export const BI_ROLE = 'dugout_bi'

/** Where the server-only statements of the role live. */
export const BI_ACCESS_SQL = path.join(PROJECT_ROOT, 'infra/clickhouse/server/bi-access.sql')

/** What stands for the password in SQL that is shown, not run. */
export const PASSWORD_PLACEHOLDER = '<password>'

/** `name` as a ClickHouse identifier in back quotes. */
export function quoteIdentifier(name: string): string {
  return `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``
}

/** `value` as a ClickHouse string literal. */
export function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

/** The org id, checked with the events' `OrgId` rule (so it is safe in a name and a literal). */
function orgId(org: string): string {
  const parsed = OrgId.safeParse(org)
  if (!parsed.success)
    throw new BiAccessError(`--org: ${parsed.error.issues[0]?.message ?? 'invalid'} (got ${JSON.stringify(org)})`)
  return parsed.data
}

/** A bad argument of `dugout bi`. */
export class BiAccessError extends Error {
  readonly code = 'BI_ACCESS_INVALID'
}

/** The ClickHouse user of one org: `dugout_bi_<org>` (org ids are `[a-z0-9_-]`, so names are distinct). */
export function biUserName(org: string): string {
  return `${BI_ROLE}_${orgId(org)}`
}

/** The statements of the role (the server file, with the database name inlined). */
export function roleStatements(database: string, sql = fs.readFileSync(BI_ACCESS_SQL, 'utf8')): string[] {
  return splitStatements(sql).map((s) => s.replaceAll('{db:Identifier}', quoteIdentifier(database)))
}

const onViews = (database: string) =>
  BI_VIEWS.map((v) => `${quoteIdentifier(database)}.${quoteIdentifier(v)}`).join(', ')

/**
 * The statements creating the BI user of `org` (after `roleStatements`): the user with its
 * password, the role, and a row policy per view so that it reads the rows of its org only.
 * Creating an existing user fails rather than changing its password silently: revoke first.
 */
export function grantStatements(database: string, org: string, password: string): string[] {
  const user = quoteIdentifier(biUserName(org))
  return [
    `CREATE USER ${user} IDENTIFIED WITH sha256_password BY ${quoteString(password)} DEFAULT DATABASE ${quoteIdentifier(database)}`,
    `GRANT ${BI_ROLE} TO ${user}`,
    `SET DEFAULT ROLE ${BI_ROLE} TO ${user}`,
    `CREATE ROW POLICY OR REPLACE ${user} ON ${onViews(database)} FOR SELECT USING org_id = ${quoteString(orgId(org))} TO ${user}`,
  ]
}

/** The statements removing the BI user of `org` and its row policies. */
export function revokeStatements(database: string, org: string): string[] {
  const user = quoteIdentifier(biUserName(org))
  return [`DROP ROW POLICY IF EXISTS ${user} ON ${onViews(database)}`, `DROP USER IF EXISTS ${user}`]
}

/** The query listing the BI users: name, and the filter of their row policy (named after the user). */
export function listQuery(database: string): string {
  return `SELECT u.name AS user, any(p.select_filter) AS filter
FROM system.users AS u
LEFT JOIN (SELECT short_name, select_filter FROM system.row_policies WHERE database = ${quoteString(database)}) AS p
  ON p.short_name = u.name
WHERE has(u.default_roles_list, ${quoteString(BI_ROLE)})
GROUP BY u.name
ORDER BY u.name`
}
