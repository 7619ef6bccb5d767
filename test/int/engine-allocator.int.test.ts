// How the embedded engine's allocator returns memory (CHDB_MALLOC_CONF, docs/scaling.md "Memory"):
// chDB's jemalloc reads its options once, as the library loads, so each case opens the engine in a
// process of its own.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { PROJECT_ROOT } from '../../schemas/config.schema.ts'

/** Opens the engine in a new process, runs one query and prints the allocator's setting. */
function openEngine(env: NodeJS.ProcessEnv) {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'dugout-allocator-'))
  const script = `
    import { loadConfig } from './schemas/config.schema.ts'
    import { createClickHouse } from './services/clickhouse/clickhouse-client.ts'
    const ch = createClickHouse({ ...loadConfig(process.env), CHDB_PATH: ${JSON.stringify(folder)} })
    await (await ch.client.query({ query: 'SELECT 1', format: 'JSONEachRow' })).json()
    process.stdout.write(String(process.env.JE_MALLOC_CONF))
    await ch.close()`
  try {
    return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      encoding: 'utf8',
      timeout: 60_000,
    })
  } finally {
    fs.rmSync(folder, { recursive: true, force: true })
  }
}

describe("the embedded engine's allocator", () => {
  it('returns freed memory after 1 s unless told otherwise', () => {
    const opened = openEngine({})
    expect(opened.stderr).toBe('')
    expect(opened.stdout).toBe('dirty_decay_ms:1000')
  })

  it('takes CHDB_MALLOC_CONF as it is', () => {
    // An option jemalloc does not know, with abort_conf, stops the process as the library loads:
    // proof that the configured value, not the default, reached the allocator.
    const opened = openEngine({ CHDB_MALLOC_CONF: 'abort_conf:true,no_such_option:1' })
    expect(opened.signal).toBe('SIGABRT')
  })
})
