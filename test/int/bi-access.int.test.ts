// chDB has no access control, so the statements of `dugout bi` cannot run here: each is parsed
// by the engine instead (formatQuery parses any statement, GRANT and CREATE ROW POLICY included),
// and the list query, which chDB refuses to run (no users to show).
import { afterAll, describe, expect, it } from 'vitest'
import {
  grantStatements,
  listQuery,
  PASSWORD_PLACEHOLDER,
  revokeStatements,
  roleStatements,
} from '../../services/reports/bi-access.ts'
import { testClickHouse } from '../support/env.ts'

const ch = testClickHouse('biaccess')
afterAll(() => ch.close())

async function format(statement: string): Promise<string> {
  const result = await ch.client.query({
    query: 'SELECT formatQuery({q:String}) AS f',
    query_params: { q: statement },
    format: 'JSONEachRow',
  })
  const [row] = await result.json<{ f: string }>()
  return row!.f
}

describe('the BI access SQL', () => {
  const statements = [
    ...roleStatements('dugout'),
    ...grantStatements('dugout', 'acme-eu', 'pw_-x9'),
    ...grantStatements('dugout', 'acme-eu', PASSWORD_PLACEHOLDER),
    ...revokeStatements('dugout', 'acme-eu'),
    listQuery('dugout'),
  ]

  it.each(statements)('parses: %s', async (statement) => {
    const formatted = await format(statement)
    expect(formatted.split(/\s+/)[0]).toBe(statement.split(/\s+/)[0])
  })

  it('refuses what is not SQL (the check can fail)', async () => {
    await expect(format('CREATE ROW POLICY ON')).rejects.toThrow()
  })

  it('keeps the row filter of the org in the parsed policy', async () => {
    const policy = grantStatements('dugout', 'acme-eu', 'pw').find((s) => s.startsWith('CREATE ROW POLICY'))!
    expect(await format(policy)).toMatch(/USING org_id = 'acme-eu' TO `dugout_bi_acme-eu`/)
  })

  it('cannot list users on the embedded engine: it has no access control to read', async () => {
    await expect(ch.client.query({ query: listQuery(ch.database), format: 'JSONEachRow' })).rejects.toThrow(
      /SHOW USERS/,
    )
  })
})
