/** Shared test helpers: the configuration of the local stack and unique names for isolation. */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { loadConfig, type DugoutConfig } from '../../schemas/config.schema.ts'
import { createClickHouse, type ClickHouse } from '../../services/clickhouse/clickhouse-client.ts'

export const config: DugoutConfig = loadConfig(process.env)

/** A name no other test (or run) uses: tests isolate by names, not by cleanup. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`
}

/**
 * A ClickHouse for one test file: the real engine (chDB in a fresh folder of this process, or the
 * server of CLICKHOUSE_URL) with a database of its own.
 */
export function testClickHouse(prefix = 'test'): ClickHouse {
  const folder = path.join(os.tmpdir(), uniqueName('dugout-chdb'))
  const ch = createClickHouse({ ...config, CLICKHOUSE_DATABASE: uniqueName(prefix).toLowerCase(), CHDB_PATH: folder })
  return {
    ...ch,
    // The engine's folder goes with the test file that made it (tens of MiB each, every run).
    async close() {
      await ch.close()
      if (ch.engine === 'chdb') fs.rmSync(folder, { recursive: true, force: true })
    },
  }
}
