// The migrations on a ClickHouse cluster (CLICKHOUSE_CLUSTER, docs/scaling.md): chDB is one
// process and has no cluster, so each statement `migrate` would run there is parsed by the engine
// instead (formatQuery parses any statement, ON CLUSTER and Replicated* engines included), and the
// parsed text shows the cluster and the replicated engine.
import { afterAll, describe, expect, it } from 'vitest'
import { clusterStatement, migrationStatements } from '../../services/clickhouse/migrations.ts'
import { inlineQueryParams } from '../../services/clickhouse/inline-params.ts'
import { testClickHouse } from '../support/env.ts'

const ch = testClickHouse('cluster_ddl')
afterAll(() => ch.close())

const statements = migrationStatements().map((s) =>
  inlineQueryParams(clusterStatement(s, 'dugout_cluster'), { db: 'dugout' }),
)

async function parsed(statement: string): Promise<string> {
  const result = await ch.client.query({
    query: 'SELECT formatQuery({q:String}) AS text',
    query_params: { q: statement },
    format: 'JSONEachRow',
  })
  return (await result.json<{ text: string }>())[0]!.text
}

describe('the migrations ON CLUSTER', () => {
  it.each(statements.map((s) => [s.slice(0, 90).replace(/\s+/g, ' '), s]))('parses: %s', async (_label, statement) => {
    const text = await parsed(statement)
    expect(text).toContain('ON CLUSTER dugout_cluster')
    if (/^CREATE TABLE/.test(text)) {
      expect(text).toMatch(
        /ENGINE = Replicated\w*MergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\{table\}', '\{replica\}'/,
      )
    }
  })

  it('keeps an engine its arguments after the replica path', async () => {
    const text = await parsed(
      clusterStatement(
        'CREATE TABLE IF NOT EXISTS d.t (a UInt8, v UInt32) ENGINE = ReplacingMergeTree(v) ORDER BY a',
        'c',
      ),
    )
    expect(text).toContain(
      "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', v)",
    )
  })

  it('refuses a statement it cannot place on a cluster', () => {
    expect(() => clusterStatement('INSERT INTO d.t VALUES (1)', 'c')).toThrow(/cannot run on a cluster/)
  })
})
