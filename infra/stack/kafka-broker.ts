/**
 * The local Kafka broker: Apache Kafka's own jars from Maven Central, run with the machine's Java
 * in KRaft single-node mode on 127.0.0.1.
 */
import fs from 'node:fs'
import path from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { PROJECT_ROOT, type StackConfig } from '../../schemas/config.schema.ts'
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

export const KAFKA_VERSION = '3.9.1'
const POM = path.join(PROJECT_ROOT, 'infra/kafka/pom.xml')
const TEMPLATE = path.join(PROJECT_ROOT, 'infra/kafka/server.properties')
const LOG4J = path.join(PROJECT_ROOT, 'infra/kafka/log4j.properties')

/**
 * Where the broker's files live. The jars are shared by every broker of this home; `instanceDir`
 * (default `$DUGOUT_HOME/kafka`) holds one broker's data and settings, so a test can run a
 * second, disposable broker without fetching anything again.
 */
export function kafkaPaths(home: string, instanceDir = path.join(home, 'kafka')) {
  const root = path.join(home, 'kafka')
  return {
    root,
    libs: path.join(root, KAFKA_VERSION, 'libs'),
    installed: path.join(root, KAFKA_VERSION, '.installed'),
    data: path.join(instanceDir, 'data'),
    properties: path.join(instanceDir, 'server.properties'),
    mavenRepo: path.join(home, 'm2'),
  }
}

/** Fetches the broker jars with Maven once; later calls return at once. */
export async function installKafka(home: string, say: (line: string) => void): Promise<void> {
  const p = kafkaPaths(home)
  if (fs.existsSync(p.installed)) return
  say(`kafka: fetching Apache Kafka ${KAFKA_VERSION} from Maven Central (first run only)`)
  fs.mkdirSync(p.libs, { recursive: true })
  await run('mvn', [
    '-q',
    '-B',
    '-f',
    POM,
    `-Dmaven.repo.local=${p.mavenRepo}`,
    'dependency:copy-dependencies',
    `-DoutputDirectory=${p.libs}`,
    '-DincludeScope=runtime',
  ])
  fs.writeFileSync(p.installed, new Date().toISOString())
}

export const kafkaClasspath = (home: string) => `${kafkaPaths(home).libs}/*`

function javaArgs(home: string, heap: string, mainClass: string, args: string[]): string[] {
  return [
    `-Xmx${heap}`,
    `-Xms${heap === '512m' ? '256m' : heap}`,
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${LOG4J}`,
    '-cp',
    kafkaClasspath(home),
    mainClass,
    ...args,
  ]
}

/** Starts the broker unless it is already running; formats its storage on first start. */
export async function startKafka(
  config: StackConfig,
  paths: ProcessPaths,
  say: (line: string) => void,
  instanceDir?: string,
): Promise<void> {
  const home = config.DUGOUT_HOME
  if (runningProcess(paths, 'kafka')) return
  const p = kafkaPaths(home, instanceDir)
  fs.mkdirSync(path.dirname(p.properties), { recursive: true })
  const properties = fs
    .readFileSync(TEMPLATE, 'utf8')
    .replaceAll('${PORT}', String(config.DUGOUT_KAFKA_PORT))
    .replaceAll('${CONTROLLER_PORT}', String(config.DUGOUT_KAFKA_CONTROLLER_PORT))
    .replaceAll('${DATA_DIR}', p.data)
  fs.writeFileSync(p.properties, properties)
  if (!fs.existsSync(path.join(p.data, 'meta.properties'))) {
    say('kafka: formatting KRaft storage (first run only)')
    const clusterId = (await run('java', javaArgs(home, '128m', 'kafka.tools.StorageTool', ['random-uuid'])))
      .trim()
      .split('\n')
      .pop()!
    await run(
      'java',
      javaArgs(home, '128m', 'kafka.tools.StorageTool', ['format', '-t', clusterId, '-c', p.properties]),
    )
  }
  say(`kafka: starting broker on 127.0.0.1:${config.DUGOUT_KAFKA_PORT} (log ${logFile(paths, 'kafka')})`)
  startDetached(paths, 'kafka', 'java', javaArgs(home, config.DUGOUT_KAFKA_HEAP, 'kafka.Kafka', [p.properties]), {
    marker: p.properties,
  })
}

/** Resolves once the broker answers a metadata request. */
export async function waitForKafka(brokers: string[], timeoutMs: number, paths: ProcessPaths): Promise<void> {
  await waitFor(
    'Kafka',
    timeoutMs,
    unlessExited(paths, 'kafka', () => kafkaAnswers(brokers)),
    () => `--- last lines of the Kafka log:\n${logTail(paths, 'kafka')}`,
  )
}

export async function kafkaAnswers(brokers: string[]): Promise<boolean> {
  const admin = new Kafka({
    brokers,
    clientId: 'dugout-stack-probe',
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 0 },
  }).admin()
  try {
    await admin.connect()
    const cluster = await admin.describeCluster()
    return cluster.brokers.length > 0
  } catch {
    return false
  } finally {
    await admin.disconnect().catch(() => undefined)
  }
}
