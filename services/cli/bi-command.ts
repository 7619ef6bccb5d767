/**
 * `dugout bi grant|revoke|list`: read-only, tenant-scoped ClickHouse users for BI tools
 * (docs/bi.md). On a server (CLICKHOUSE_URL) it runs the SQL of services/reports/bi-access.ts; the
 * embedded engine has no users, so there it says so and prints the SQL it would run.
 */
import { randomBytes } from 'node:crypto'
import { Command } from 'commander'
import type { DugoutConfig } from '../../schemas/config.schema.ts'
import { createClickHouse } from '../clickhouse/clickhouse-client.ts'
import {
  biUserName,
  grantStatements,
  listQuery,
  PASSWORD_PLACEHOLDER,
  revokeStatements,
  roleStatements,
} from '../reports/bi-access.ts'

const say = (line: string) => process.stderr.write(`${line}\n`)

/** 32 random bytes, URL-safe: nothing to escape in SQL or in a data source form. */
export function generatePassword(): string {
  return randomBytes(32).toString('base64url')
}

const EMBEDDED = [
  'The embedded engine (chDB, no CLICKHOUSE_URL) has no users, roles or row policies: nothing was run.',
  'On a ClickHouse server, `dugout bi` with CLICKHOUSE_URL set runs these statements:',
].join('\n')

async function onServer(config: DugoutConfig, run: (ch: ReturnType<typeof createClickHouse>) => Promise<void>) {
  const ch = createClickHouse(config)
  try {
    await run(ch)
  } finally {
    await ch.close()
  }
}

const printSql = (statements: readonly string[]) =>
  process.stdout.write(`${statements.map((s) => `${s};`).join('\n')}\n`)

export function biCommand(config: () => DugoutConfig): Command {
  const bi = new Command('bi').description(
    'Read-only ClickHouse users for BI tools (Grafana, Metabase, Superset): one per org, reading only the bi_* views, only that org (docs/bi.md).',
  )

  bi.command('grant')
    .description('Create the BI user of an org with a generated password, printed once on stdout.')
    .requiredOption('--org <org>', 'the org id')
    .action(async (options: { org: string }) => {
      const c = config()
      const database = c.CLICKHOUSE_DATABASE
      const user = biUserName(options.org)
      if (!c.CLICKHOUSE_URL) {
        // No password is generated: no user gets it here, and one printed for nothing is a secret to leak.
        say(
          `${EMBEDDED}\n(${PASSWORD_PLACEHOLDER} stands for a password of your choice; the server run generates one.)`,
        )
        printSql([...roleStatements(database), ...grantStatements(database, options.org, PASSWORD_PLACEHOLDER)])
        return
      }
      const password = generatePassword()
      await onServer(c, async (ch) => {
        // The role first (idempotent), then the user: a grant fails before a user exists without its policy.
        for (const query of [...roleStatements(database), ...grantStatements(database, options.org, password)]) {
          await ch.client.command({ query })
        }
      })
      say(`Created ClickHouse user ${user}: SELECT on the bi_* views of ${database}, rows of org ${options.org} only.`)
      say('Its password, shown this once (store it in your BI tool):')
      process.stdout.write(`user=${user}\npassword=${password}\n`)
    })

  bi.command('revoke')
    .description('Drop the BI user of an org and its row policies.')
    .requiredOption('--org <org>', 'the org id')
    .action(async (options: { org: string }) => {
      const c = config()
      const statements = revokeStatements(c.CLICKHOUSE_DATABASE, options.org)
      if (!c.CLICKHOUSE_URL) {
        say(EMBEDDED)
        printSql(statements)
        return
      }
      await onServer(c, async (ch) => {
        for (const query of statements) await ch.client.command({ query })
      })
      say(`Dropped ClickHouse user ${biUserName(options.org)} (if it existed) and its row policies.`)
    })

  bi.command('list')
    .description('The BI users and the row filter of each.')
    .action(async () => {
      const c = config()
      const query = listQuery(c.CLICKHOUSE_DATABASE)
      if (!c.CLICKHOUSE_URL) {
        say(EMBEDDED)
        printSql([query])
        return
      }
      await onServer(c, async (ch) => {
        const rows = await (
          await ch.client.query({ query, format: 'JSONEachRow' })
        ).json<{ user: string; filter: string }>()
        for (const row of rows) process.stdout.write(`${row.user}\t${row.filter}\n`)
        if (rows.length === 0) say('No BI users.')
      })
    })

  return bi
}
