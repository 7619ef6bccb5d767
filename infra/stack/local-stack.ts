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
}

export async function stackStatus(config: DugoutConfig): Promise<ServiceStatus[]> {
  const paths = stackPaths(config.DUGOUT_HOME)
  const kafka = runningProcess(paths, 'kafka')
  const temporal = runningProcess(paths, 'temporal')
  const [kafkaOk, temporalOk] = await Promise.all([
    kafkaAnswers(config.KAFKA_BROKERS),
    temporalAnswers(config.TEMPORAL_ADDRESS),
  ])
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
  ]
}

export function formatStatus(statuses: ServiceStatus[]): string {
  return statuses
    .map((s) => {
      const state = s.answering ? 'up' : s.pid ? 'starting or unhealthy' : 'down'
      const mem = s.residentBytes ? `, ${(s.residentBytes / 2 ** 20).toFixed(0)} MiB resident` : ''
      const ui = s.ui ? `\n  ui:      ${s.ui}` : ''
      return `${s.name}: ${state}${s.pid ? ` (pid ${s.pid}${mem})` : ''}\n  version: ${s.version}\n  address: ${s.address}${ui}\n  log:     ${s.log}`
    })
    .join('\n')
}
