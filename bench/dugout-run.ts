/**
 * A `dugout run` of a benchmark's own (every service in one process, as a user runs it) on the
 * shared Kafka and Temporal, with a topic, consumer group, task queue and chDB store of its own.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { PROJECT_ROOT, type DugoutConfig } from '../schemas/config.schema.ts'
import { dugoutTopics, ensureTopics } from '../services/kafka/kafka-client.ts'
import type { Kafka } from 'kafkajs'
import { benchLogLevel, sleep, tmp } from './bench-support.ts'

export interface DugoutRun {
  child: ChildProcess
  /** The environment of the run: what a `dugout` command beside it needs. */
  env: NodeJS.ProcessEnv
  /** The config with the run's topics, for a producer beside it. */
  topicConfig: DugoutConfig
  base: string
  logPath: string
  stop(): Promise<void>
}

export async function startDugoutRun(
  config: DugoutConfig,
  kafka: Kafka,
  name: string,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<DugoutRun> {
  const id = Date.now().toString(36)
  const topic = `bench.${name}.${id}`
  const chdbPath = tmp(`${name}-chdb`)
  const port = 18_000 + Math.floor(Math.random() * 1000)
  const env = {
    ...process.env,
    LOG_LEVEL: benchLogLevel('warn'),
    KAFKA_EVENTS_TOPIC: topic,
    KAFKA_DLQ_TOPIC: `${topic}.dlq`,
    KAFKA_CONSUMER_GROUP: `bench-${name}-${id}`,
    TEMPORAL_TASK_QUEUE: `bench-${name}-${id}`,
    CHDB_PATH: chdbPath,
    DUGOUT_HTTP_PORT: String(port),
    ...extraEnv,
  }
  const topicConfig = { ...config, KAFKA_EVENTS_TOPIC: topic, KAFKA_DLQ_TOPIC: `${topic}.dlq` }
  await ensureTopics(kafka, dugoutTopics(topicConfig))
  const logPath = `${tmp(name)}.log`
  const log = fs.openSync(logPath, 'w')
  process.stderr.write(`${name}: process log ${logPath}\n`)
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/dugout.js'), 'run'], {
    env,
    stdio: ['ignore', log, log],
  })
  // However the benchmark ends, its child does not outlive it.
  process.once('exit', () => child.kill('SIGKILL'))
  const base = `http://127.0.0.1:${port}`
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dugout run exited (see ${logPath})`)
    const ready = await fetch(`${base}/readyz`)
      .then((r) => r.ok)
      .catch(() => false)
    if (ready) break
    await sleep(200)
  }
  return {
    child,
    env,
    topicConfig,
    base,
    logPath,
    async stop() {
      child.kill('SIGTERM')
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve))
      fs.rmSync(chdbPath, { recursive: true, force: true })
    },
  }
}
