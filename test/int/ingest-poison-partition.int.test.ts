// A poison batch stops one partition, not the pipeline. One record batch of partition 1 is
// corrupted where the broker keeps it (its log segment on disk: the broker serves the bytes as
// they are, and kafkajs checks no CRC). `dugout run --only ingest` stores every event of the other
// partitions, and of partition 1 up to that batch; it pauses partition 1 there, names it in
// /readyz, the log and a metric, and never moves its offset past the batch. The test runs a broker
// of its own (same jars, its own data folder and ports): its log segments are the test's to edit.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { CompressionTypes } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startKafka, waitForKafka } from '../../infra/stack/kafka-broker.ts'
import { stopProcess, type ProcessPaths } from '../../infra/stack/processes.ts'
import { createClickHouse } from '../../services/clickhouse/clickhouse-client.ts'
import { createKafka, dugoutTopics, ensureTopics } from '../../services/kafka/kafka-client.ts'
import { config, uniqueName } from '../support/env.ts'
import { storeSummary, waitUntil } from '../support/ingest-harness.ts'
import { partitionLogDir } from '../support/kafka-tools.ts'
import { freePort, spawnDugout, type DugoutProcess } from '../support/processes.ts'
import { activityEvent, prng } from '../support/synthetic-events.ts'

const instance = fs.mkdtempSync(path.join(os.tmpdir(), 'dugout-poison-broker-'))
const paths: ProcessPaths = { runDir: path.join(instance, 'run'), logDir: path.join(instance, 'logs') }
let brokers: string[]
let kafka: ReturnType<typeof createKafka>
const children: DugoutProcess[] = []

beforeAll(async () => {
  const port = await freePort()
  const brokerConfig = {
    ...config,
    DUGOUT_KAFKA_PORT: port,
    DUGOUT_KAFKA_CONTROLLER_PORT: await freePort(),
    DUGOUT_KAFKA_HEAP: '256m',
    KAFKA_BROKERS: [`127.0.0.1:${port}`],
  }
  await startKafka(brokerConfig, paths, () => undefined, instance)
  await waitForKafka(brokerConfig.KAFKA_BROKERS, 90_000, paths)
  brokers = brokerConfig.KAFKA_BROKERS
  kafka = createKafka({ ...config, KAFKA_BROKERS: brokers, KAFKA_CLIENT_ID: 'poison-test' })
})
afterAll(async () => {
  for (const child of children) if (child.child.exitCode === null) child.child.kill('SIGKILL')
  await stopProcess(paths, 'kafka', 5000)
  // The test's own broker: its data and logs go with it.
  fs.rmSync(instance, { recursive: true, force: true })
})

/** Flips a byte inside the records of the batch of `partition` that starts at `baseOffset`. */
function corruptBatch(topic: string, partition: number, baseOffset: bigint): void {
  const file = path.join(partitionLogDir(topic, partition, config.DUGOUT_HOME, instance), '00000000000000000000.log')
  const log = fs.readFileSync(file)
  for (let at = 0; at + 12 <= log.length; at += 12 + log.readInt32BE(at + 8)) {
    if (log.readBigInt64BE(at) !== baseOffset) continue
    const target = at + 12 + log.readInt32BE(at + 8) - 5
    const fd = fs.openSync(file, 'r+')
    try {
      fs.writeSync(fd, Buffer.from([log[target]! ^ 0xff]), 0, 1, target)
    } finally {
      fs.closeSync(fd)
    }
    return
  }
  throw new Error(`no batch at offset ${baseOffset} in ${file}`)
}

describe('an undecodable batch in one partition', () => {
  it('pauses that partition at the batch, names it, and the others go on', async () => {
    const id = uniqueName('poison').toLowerCase()
    const env = {
      KAFKA_EVENTS_TOPIC: uniqueName('poison.events'),
      KAFKA_DLQ_TOPIC: uniqueName('poison.dlq'),
      KAFKA_CONSUMER_GROUP: uniqueName('poison-group'),
      KAFKA_PARTITIONS: '3',
      TEMPORAL_TASK_QUEUE: uniqueName('poison-queue'),
      CHDB_PATH: path.join(os.tmpdir(), uniqueName('poison-chdb')),
      DUGOUT_HTTP_PORT: String(await freePort()),
      KAFKA_BROKERS: brokers.join(','),
    }
    const topic = env.KAFKA_EVENTS_TOPIC
    await ensureTopics(kafka, dugoutTopics({ ...config, ...env, KAFKA_PARTITIONS: 3 }))
    const producer = kafka.producer()
    await producer.connect()
    const org = (partition: number) => `${id}-p${partition}`
    const random = prng(17)
    let sent = 0
    // Each send is one record batch per partition: offsets 0-99, 100-199, … in every partition.
    const send = async () => {
      await producer.send({
        topic,
        acks: -1,
        compression: CompressionTypes.GZIP,
        messages: [0, 1, 2].flatMap((partition) =>
          Array.from({ length: 100 }, (_, i) => ({
            partition,
            key: org(partition),
            value: JSON.stringify(activityEvent(org(partition), sent + i, random)),
          })),
        ),
      })
      sent += 100
    }
    for (let i = 0; i < 5; i++) await send()
    corruptBatch(topic, 1, 200n)

    const ingest = spawnDugout(['run', '--only', 'ingest'], { ...env, LOG_LEVEL: 'info' })
    children.push(ingest)
    const base = `http://127.0.0.1:${env.DUGOUT_HTTP_PORT}`
    const readiness = await waitUntil('/readyz to name the stuck partition', async () => {
      if (ingest.child.exitCode !== null) throw new Error(`ingest exited:\n${ingest.output()}`)
      const response = await fetch(`${base}/readyz`).catch(() => undefined)
      const body = (await response?.json().catch(() => undefined)) as
        { details?: { ingest?: { stuckPartitions?: unknown[] } } } | undefined
      return body?.details?.ingest?.stuckPartitions?.length ? { status: response!.status, body } : undefined
    })
    expect(readiness.status).toBe(503)
    expect(readiness.body).toMatchObject({
      status: 'not ready',
      checks: { ingest: false },
      details: {
        ingest: {
          stuckPartitions: [
            { topic, partition: 1, firstOffset: '200', lastOffset: '299', reason: expect.stringMatching(/CRC-32C/) },
          ],
        },
      },
    })

    // The other partitions go on, with events sent after the stop as well.
    await send()
    const admin = kafka.admin()
    await admin.connect()
    const committed = async () =>
      Object.fromEntries(
        (await admin.fetchOffsets({ groupId: env.KAFKA_CONSUMER_GROUP, topics: [topic] }))[0]!.partitions.map((p) => [
          p.partition,
          p.offset,
        ]),
      )
    const offsets = await waitUntil('partitions 0 and 2 committed to their end', async () => {
      const c = await committed()
      return c[0] === '600' && c[2] === '600' ? c : undefined
    })
    await admin.disconnect()
    // Never past the batch it could not read: a restart reads it again.
    expect(offsets).toEqual({ 0: '600', 1: '200', 2: '600' })

    const metrics = await (await fetch(`${base}/metrics`)).text()
    expect(metrics).toContain(`dugout_ingest_partition_stuck{topic="${topic}",partition="1"} 1`)
    expect(metrics).toContain(`dugout_ingest_partition_stuck_offset{topic="${topic}",partition="1"} 200`)
    expect(ingest.output()).toContain(`partition 1 of ${topic} is paused at offset 200`)
    // Stuck is not dead: the process stays alive for the other partitions.
    expect((await fetch(`${base}/healthz`)).status).toBe(200)

    ingest.child.kill('SIGTERM')
    expect(await ingest.exited).toBe(0)
    await producer.disconnect()
    const ch = createClickHouse({ ...config, CHDB_PATH: env.CHDB_PATH })
    try {
      expect((await storeSummary(ch, org(0))).rows).toBe(600)
      expect((await storeSummary(ch, org(1))).rows).toBe(200)
      expect((await storeSummary(ch, org(2))).rows).toBe(600)
    } finally {
      await ch.close()
    }
  })
})
