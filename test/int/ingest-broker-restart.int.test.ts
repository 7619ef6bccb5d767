// Fault: the Kafka broker is killed mid-stream and restarted. This test runs a broker of its own
// (same jars, its own data folder and ports) so the shared one keeps serving the other tests.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startKafka, waitForKafka } from '../../infra/stack/kafka-broker.ts'
import { runningProcess, stopProcess, type ProcessPaths } from '../../infra/stack/processes.ts'
import { config, testClickHouse, uniqueName } from '../support/env.ts'
import {
  checksumOf,
  ingestHarness,
  produceAll,
  storeSummary,
  streamWithDuplicates,
  waitForStored,
  waitUntil,
  type IngestHarness,
} from '../support/ingest-harness.ts'
import { freePort } from '../support/processes.ts'

const ch = testClickHouse('broker')
const instance = fs.mkdtempSync(path.join(os.tmpdir(), 'dugout-broker-'))
const paths: ProcessPaths = { runDir: path.join(instance, 'run'), logDir: path.join(instance, 'logs') }
let brokerConfig: typeof config
let harness: IngestHarness

const startBroker = async () => {
  await startKafka(brokerConfig, paths, () => undefined, instance)
  await waitForKafka(brokerConfig.KAFKA_BROKERS, 90_000, paths)
}

beforeAll(async () => {
  const port = await freePort()
  const controller = await freePort()
  brokerConfig = {
    ...config,
    DUGOUT_KAFKA_PORT: port,
    DUGOUT_KAFKA_CONTROLLER_PORT: controller,
    DUGOUT_KAFKA_HEAP: '256m',
    KAFKA_BROKERS: [`127.0.0.1:${port}`],
  }
  await startBroker()
  harness = await ingestHarness(ch, 'broker', brokerConfig.KAFKA_BROKERS)
})
afterAll(async () => {
  await harness?.close()
  await stopProcess(paths, 'kafka', 5000)
  await ch.close()
  // The test's own broker: its data and logs go with it.
  fs.rmSync(instance, { recursive: true, force: true })
})

describe('Kafka broker killed and restarted mid-stream', () => {
  it('resumes by itself with nothing lost and nothing doubled', async () => {
    const org = uniqueName('broker').toLowerCase()
    const first = streamWithDuplicates(org, 10_000, 31)
    const second = streamWithDuplicates(org, 10_000, 32, 10_000)
    await produceAll(harness.producer, first.messages)
    const ingest = await harness.start()
    await waitUntil('the first events stored', async () => ((await storeSummary(ch, org)).rows > 0 ? true : undefined))

    const broker = runningProcess(paths, 'kafka')!
    process.kill(broker.pid, 'SIGKILL')
    await waitUntil('the broker gone', async () => (runningProcess(paths, 'kafka') ? undefined : true))
    await new Promise((resolve) => setTimeout(resolve, 3000))
    await startBroker()
    await produceAll(harness.producer, second.messages)

    const expected = [...first.unique, ...second.unique]
    const summary = await waitForStored(ch, org, expected)
    expect(summary.rows).toBe(expected.length)
    expect(summary.checksum).toBe(checksumOf(expected))
    await ingest.stop()
  })
})
