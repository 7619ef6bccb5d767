// Two handles on one chDB folder run their queries side by side: a short read on one connection
// does not wait for a long statement on another (chdb-node queues parameterized queries of the
// whole process, so Dugout binds parameters in the SQL text on chDB).
import os from 'node:os'
import path from 'node:path'
import fs from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { createClickHouse } from '../../services/clickhouse/clickhouse-client.ts'
import { config, uniqueName } from '../support/env.ts'

const folder = path.join(os.tmpdir(), uniqueName('dugout-chdb'))
const open = () => createClickHouse({ ...config, CLICKHOUSE_URL: undefined, CHDB_PATH: folder })
const busy = open()
const other = open()
afterAll(async () => {
  await busy.close()
  await other.close()
  fs.rmSync(folder, { recursive: true, force: true })
})

describe('chDB connections of one process', () => {
  it('answer a parameterized read while another connection runs a long parameterized statement', async () => {
    const finished: string[] = []
    const long = busy.client
      .query({ query: 'SELECT sleep(2) WHERE {x:UInt8} = 1', query_params: { x: 1 }, format: 'JSONEachRow' })
      .then((r) => r.json())
      .then(() => finished.push('long'))
    await new Promise((resolve) => setTimeout(resolve, 200))
    const short = await other.client.query({
      query: 'SELECT {s:String} AS s',
      query_params: { s: 'hi' },
      format: 'JSONEachRow',
    })
    expect(await short.json()).toEqual([{ s: 'hi' }])
    finished.push('short')
    await long
    expect(finished).toEqual(['short', 'long'])
  })
})
