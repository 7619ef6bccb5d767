/**
 * A fault-injection run: `dugout run` (every service, embedded chDB) ingesting the events of
 * several demo orgs while faults strike at random points, then the ledger checked against the
 * event store and every report against a rebuild from scratch (ledger.ts).
 *
 * The run starts everything it breaks itself, on free ports: its own Kafka broker, its own
 * Temporal dev server, its own `dugout run` with its own data folder (on a tmpfs of its own when
 * the machine allows mounting, so that the folder can be made full or read-only). The shared
 * stack is never touched. It acts as the supervisor a production host would have: a `dugout run`
 * that exits, or whose /healthz fails for 20 s, is restarted.
 *
 * Faults (each logged with its time, its detail and the recovery time after it, that is the time
 * from the repair until ingest commits offsets again or has nothing left to commit):
 * - `dugout-kill`: SIGKILL of `dugout run` at a random instant, then restart;
 * - `dugout-kill-uncommitted`: SIGKILL the moment ingest logs "batch stored, not yet committed";
 * - `worker-kill-mid-activity`: SIGKILL while a metrics activity is started (Temporal says so);
 * - `dugout-kill-writes-failing`: the data folder made read-only, SIGKILL once ingest reports its
 *   insert failing, then the folder restored and the process restarted: a batch whose offsets
 *   were committed before its insert (the ordering the design forbids) is lost here, every time;
 * - `broker-restart`: SIGKILL of the run's Kafka broker, restart after a pause;
 * - `temporal-restart`: SIGKILL of the run's Temporal server, restart after a pause;
 * - `process-stall`: SIGSTOP of `dugout run` for a few seconds (every write in flight, ClickHouse's
 *   included, stalls; Kafka may move its partitions), then SIGCONT;
 * - `disk-readonly` / `disk-full`: the engine's data folder remounted read-only, or filled, for a
 *   few seconds (ClickHouse writes fail), then cleared.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Client, Connection } from '@temporalio/client'
import { logLevel, type Admin, type Kafka } from 'kafkajs'
import { startKafka, waitForKafka } from '../../infra/stack/kafka-broker.ts'
import { runningProcess, startDetached, stopProcess, type ProcessPaths } from '../../infra/stack/processes.ts'
import { temporalPaths, TIMER_MAX_TIME_SHIFT, waitForTemporal } from '../../infra/stack/temporal-server.ts'
import { loadConfig, PROJECT_ROOT, type DugoutConfig } from '../../schemas/config.schema.ts'
import type { CrmEvent } from '../../schemas/events.schema.ts'
import { waitForOrgMetrics } from '../../services/cli/metrics-wait.ts'
import { createClickHouse } from '../../services/clickhouse/clickhouse-client.ts'
import { generateOrg } from '../../services/demo/org-generator.ts'
import { createEventProducer } from '../../services/kafka/event-producer.ts'
import { createKafka, dugoutTopics, ensureTopics } from '../../services/kafka/kafka-client.ts'
import { committedAll } from '../../services/kafka/consumer-progress.ts'
import { REPORT_NAMES } from '../../services/reports/report-definitions.ts'
import { localApiKeyPath } from '../../services/runtime/local-api-key.ts'
import { freePort } from '../../infra/stack/processes.ts'
import { orgMetricsWorkflowId } from '../../workflows/org-metrics-workflow.ts'
import { prng } from '../support/synthetic-events.ts'
import {
  ANOMALIES,
  checkStore,
  compareReports,
  createLedger,
  ledgerProducer,
  type StoreCheck,
  type StoredEvent,
} from './ledger.ts'

export const FAULT_KINDS = [
  'dugout-kill',
  'dugout-kill-uncommitted',
  'worker-kill-mid-activity',
  'dugout-kill-writes-failing',
  'broker-restart',
  'temporal-restart',
  'process-stall',
  'disk-readonly',
  'disk-full',
] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

export interface FaultRunOptions {
  /** Demo orgs, each `managers` × `repsPerManager` over `weeks` (events: about 3,000 per rep-week… see estimateEventCount). */
  orgs: number
  managers: number
  repsPerManager: number
  weeks: number
  /** Faults in all; SIGKILLs of `dugout run` at least `minDugoutKills` of them. */
  faults: number
  minDugoutKills: number
  /** Seconds over which the events are produced, so that they flow while faults strike. */
  produceSeconds: number
  seed: number
  say: (line: string) => void
  /** Longest wait for the pipeline to settle after the faults. */
  settleTimeoutMs?: number
  /** Kinds left out (the short run leaves out what needs more than its 90 s). */
  exclude?: readonly FaultKind[]
  /**
   * Whether the worker runs while faults strike (default true). Without it, `dugout run --only
   * collector,ingest,reports` takes the faults and a whole `dugout run` computes the metrics
   * after them, from the signals ingest sent: a run that cannot wait for an activity killed
   * mid-flight (retried after its 10-minute start-to-close timeout) still checks the signals.
   */
  workerDuringFaults?: boolean
}

export interface FaultRecord {
  index: number
  kind: FaultKind
  /** Seconds since the run started, and the wall clock, when the fault struck. */
  atSeconds: number
  at: string
  detail: string
  /** Seconds from the repair until ingest committed again (or had nothing left). */
  recoverySeconds: number | null
}

export interface FaultRunResult {
  seconds: number
  orgs: string[]
  events: number
  faults: FaultRecord[]
  restarts: { supervisor: number }
  store: StoreCheck
  ledgerSends: number
  reportRows: number
  metricMismatches: string[]
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The faults of a run, in a random order: every kind once if room allows, the rest SIGKILLs. */
export function faultSchedule(
  options: Pick<FaultRunOptions, 'faults' | 'minDugoutKills' | 'exclude'>,
  random: () => number,
  diskFaults: boolean,
): FaultKind[] {
  const others = FAULT_KINDS.filter(
    (k) =>
      k !== 'dugout-kill' &&
      k !== 'dugout-kill-uncommitted' &&
      !(options.exclude ?? []).includes(k) &&
      (diskFaults || k !== 'disk-full'),
  )
  const kinds: FaultKind[] = others.slice(0, Math.max(0, options.faults - options.minDugoutKills))
  // A worker killed mid-activity, or while writes fail, is a SIGKILL of `dugout run` too.
  let kills = kinds.filter((k) => k === 'worker-kill-mid-activity' || k === 'dugout-kill-writes-failing').length
  while (kinds.length < options.faults || kills < options.minDugoutKills) {
    kinds.push(kills % 2 === 0 ? 'dugout-kill-uncommitted' : 'dugout-kill')
    kills++
  }
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!]
  }
  return kinds
}

// ---- The processes the run owns ---------------------------------------------------------------

/** `dugout run` as a child, its output kept as a tail, with watchers on its lines. */
class DugoutChild {
  child: ChildProcess | undefined
  private tail = ''
  private watchers: { text: string; then: () => void }[] = []
  /** Set while the run itself kills or stops the process, so the supervisor leaves it alone. */
  intended = false
  starts = 0

  /** The services hosted (`--only`), or all of them. */
  only: string | undefined

  constructor(
    private readonly env: Record<string, string>,
    private readonly port: number,
    /** The user to run as: not root, so that a folder without write permission stops it. */
    private readonly user: { uid: number; gid: number } | undefined,
  ) {}

  start(): void {
    this.starts++
    this.intended = false
    const args = [path.join(PROJECT_ROOT, 'bin', 'dugout.js'), 'run', ...(this.only ? ['--only', this.only] : [])]
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(this.user ?? {}),
    })
    const take = (data: Buffer) => {
      const text = data.toString()
      // Watchers run in the data handler itself: a SIGKILL lands before the next step's I/O.
      for (const watcher of [...this.watchers]) {
        if (text.includes(watcher.text)) {
          this.watchers.splice(this.watchers.indexOf(watcher), 1)
          watcher.then()
        }
      }
      this.tail = (this.tail + text).slice(-200_000)
    }
    child.stdout!.on('data', take)
    child.stderr!.on('data', take)
    this.child = child
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  output(): string {
    return this.tail
  }

  /** Calls `then` on the first line containing `text` from now on. */
  watch(text: string, then: () => void): () => void {
    const watcher = { text, then }
    this.watchers.push(watcher)
    return () => {
      const at = this.watchers.indexOf(watcher)
      if (at >= 0) this.watchers.splice(at, 1)
    }
  }

  signal(signal: NodeJS.Signals): void {
    if (signal === 'SIGKILL' || signal === 'SIGTERM') this.intended = true
    this.child?.kill(signal)
  }

  async exited(): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    await new Promise<void>((resolve) => child.once('exit', () => resolve()))
  }

  async ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (!this.running) throw new Error(`dugout run exited; its last lines:\n${this.tail.slice(-4000)}`)
      try {
        const response = await fetch(`http://127.0.0.1:${this.port}/readyz`)
        if (response.ok) return
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`dugout run not ready in ${timeoutMs} ms:\n${this.tail.slice(-4000)}`)
      await sleep(250)
    }
  }
}

interface OwnServer {
  paths: ProcessPaths
  start(): Promise<void>
  kill(): Promise<void>
}

function killGroup(paths: ProcessPaths, name: string): number | undefined {
  const recorded = runningProcess(paths, name)
  if (!recorded) return undefined
  try {
    process.kill(-recorded.pid, 'SIGKILL')
  } catch {
    process.kill(recorded.pid, 'SIGKILL')
  }
  return recorded.pid
}

async function gone(paths: ProcessPaths, name: string): Promise<void> {
  for (let i = 0; i < 200 && runningProcess(paths, name); i++) await sleep(50)
}

async function ownBroker(instance: string, base: DugoutConfig): Promise<OwnServer & { brokers: string[] }> {
  const port = await freePort()
  const config = {
    ...base,
    DUGOUT_KAFKA_PORT: port,
    DUGOUT_KAFKA_CONTROLLER_PORT: await freePort(),
    DUGOUT_KAFKA_HEAP: '384m',
    KAFKA_BROKERS: [`127.0.0.1:${port}`],
  }
  const paths: ProcessPaths = { runDir: path.join(instance, 'kafka-run'), logDir: path.join(instance, 'logs') }
  return {
    paths,
    brokers: config.KAFKA_BROKERS,
    async start() {
      await startKafka(config, paths, () => undefined, path.join(instance, 'kafka'))
      await waitForKafka(config.KAFKA_BROKERS, 120_000, paths)
    },
    async kill() {
      killGroup(paths, 'kafka')
      await gone(paths, 'kafka')
    },
  }
}

async function ownTemporal(instance: string, base: DugoutConfig): Promise<OwnServer & { address: string }> {
  const port = await freePort()
  const uiPort = await freePort()
  const address = `127.0.0.1:${port}`
  const paths: ProcessPaths = { runDir: path.join(instance, 'temporal-run'), logDir: path.join(instance, 'logs') }
  // The CLI installed by the shared stack; the database file is the run's own.
  const cli = temporalPaths(base.DUGOUT_HOME).cli
  const db = path.join(instance, 'temporal.db')
  return {
    paths,
    address,
    async start() {
      startDetached(
        paths,
        'temporal',
        cli,
        [
          'server',
          'start-dev',
          '--ip',
          '127.0.0.1',
          '--port',
          String(port),
          '--ui-port',
          String(uiPort),
          '--db-filename',
          db,
          '--log-level',
          'warn',
          '--dynamic-config-value',
          `history.timerProcessorMaxTimeShift=${JSON.stringify(TIMER_MAX_TIME_SHIFT)}`,
        ],
        { marker: db },
      )
      await waitForTemporal(address, 120_000, paths)
    },
    async kill() {
      killGroup(paths, 'temporal')
      await gone(paths, 'temporal')
    },
  }
}

/** A tmpfs of its own for the engine's data, when this machine lets us mount one. */
function dataDisk(dir: string, bytes: number): { mounted: boolean; release(): void } {
  fs.mkdirSync(dir, { recursive: true })
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir]).status === 0
  return {
    mounted,
    release() {
      if (mounted) spawnSync('umount', ['-l', dir])
    },
  }
}

// ---- The run ----------------------------------------------------------------------------------

export async function runFaults(options: FaultRunOptions): Promise<FaultRunResult> {
  const { say } = options
  const random = prng(options.seed)
  const base = loadConfig(process.env)
  const started = Date.now()
  const elapsed = () => (Date.now() - started) / 1000
  const log = (line: string) => say(`[${elapsed().toFixed(1).padStart(6)} s] ${line}`)
  const instance = fs.mkdtempSync(path.join(os.tmpdir(), 'dugout-faults-'))
  const disk = dataDisk(path.join(instance, 'data'), 3 * 1024 ** 3)
  const chdbPath = path.join(instance, 'data', 'chdb')
  // As root, `dugout run` runs as nobody: root writes through any permission, so a folder made
  // read-only would stop nothing. Its home (the local API key) is the run's own.
  const user = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined
  const home = path.join(instance, 'home')
  for (const dir of [chdbPath, home]) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
    if (user) fs.chownSync(dir, user.uid, user.gid)
  }
  fs.chmodSync(instance, 0o755)
  const broker = await ownBroker(instance, base)
  const temporal = await ownTemporal(instance, base)
  const suffix = `${process.pid}-${Date.now().toString(36)}`
  const httpPort = await freePort()
  const env: Record<string, string> = {
    LOG_LEVEL: 'debug',
    KAFKA_BROKERS: broker.brokers.join(','),
    TEMPORAL_ADDRESS: temporal.address,
    KAFKA_EVENTS_TOPIC: `faults.events.${suffix}`,
    KAFKA_DLQ_TOPIC: `faults.dlq.${suffix}`,
    KAFKA_CONSUMER_GROUP: `faults-group-${suffix}`,
    KAFKA_PARTITIONS: '3',
    KAFKA_SESSION_TIMEOUT_MS: '6000',
    TEMPORAL_TASK_QUEUE: `faults-queue-${suffix}`,
    CHDB_PATH: chdbPath,
    DUGOUT_HTTP_PORT: String(httpPort),
    DUGOUT_HTTP_HOST: '127.0.0.1',
    DUGOUT_HOME: home,
    HOME: home,
  }
  const config: DugoutConfig = loadConfig({ ...process.env, ...env })
  const dugout = new DugoutChild(env, httpPort, user)
  const workerDuringFaults = options.workerDuringFaults ?? true
  if (!workerDuringFaults) dugout.only = 'collector,ingest,reports'
  let kafka: Kafka | undefined
  let admin: Admin | undefined
  let connection: Connection | undefined
  let stopSupervisor = false
  let supervisorRestarts = 0
  const cleanups: (() => Promise<unknown>)[] = []

  try {
    log(
      `instance ${instance}; data folder ${disk.mounted ? 'on a tmpfs of its own' : 'on the disk (no disk-full fault)'}; ` +
        `dugout run as ${user ? 'nobody' : 'this user'}${workerDuringFaults ? '' : ', without its worker while faults strike'}`,
    )
    await Promise.all([broker.start(), temporal.start()])
    log(`own broker ${broker.brokers.join(',')}, own Temporal ${temporal.address}`)
    kafka = createKafka({ ...config, KAFKA_CLIENT_ID: 'fault-run' }, undefined, {
      logLevel: logLevel.NOTHING,
      retry: { initialRetryTime: 200, retries: 5 },
    })
    await ensureTopics(kafka, dugoutTopics(config))
    connection = await Connection.connect({ address: temporal.address })
    const temporalClient = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE })

    // Events: demo orgs, interleaved, in sends of 500 (each send a few orgs, as a busy collector).
    const orgs = Array.from({ length: options.orgs }, (_, i) => `faults-${suffix}-o${i}`.toLowerCase().slice(-40))
    const start = '2026-01-05'
    const streams = orgs.map((org, i) => [
      ...generateOrg({
        org,
        managers: options.managers,
        repsPerManager: options.repsPerManager,
        weeks: options.weeks,
        seed: options.seed * 100 + i,
        start,
      }),
    ])
    const events: CrmEvent[] = []
    for (let i = 0; streams.some((s) => i < s.length); i++)
      for (const s of streams) if (i < s.length) events.push(s[i]!)
    const to = new Date(Date.parse(`${start}T00:00:00Z`) + (options.weeks * 7 - 1) * 86_400_000)
      .toISOString()
      .slice(0, 10)
    log(`${events.length} events of ${orgs.length} orgs (${start} to ${to}), produced over ${options.produceSeconds} s`)

    dugout.start()
    await dugout.ready(180_000)
    const localKey = fs.readFileSync(localApiKeyPath(home), 'utf8').trim()
    log(`dugout run ready on port ${httpPort}`)

    // The supervisor: restarts a `dugout run` that died, or whose /healthz fails for 20 s.
    let unhealthySince: number | undefined
    let faultInProgress = false
    const supervisor = (async () => {
      while (!stopSupervisor) {
        await sleep(1000)
        if (faultInProgress) continue
        if (!dugout.running && !dugout.intended) {
          supervisorRestarts++
          log(`supervisor: dugout run exited (${dugout.child?.exitCode ?? dugout.child?.signalCode}); restarting`)
          dugout.start()
          continue
        }
        if (!dugout.running) continue
        const healthy = await fetch(`http://127.0.0.1:${httpPort}/healthz`)
          .then((r) => r.ok)
          .catch(() => true)
        if (healthy) unhealthySince = undefined
        else if (unhealthySince === undefined) unhealthySince = Date.now()
        else if (Date.now() - unhealthySince > 20_000) {
          supervisorRestarts++
          log('supervisor: /healthz failing for 20 s; SIGKILL and restart')
          unhealthySince = undefined
          dugout.signal('SIGKILL')
          await dugout.exited()
          dugout.start()
        }
      }
    })()
    cleanups.push(() => supervisor)

    // The producer: paced over produceSeconds; a send that fails is retried until acknowledged.
    const ledger = createLedger()
    const producer = await createEventProducer(kafka, config)
    cleanups.push(() => producer.disconnect())
    const sender = ledgerProducer(producer, ledger, { retryMs: 500 })
    const SEND = 500
    // A fifth of the events is kept for bursts: each fault of `dugout run` or its data folder
    // comes right after one, so that it strikes while ingest is busy (the paced stream alone may
    // have gone quiet by then).
    const schedule = faultSchedule(options, random, disk.mounted)
    const kills = schedule.filter((k) => k !== 'broker-restart' && k !== 'temporal-restart').length
    const reserve = kills === 0 ? 0 : Math.floor(events.length / 5)
    const paced = events.slice(0, events.length - reserve)
    const bursts = Array.from({ length: kills }, (_, i) =>
      events.slice(
        paced.length + Math.floor((i * reserve) / kills),
        paced.length + Math.floor(((i + 1) * reserve) / kills),
      ),
    )
    const burst = async () => {
      const next = bursts.shift()
      if (!next) return
      for (let i = 0; i < next.length; i += SEND) await sender.send(next.slice(i, i + SEND))
    }
    const sends = Math.ceil(paced.length / SEND)
    const produceStarted = Date.now()
    const producing = (async () => {
      for (let i = 0; i < sends; i++) {
        const due = produceStarted + 1000 * options.produceSeconds * (i / sends)
        if (Date.now() < due) await sleep(due - Date.now())
        await sender.send(paced.slice(i * SEND, (i + 1) * SEND))
      }
      log(`paced producer done: ${ledger.acknowledged.size} distinct events acknowledged in ${ledger.sends} sends`)
    })()

    admin = kafka.admin()
    await admin.connect()
    const committed = async (): Promise<{ committed: bigint; end: bigint } | undefined> => {
      try {
        const [group] = await admin!.fetchOffsets({
          groupId: config.KAFKA_CONSUMER_GROUP,
          topics: [config.KAFKA_EVENTS_TOPIC],
        })
        const ends = await admin!.fetchTopicOffsets(config.KAFKA_EVENTS_TOPIC)
        const sum = (values: string[]) => values.reduce((total, v) => total + BigInt(Math.max(0, Number(v))), 0n)
        return {
          committed: sum(group!.partitions.map((p) => p.offset)),
          end: sum(ends.map((p) => p.high)),
        }
      } catch {
        return undefined
      }
    }
    /** Seconds until ingest commits past where it was at the repair, or has nothing left. */
    const recovery = async (timeoutMs = 180_000): Promise<number | null> => {
      const from = Date.now()
      let before: bigint | undefined
      while (Date.now() - from < timeoutMs) {
        const now = await committed()
        if (now !== undefined) {
          if (now.committed >= now.end && now.end > 0n) return (Date.now() - from) / 1000
          if (before === undefined) before = now.committed
          else if (now.committed > before) return (Date.now() - from) / 1000
        }
        await sleep(200)
      }
      return null
    }

    const killDugout = async (why: string): Promise<string> => {
      const pid = dugout.child?.pid
      dugout.signal('SIGKILL')
      await dugout.exited()
      dugout.start()
      await dugout
        .ready(180_000)
        .catch((error: Error) => log(`dugout run not ready after restart: ${error.message.slice(0, 300)}`))
      return `SIGKILL pid ${pid} ${why}; restarted`
    }
    /** The last log line matching one of `patterns`, as its message (pino JSON lines). */
    const errorLine = (patterns: RegExp[]) => {
      const line = dugout
        .output()
        .split('\n')
        .reverse()
        .find((l) => patterns.some((p) => p.test(l)))
      if (line === undefined) return 'no error line seen'
      try {
        const entry = JSON.parse(line) as { msg?: string; service?: string; step?: string; err?: { message?: string } }
        return `${entry.service ?? ''} ${entry.step ?? ''} "${entry.msg ?? ''}": ${entry.err?.message ?? ''}`
          .replace(/\s+/g, ' ')
          .slice(0, 200)
      } catch {
        return line.slice(0, 200)
      }
    }

    const apply: Record<FaultKind, () => Promise<string>> = {
      'dugout-kill': async () => {
        await burst()
        await sleep(random() * 1500)
        return killDugout('at a random instant, after a burst of events')
      },
      'dugout-kill-uncommitted': async () => {
        let killedAt: number | undefined
        const seen = new Promise<void>((resolve) => {
          const cancel = dugout.watch('batch stored, not yet committed', () => {
            killedAt = Date.now()
            dugout.signal('SIGKILL')
            resolve()
          })
          setTimeout(() => {
            cancel()
            resolve()
          }, 30_000)
        })
        await burst()
        await seen
        if (killedAt === undefined) return killDugout('(no batch between insert and commit within 30 s: killed anyway)')
        await dugout.exited()
        const pid = dugout.child?.pid
        dugout.start()
        await dugout.ready(180_000).catch(() => undefined)
        return `SIGKILL pid ${pid} between insert and offset commit; restarted`
      },
      'worker-kill-mid-activity': async () => {
        await burst()
        const deadline = Date.now() + 30_000
        while (Date.now() < deadline) {
          for (const org of orgs) {
            const described = await temporalClient.workflow
              .getHandle(orgMetricsWorkflowId(org))
              .describe()
              .catch(() => undefined)
            const activity = described?.raw.pendingActivities?.find((a) => Number(a.state) === 2)
            if (activity) {
              return killDugout(`while ${activity.activityType?.name ?? 'an activity'} of ${org} was running`)
            }
          }
          await sleep(50)
        }
        return killDugout('(no activity seen running within 30 s: killed anyway)')
      },
      'dugout-kill-writes-failing': async () => {
        await burst()
        spawnSync('chmod', ['-R', 'a-w', chdbPath])
        let failing = false
        const seen = new Promise<void>((resolve) => {
          const cancel = dugout.watch('ingest step failed', () => {
            failing = true
            resolve()
          })
          setTimeout(() => {
            cancel()
            resolve()
          }, 15_000)
        })
        await seen
        const pid = dugout.child?.pid
        dugout.signal('SIGKILL')
        await dugout.exited()
        spawnSync('chmod', ['-R', 'u+w', chdbPath])
        dugout.start()
        await dugout.ready(180_000).catch(() => undefined)
        return `data folder read-only, SIGKILL pid ${pid} ${failing ? 'while its insert was failing' : '(no failing insert within 15 s)'}; folder restored, restarted`
      },
      'broker-restart': async () => {
        await broker.kill()
        const pause = 2000 + random() * 4000
        await sleep(pause)
        await broker.start()
        return `SIGKILL of the broker, ${(pause / 1000).toFixed(1)} s down; restarted`
      },
      'temporal-restart': async () => {
        await temporal.kill()
        const pause = 1000 + random() * 3000
        await sleep(pause)
        await temporal.start()
        return `SIGKILL of the Temporal server, ${(pause / 1000).toFixed(1)} s down; restarted`
      },
      'process-stall': async () => {
        await burst()
        const pause = 2000 + random() * 6000
        dugout.signal('SIGSTOP')
        await sleep(pause)
        dugout.signal('SIGCONT')
        return `SIGSTOP of dugout run (its ClickHouse writes in flight stall) for ${(pause / 1000).toFixed(1)} s; SIGCONT`
      },
      'disk-readonly': async () => {
        // Write permission taken from the whole folder: files ClickHouse has open stay writable,
        // every new part, log or temporary file is refused (EACCES), as on a read-only mount.
        await burst()
        spawnSync('chmod', ['-R', 'a-w', chdbPath])
        const hold = 3000 + random() * 4000
        await sleep(hold)
        const error = errorLine([/Permission denied/i, /Read-only/i, /EACCES/, /CANNOT_/])
        spawnSync('chmod', ['-R', 'u+w', chdbPath])
        return `data folder read-only for ${(hold / 1000).toFixed(1)} s; error: ${error}`
      },
      'disk-full': async () => {
        const stat = fs.statfsSync(path.join(instance, 'data'))
        const fill = path.join(instance, 'data', 'filler')
        const free = stat.bavail * stat.bsize
        spawnSync('fallocate', ['-l', String(Math.max(0, free - 4096)), fill])
        await burst()
        const hold = 3000 + random() * 4000
        await sleep(hold)
        const error = errorLine([/No space left/i, /NOT_ENOUGH_SPACE/i, /ENOSPC/])
        fs.rmSync(fill, { force: true })
        return `data folder full (${Math.round(free / 1024 ** 2)} MiB filled) for ${(hold / 1000).toFixed(1)} s; error: ${error}`
      },
    }

    if (!user && process.getuid?.() === 0) log('as root without another user: disk-readonly cannot stop a write')
    const records: FaultRecord[] = []
    const gapMs = Math.max(500, (options.produceSeconds * 1000) / (schedule.length + 1))
    for (const [index, kind] of schedule.entries()) {
      await sleep(gapMs * (0.5 + random()))
      const at = new Date()
      const atSeconds = elapsed()
      faultInProgress = true
      let detail: string
      try {
        detail = await apply[kind]()
      } catch (error) {
        detail = `fault failed to apply or repair: ${(error as Error).message.slice(0, 300)}`
      } finally {
        faultInProgress = false
      }
      const recoverySeconds = await recovery()
      const record: FaultRecord = { index: index + 1, kind, atSeconds, at: at.toISOString(), detail, recoverySeconds }
      records.push(record)
      log(
        `fault ${record.index}/${schedule.length} ${kind} at ${record.at}: ${detail}; recovered in ${recoverySeconds === null ? 'never (timeout)' : `${recoverySeconds.toFixed(1)} s`}`,
      )
    }

    await producing
    // Bursts left over (a kill that did not happen), so that every event is sent.
    while (bursts.length > 0) await burst()
    if (!workerDuringFaults) {
      // The faults are over: the whole pipeline, worker included, computes what ingest signalled.
      dugout.signal('SIGTERM')
      await dugout.exited()
      dugout.only = undefined
      dugout.start()
      await dugout.ready(180_000)
      log('dugout run restarted with its worker')
    }
    const settleMs = options.settleTimeoutMs ?? 600_000
    const settled = Date.now()
    for (;;) {
      if (await committedAll(kafka, config.KAFKA_CONSUMER_GROUP, config.KAFKA_EVENTS_TOPIC).catch(() => false)) break
      if (Date.now() - settled > settleMs) throw new Error(`ingest did not commit everything in ${settleMs} ms`)
      await sleep(500)
    }
    log('ingest committed every offset')
    await waitForOrgMetrics(temporalClient, config, orgs, { timeoutMs: settleMs })
    log('every org metrics workflow computed what it was told')

    // Reports as computed while faults struck, then after a rebuild of each org from its events.
    const reports = async (): Promise<Map<string, Record<string, unknown>[]>> => {
      const all = new Map<string, Record<string, unknown>[]>()
      for (const org of orgs) {
        for (const name of REPORT_NAMES) {
          const response = await fetch(
            `http://127.0.0.1:${httpPort}/v1/orgs/${org}/reports/${name}?from=${start}&to=${to}&format=json`,
            { headers: { authorization: `Bearer ${localKey}` } },
          )
          if (!response.ok) throw new Error(`${name} of ${org}: ${response.status} ${await response.text()}`)
          all.set(`${org}/${name}`, (await response.json()) as Record<string, unknown>[])
        }
      }
      return all
    }
    const before = await reports()
    for (const org of orgs) {
      const response = await fetch(`http://127.0.0.1:${httpPort}/v1/orgs/${org}/rebuild`, {
        method: 'POST',
        headers: { authorization: `Bearer ${localKey}`, 'content-type': 'application/json' },
        body: '{}',
      })
      if (response.status !== 202) throw new Error(`rebuild of ${org}: ${response.status} ${await response.text()}`)
      const { workflowId } = (await response.json()) as { workflowId: string }
      await temporalClient.workflow.getHandle(workflowId).result()
    }
    const after = await reports()
    const reportRows = [...before.values()].reduce((sum, rows) => sum + rows.length, 0)
    const metricMismatches = compareReports(before, after)
    log(`reports: ${reportRows} rows over ${before.size} reports, ${metricMismatches.length} differ from the rebuild`)

    stopSupervisor = true
    dugout.signal('SIGTERM')
    await dugout.exited()

    // `dugout run` is gone: the engine's data folder is ours to read.
    const ch = createClickHouse({ ...config, CHDB_PATH: chdbPath })
    let stored: StoredEvent[]
    try {
      const result = await ch.client.query({
        query: `SELECT org_id AS org, event_id AS id, count() AS rows, groupArray(toString(body_hash)) AS hashes
                FROM {db:Identifier}.events WHERE org_id IN {orgs:Array(String)} GROUP BY org_id, event_id`,
        query_params: { db: ch.database, orgs },
        format: 'JSONEachRow',
      })
      stored = (await result.json<StoredEvent & { rows: string | number }>()).map((r) => ({
        ...r,
        rows: Number(r.rows),
      }))
    } finally {
      await ch.close()
    }
    const store = checkStore(ledger, stored)
    log(`store: ${store.stored} events; ${ANOMALIES.map((a) => `${a} ${store.counts[a]}`).join(', ')}`)
    return {
      seconds: elapsed(),
      orgs,
      events: events.length,
      faults: records,
      restarts: { supervisor: supervisorRestarts },
      store,
      ledgerSends: ledger.sends,
      reportRows,
      metricMismatches,
    }
  } finally {
    stopSupervisor = true
    if (dugout.running) {
      dugout.signal('SIGKILL')
      await dugout.exited()
    }
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined)
    await admin?.disconnect().catch(() => undefined)
    await connection?.close().catch(() => undefined)
    await broker.kill().catch(() => undefined)
    await temporal.kill().catch(() => undefined)
    await stopProcess(broker.paths, 'kafka', 1000).catch(() => undefined)
    disk.release()
    if (process.env.DUGOUT_FAULTS_KEEP !== '1') fs.rmSync(instance, { recursive: true, force: true })
    else say(`kept ${instance} (DUGOUT_FAULTS_KEEP=1)`)
  }
}

/** The run's table: faults by kind, events, anomalies, mismatches, and each fault's recovery. */
export function formatFaultTable(result: FaultRunResult): string {
  const n = (value: number) => value.toLocaleString('en-US')
  const seconds = (value: number | null) => (value === null ? 'never' : `${value.toFixed(1)} s`)
  const lines: string[] = []
  lines.push(
    `fault run: ${result.faults.length} faults, ${n(result.events)} events of ${result.orgs.length} orgs, ${result.seconds.toFixed(0)} s`,
  )
  lines.push('', '| fault kind | faults | mean recovery | max recovery |', '|---|---:|---:|---:|')
  for (const kind of FAULT_KINDS) {
    const of = result.faults.filter((f) => f.kind === kind)
    if (of.length === 0) continue
    const recoveries = of.map((f) => f.recoverySeconds)
    const known = recoveries.filter((r): r is number => r !== null)
    const mean = known.length === 0 ? null : known.reduce((a, b) => a + b, 0) / known.length
    const max = recoveries.includes(null) ? null : Math.max(...known)
    lines.push(`| ${kind} | ${of.length} | ${seconds(mean)} | ${seconds(max)} |`)
  }
  const { store } = result
  lines.push(
    '',
    '| measure | value |',
    '|---|---:|',
    `| events acknowledged by Kafka (distinct) | ${n(store.acknowledged)} |`,
    `| events acknowledged, counting the stream's duplicates and retried sends | ${n(result.ledgerSends)} |`,
    `| events stored (distinct) | ${n(store.stored)} |`,
    `| lost | ${n(store.counts.lost)} |`,
    `| duplicated | ${n(store.counts.duplicated)} |`,
    `| unseen | ${n(store.counts.unseen)} |`,
    `| conflicting | ${n(store.counts.conflicting)} |`,
    `| report rows compared with a rebuild | ${n(result.reportRows)} |`,
    `| metric mismatches | ${n(result.metricMismatches.length)} |`,
    `| supervisor restarts | ${n(result.restarts.supervisor)} |`,
  )
  lines.push('', '| # | at | kind | what happened | recovery |', '|---:|---|---|---|---:|')
  for (const f of result.faults) {
    lines.push(
      `| ${f.index} | ${f.at} (+${f.atSeconds.toFixed(1)} s) | ${f.kind} | ${f.detail.replace(/\|/g, '\\|')} | ${seconds(f.recoverySeconds)} |`,
    )
  }
  for (const anomaly of ANOMALIES) {
    if (store.examples[anomaly].length > 0) lines.push('', `${anomaly}: ${store.examples[anomaly].join('; ')}`)
  }
  if (result.metricMismatches.length > 0)
    lines.push('', `mismatches: ${result.metricMismatches.slice(0, 10).join('\n  ')}`)
  return lines.join('\n')
}

/** Whether a run kept every invariant. */
export function invariantsHeld(result: FaultRunResult): boolean {
  const { counts } = result.store
  return (
    counts.lost === 0 &&
    counts.duplicated === 0 &&
    counts.unseen === 0 &&
    counts.conflicting === 0 &&
    result.metricMismatches.length === 0 &&
    result.store.acknowledged > 0
  )
}
