/**
 * Rebuild throughput (target ≥ 100,000 events/s): `dugout rebuild --org` over the whole history of
 * the big org's store (`big-org-store.ts`, 10 M events by default), exactly as a user runs it: the
 * worker is its own `dugout run --only worker` process on the store, the CLI starts the rebuild
 * workflow on the local Temporal server and waits for it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { PROJECT_ROOT, type DugoutConfig } from '../schemas/config.schema.ts'
import { openBigOrgStore, type BigOrgStore } from './big-org-store.ts'
import { benchLogLevel, peakRssMiB, printFigures, sleep, tmp, type Figure } from './bench-support.ts'

const TARGET_EVENTS_PER_SECOND = 100_000
/** Seconds between two progress lines of the rebuild (the CLI prints one every second). */
const PROGRESS_EVERY_S = 10

export async function benchRebuild(config: DugoutConfig, store: BigOrgStore): Promise<Figure[]> {
  await clearProjections(config, store)
  const id = Date.now().toString(36)
  const env = {
    ...process.env,
    // The benchmark waits for the info line "service started": only a more verbose level may be asked.
    LOG_LEVEL: benchLogLevel('info'),
    // The store is a chDB folder: a server named in the environment must not be used instead.
    CLICKHOUSE_URL: '',
    CLICKHOUSE_DATABASE: store.database,
    CHDB_PATH: store.chdbPath,
    TEMPORAL_TASK_QUEUE: `bench-rebuild-${id}`,
    DUGOUT_HTTP_PORT: String(18_000 + Math.floor(Math.random() * 1000)),
  }
  const log = `${tmp('rebuild-worker')}.log`
  process.stderr.write(`rebuild: dugout worker process (log ${log})…\n`)
  const worker = await startWorkerProcess(env, log)
  try {
    process.stderr.write(`rebuild: dugout rebuild --org ${store.org} over ${store.events} events…\n`)
    const started = performance.now()
    const done = await runRebuildCommand(env, store.org, worker)
    const wallSeconds = (performance.now() - started) / 1000
    const peak = peakRssMiB(worker.pid!)
    const rate = store.events / done.seconds
    return [
      { name: 'events in the event store (one org)', value: String(store.events) },
      { name: `days rebuilt (${store.firstDay}..${store.lastDay})`, value: String(done.days) },
      { name: 'fact rows written', value: String(done.rows) },
      { name: 'rebuild workflow (s)', value: done.seconds.toFixed(1) },
      { name: 'dugout rebuild wall time (s, with start-up)', value: wallSeconds.toFixed(1) },
      {
        name: 'rebuild throughput (events/s)',
        value: rate.toFixed(0),
        target: `≥ ${TARGET_EVENTS_PER_SECOND.toLocaleString('en-US')}`,
        ok: rate >= TARGET_EVENTS_PER_SECOND,
      },
      { name: 'worker process peak RSS (MiB)', value: peak.toFixed(0) },
    ]
  } finally {
    worker.kill('SIGTERM')
    await new Promise((resolve) => (worker.exitCode === null ? worker.once('exit', resolve) : resolve(null)))
  }
}

export function printRebuild(figures: Figure[]): void {
  printFigures('Rebuild: dugout rebuild --org, event store → metric projections (Temporal worker)', figures)
}

/**
 * Empties every metric table, so that each run rebuilds from nothing (a backfill) instead of
 * over whatever generations earlier runs left, and the runs compare. The worker process must not
 * be up yet: chDB lets one process at a time open the folder.
 */
async function clearProjections(config: DugoutConfig, store: BigOrgStore): Promise<void> {
  const ch = openBigOrgStore(config, store)
  try {
    const result = await ch.client.query({
      query: `SELECT name FROM system.tables WHERE database = {db:String} AND startsWith(name, 'metric_')`,
      query_params: { db: ch.database },
      format: 'JSONEachRow',
    })
    for (const { name } of await result.json<{ name: string }>()) {
      await ch.client.command({
        query: 'TRUNCATE TABLE {db:Identifier}.{table:Identifier}',
        query_params: { db: ch.database, table: name },
      })
    }
  } finally {
    await ch.close()
  }
}

async function startWorkerProcess(env: NodeJS.ProcessEnv, logFile: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/dugout.js'), 'run', '--only', 'worker'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // However the benchmark ends, its child does not outlive it.
  process.once('exit', () => child.kill('SIGKILL'))
  const log = fs.createWriteStream(logFile)
  child.stdout!.pipe(log)
  child.stderr!.pipe(log)
  let output = ''
  child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-100_000)))
  while (!output.includes('"service":"worker","msg":"service started"')) {
    if (child.exitCode !== null) throw new Error(`the worker exited:\n${output}`)
    await sleep(50)
  }
  return child
}

/** Runs `dugout rebuild --org` to its end; returns what it reports: days, fact rows, seconds. */
async function runRebuildCommand(
  env: NodeJS.ProcessEnv,
  org: string,
  worker: ChildProcess,
): Promise<{ days: number; rows: number; seconds: number }> {
  const cli = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/dugout.js'), 'rebuild', '--org', org], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  process.once('exit', () => cli.kill('SIGKILL'))
  let output = ''
  let shownAt = performance.now()
  cli.stderr!.on('data', (d: Buffer) => {
    output += d.toString()
    const line = output.trimEnd().split('\n').pop() ?? ''
    if (line.startsWith('rebuild: ') && performance.now() - shownAt >= PROGRESS_EVERY_S * 1000) {
      process.stderr.write(`${line}\n`)
      shownAt = performance.now()
    }
  })
  const code = await new Promise<number | null>((resolve) => {
    cli.once('exit', resolve)
    worker.once('exit', () => cli.kill('SIGTERM'))
  })
  // `rebuild done: 506 days, 139703 fact rows in 48.2 s`, timed by the CLI from the workflow's start.
  const done = /rebuild done: (\d+) days, (\d+) fact rows in ([\d.]+) s/.exec(output)
  if (code !== 0 || !done) throw new Error(`dugout rebuild failed (exit ${code}):\n${output.slice(-4000)}`)
  process.stderr.write(`${done[0]}\n`)
  return { days: Number(done[1]), rows: Number(done[2]), seconds: Number(done[3]) }
}
