/**
 * `dugout stack up | down | status`: installs (once, cached under DUGOUT_HOME) and runs the real
 * Kafka broker and Temporal server natively, and reports on them.
 */
import fs from 'node:fs'
import path from 'node:path'
import type { DugoutConfig } from '../../schemas/config.schema.ts'
import { installKafka, kafkaAnswers, KAFKA_VERSION, startKafka, waitForKafka } from './kafka-broker.ts'
import { logFile, residentBytes, runningProcess, stopProcess, type ProcessPaths } from './processes.ts'
import {
  installTemporal,
  startTemporal,
  temporalAnswers,
  temporalPaths,
  TEMPORAL_CLI_VERSION,
  waitForTemporal,
} from './temporal-server.ts'

export type Say = (line: string) => void

export function stackPaths(home: string): ProcessPaths {
  return { runDir: path.join(home, 'run'), logDir: path.join(home, 'logs') }
}

/** Installs what is missing, starts what is not running, and waits until both services answer. */
export async function stackUp(config: DugoutConfig, say: Say): Promise<void> {
  const paths = stackPaths(config.DUGOUT_HOME)
  fs.mkdirSync(config.DUGOUT_HOME, { recursive: true })
  // The two installs are independent downloads: run them side by side.
  await Promise.all([installKafka(config.DUGOUT_HOME, say), installTemporal(config.DUGOUT_HOME, say)])
  await startKafka(config, paths, say)
  await startTemporal(config, paths, say)
  const timeout = config.DUGOUT_STACK_TIMEOUT_SECONDS * 1000
  await Promise.all([
    waitForKafka(config.KAFKA_BROKERS, timeout, paths).then(() =>
      say(`kafka: ready on ${config.KAFKA_BROKERS.join(',')}`),
    ),
    waitForTemporal(config.TEMPORAL_ADDRESS, timeout, paths).then(() =>
      say(`temporal: ready on ${config.TEMPORAL_ADDRESS}`),
    ),
  ])
}

/** Stops exactly the processes `up` started, by their recorded pids. */
export async function stackDown(
  config: DugoutConfig,
  say: Say,
  names = ['dugout', 'temporal', 'kafka'],
): Promise<void> {
  const paths = stackPaths(config.DUGOUT_HOME)
  for (const name of names) {
    const stopped = await stopProcess(paths, name)
    say(`${name}: ${stopped ? 'stopped' : 'was not running'}`)
  }
}

export interface ServiceStatus {
  name: string
  version: string
  pid: number | null
  answering: boolean
  address: string
  residentBytes: number
  log: string
  ui?: string
  /** What is wrong while it runs: a service stopped for good, a partition stuck. */
  problems?: string[]
}

/** The services' own word on their health (`/healthz`) and readiness (`/readyz`), as lines to show. */
export async function dugoutProblems(baseUrl: string): Promise<{ answering: boolean; problems: string[] }> {
  const get = async (route: string) => {
    const response = await fetch(`${baseUrl}${route}`, { signal: AbortSignal.timeout(2000) })
    return { status: response.status, body: (await response.json().catch(() => ({}))) as Record<string, unknown> }
  }
  try {
    const [health, ready] = await Promise.all([get('/healthz'), get('/readyz')])
    const problems: string[] = []
    const services = (health.body.services ?? {}) as Record<string, { running: boolean; reason?: string }>
    for (const [name, h] of Object.entries(services)) if (!h.running) problems.push(`${name} stopped: ${h.reason}`)
    const details = (ready.body.details ?? {}) as { ingest?: { stuckPartitions?: StuckPartitionView[] } }
    for (const p of details.ingest?.stuckPartitions ?? []) {
      problems.push(
        `ingest: partition ${p.partition} of ${p.topic} is paused at offset ${p.firstOffset} (batch ${p.firstOffset}-${p.lastOffset}: ${p.reason})`,
      )
    }
    const checks = (ready.body.checks ?? {}) as Record<string, boolean>
    for (const [name, ok] of Object.entries(checks)) {
      if (!ok && !problems.some((line) => line.startsWith(name))) problems.push(`${name}: not ready`)
    }
    return { answering: health.status === 200, problems }
  } catch {
    return { answering: false, problems: [] }
  }
}

interface StuckPartitionView {
  topic: string
  partition: number
  firstOffset: string
  lastOffset: string
  reason: string
}

export async function stackStatus(config: DugoutConfig): Promise<ServiceStatus[]> {
  const paths = stackPaths(config.DUGOUT_HOME)
  const kafka = runningProcess(paths, 'kafka')
  const temporal = runningProcess(paths, 'temporal')
  const dugout = runningProcess(paths, 'dugout')
  const httpBase = `http://${config.DUGOUT_HTTP_HOST === '0.0.0.0' ? '127.0.0.1' : config.DUGOUT_HTTP_HOST}:${config.DUGOUT_HTTP_PORT}`
  const [kafkaOk, temporalOk, services] = await Promise.all([
    kafkaAnswers(config.KAFKA_BROKERS),
    temporalAnswers(config.TEMPORAL_ADDRESS),
    dugout ? dugoutProblems(httpBase) : undefined,
  ])
  // The services `dugout up` started, when it did: their health is part of the stack's.
  const dugoutStatus: ServiceStatus[] =
    dugout && services
      ? [
          {
            name: 'dugout',
            version: 'dugout run (all services in one process)',
            pid: dugout.pid,
            answering: services.answering,
            address: httpBase,
            residentBytes: await residentBytes(dugout.pid),
            log: logFile(paths, 'dugout'),
            problems: services.problems,
          },
        ]
      : []
  return [
    {
      name: 'kafka',
      version: `Apache Kafka ${KAFKA_VERSION} (KRaft)`,
      pid: kafka?.pid ?? null,
      answering: kafkaOk,
      address: config.KAFKA_BROKERS.join(','),
      residentBytes: kafka ? await residentBytes(kafka.pid) : 0,
      log: logFile(paths, 'kafka'),
    },
    {
      name: 'temporal',
      version: `Temporal CLI ${TEMPORAL_CLI_VERSION} (server start-dev, ${temporalPaths(config.DUGOUT_HOME).db})`,
      pid: temporal?.pid ?? null,
      answering: temporalOk,
      address: config.TEMPORAL_ADDRESS,
      residentBytes: temporal ? await residentBytes(temporal.pid) : 0,
      log: logFile(paths, 'temporal'),
      ui: `http://127.0.0.1:${config.DUGOUT_TEMPORAL_UI_PORT}`,
    },
    ...dugoutStatus,
  ]
}

export function formatStatus(statuses: ServiceStatus[]): string {
  return statuses
    .map((s) => {
      const state = s.answering ? 'up' : s.pid ? 'starting or unhealthy' : 'down'
      const mem = s.residentBytes ? `, ${(s.residentBytes / 2 ** 20).toFixed(0)} MiB resident` : ''
      const ui = s.ui ? `\n  ui:      ${s.ui}` : ''
      const problems = (s.problems ?? []).map((p) => `\n  problem: ${p}`).join('')
      return `${s.name}: ${state}${s.pid ? ` (pid ${s.pid}${mem})` : ''}\n  version: ${s.version}\n  address: ${s.address}${ui}\n  log:     ${s.log}${problems}`
    })
    .join('\n')
}
