// The SQL of `dugout bi` (services/reports/bi-access.ts): one user per org, the org id checked and
// quoted, a row policy on every view the role can read, and nothing else granted.
import fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { splitStatements } from '../../services/clickhouse/migrations.ts'
import {
  BI_ACCESS_SQL,
  BI_VIEWS,
  biUserName,
  grantStatements,
  quoteIdentifier,
  quoteString,
  revokeStatements,
  roleStatements,
} from '../../services/reports/bi-access.ts'

describe('BI access SQL', () => {
  it('names one user per org and refuses an org id that breaks the OrgId rule', () => {
    expect(biUserName('acme-eu')).toBe('dugout_bi_acme-eu')
    for (const bad of ["x' OR 1=1 --", 'Acme', '', 'a`b', 'a'.repeat(65)]) {
      expect(() => grantStatements('dugout', bad, 'pw'), bad).toThrow(/--org/)
      expect(() => revokeStatements('dugout', bad), bad).toThrow(/--org/)
    }
  })

  it('quotes identifiers and strings', () => {
    expect(quoteIdentifier('a`b\\')).toBe('`a\\`b\\\\`')
    expect(quoteString("it's \\")).toBe("'it\\'s \\\\'")
  })

  it('gives the user the role and a row policy of its org on every view the role can read', () => {
    const [create, grant, defaultRole, policy] = grantStatements('dugout', 'acme', 's3cret')
    expect(create).toBe(
      "CREATE USER `dugout_bi_acme` IDENTIFIED WITH sha256_password BY 's3cret' DEFAULT DATABASE `dugout`",
    )
    expect(grant).toBe('GRANT dugout_bi TO `dugout_bi_acme`')
    expect(defaultRole).toBe('SET DEFAULT ROLE dugout_bi TO `dugout_bi_acme`')
    expect(policy).toContain("FOR SELECT USING org_id = 'acme' TO `dugout_bi_acme`")
    const granted = roleStatements('dugout')
      .filter((s) => s.startsWith('GRANT SELECT'))
      .map((s) => /ON `dugout`\.(\w+) TO dugout_bi$/.exec(s)?.[1])
    expect(granted.sort()).toEqual([...BI_VIEWS].sort())
    for (const view of BI_VIEWS) expect(policy).toContain(`\`dugout\`.\`${view}\``)
    expect(revokeStatements('dugout', 'acme')).toEqual([
      `DROP ROW POLICY IF EXISTS \`dugout_bi_acme\` ON ${BI_VIEWS.map((v) => `\`dugout\`.\`${v}\``).join(', ')}`,
      'DROP USER IF EXISTS `dugout_bi_acme`',
    ])
  })

  it('grants the role SELECT on the views and nothing else, under a read-only profile', () => {
    const statements = splitStatements(fs.readFileSync(BI_ACCESS_SQL, 'utf8'))
    const grants = statements.filter((s) => s.startsWith('GRANT'))
    expect(grants).toHaveLength(BI_VIEWS.length)
    for (const g of grants) expect(g).toMatch(/^GRANT SELECT ON \{db:Identifier\}\.bi_\w+ TO dugout_bi$/)
    expect(statements.find((s) => s.startsWith('CREATE SETTINGS PROFILE'))).toMatch(
      /readonly = 1, max_execution_time = \d+ MAX \d+ CHANGEABLE_IN_READONLY/,
    )
    // Idempotent, and a changed profile replaces the old one: applied at every grant.
    for (const s of statements.filter((s) => s.startsWith('CREATE'))) expect(s).toMatch(/IF NOT EXISTS|OR REPLACE/)
  })
})
