// The CLI works out of the box against the services on the same machine: `dugout run` creates the
// local key in $DUGOUT_HOME (mode 0600, once), and `dugout report` / `dugout org` send it, with no
// key configured anywhere. Without that key the same commands are refused, saying why.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  ensureLocalApiKey,
  LOCAL_API_KEY_FILE,
  LocalApiKeyError,
  readLocalApiKey,
} from '../../services/runtime/local-api-key.ts'
import { uniqueName } from '../support/env.ts'
import { freePort, spawnDugout, waitForHttp, type DugoutProcess } from '../support/processes.ts'

const SECONDS = 120_000
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'dugout-home-'))
let env: Record<string, string>
let host: DugoutProcess | undefined

/** A CLI command as a user types it: a child process with the same environment as the host. */
async function dugout(args: string[], overrides: Record<string, string> = {}) {
  const command = spawnDugout(args, { ...env, ...overrides })
  return { code: await command.exited, output: command.output() }
}

beforeAll(async () => {
  const port = await freePort()
  env = {
    DUGOUT_HOME: home,
    DUGOUT_HTTP_PORT: String(port),
    // The embedded engine, whose folder the host owns: the CLI must go through the HTTP API.
    CLICKHOUSE_URL: '',
    DUGOUT_API_KEYS: '',
    TEMPORAL_TASK_QUEUE: uniqueName('cli-key-queue'),
  }
  host = spawnDugout(['run', '--only', 'reports'], env)
  await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000, host)
}, SECONDS)

afterAll(async () => {
  if (host && host.child.exitCode === null) {
    host.child.kill('SIGTERM')
    await host.exited
  }
})

describe('the CLI against dugout run, with no key configured', () => {
  it('finds the local key that dugout run created, readable by its user only, and never printed', async () => {
    const file = path.join(home, LOCAL_API_KEY_FILE)
    expect(fs.statSync(file).mode & 0o777).toBe(0o600)
    const key = fs.readFileSync(file, 'utf8').trim()
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const config = await dugout(['config'])
    expect(config.code).toBe(0)
    expect(config.output + host!.output()).not.toContain(key)
  })

  it(
    'sets and shows an org (admin, read) and prints a report (read)',
    async () => {
      const set = await dugout(['org', 'set', 'acme', '--timezone', 'Europe/Paris'])
      expect(set.output).toContain('"timezone": "Europe/Paris"')
      expect(set.code).toBe(0)
      const show = await dugout(['org', 'show', 'acme'])
      expect(show.output).toContain('"timezone": "Europe/Paris"')
      expect(show.code).toBe(0)
      // An org without data has an empty report: there is no org registry to refuse it.
      const report = await dugout([
        'report',
        'rep-volume',
        '--org',
        'acme',
        '--from',
        '2026-03-01',
        '--to',
        '2026-03-07',
        '--format',
        'json',
      ])
      expect(report.code).toBe(0)
      expect(report.output.trim()).toMatch(/\[\s*\]$/)
    },
    SECONDS,
  )

  it(
    'names the parameter and its rule when the services refuse one',
    async () => {
      const show = await dugout(['org', 'show', 'Acme'])
      expect(show.code).toBe(1)
      expect(show.output).toContain('org: must contain only lower-case letters, digits, "_" and "-" (got "Acme")')
    },
    SECONDS,
  )

  it(
    'is refused without the local key, and says where the key should be',
    async () => {
      const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'dugout-home-'))
      const show = await dugout(['org', 'show', 'acme'], { DUGOUT_HOME: elsewhere })
      expect(show.code).toBe(1)
      expect(show.output).toContain('an API key is required')
      expect(show.output).toContain(`${path.join(elsewhere, LOCAL_API_KEY_FILE)} does not exist`)
    },
    SECONDS,
  )
})

describe('the local key file', () => {
  it('is created once and reused by every host of the same DUGOUT_HOME', () => {
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'dugout-home-'))
    const first = ensureLocalApiKey(fresh)
    expect(ensureLocalApiKey(fresh)).toBe(first)
    expect(readLocalApiKey(fresh)).toBe(first)
    expect(fs.readdirSync(fresh)).toEqual([LOCAL_API_KEY_FILE])
  })

  it('is refused when other users can read it: its key opens every org', () => {
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'dugout-home-'))
    ensureLocalApiKey(fresh)
    fs.chmodSync(path.join(fresh, LOCAL_API_KEY_FILE), 0o644)
    expect(() => readLocalApiKey(fresh)).toThrow(LocalApiKeyError)
    expect(() => ensureLocalApiKey(fresh)).toThrow(/chmod 600/)
  })
})
