// Fault: the ingest process is killed with SIGKILL right after ClickHouse acknowledged a batch and
// before its offsets were committed, three times, then restarted. Nothing is lost and nothing is
// stored twice (physical rows, before any merge).
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createClickHouse } from '../../services/clickhouse/clickhouse-client.ts'
import { createEventProducer } from '../../services/kafka/event-producer.ts'
import { dugoutTopics, ensureTopics, createKafka } from '../../services/kafka/kafka-client.ts'
import { config, uniqueName } from '../support/env.ts'
import { checksumOf, committedAll, storeSummary, streamWithDuplicates, waitUntil } from '../support/ingest-harness.ts'
import { freePort, spawnDugout, type DugoutProcess } from '../support/processes.ts'

const kafka = createKafka({ ...config, KAFKA_CLIENT_ID: 'crash-test' })
const children: DugoutProcess[] = []
afterAll(async () => {
  for (const child of children) if (child.child.exitCode === null) child.child.kill('SIGKILL')
})

describe('ingest killed between insert and commit', () => {
  it('loses nothing and stores nothing twice', async () => {
    const org = uniqueName('crash').toLowerCase()
    const env = {
      LOG_LEVEL: 'debug',
      KAFKA_EVENTS_TOPIC: uniqueName('crash.events'),
      KAFKA_DLQ_TOPIC: uniqueName('crash.dlq'),
      KAFKA_CONSUMER_GROUP: uniqueName('crash-group'),
      KAFKA_PARTITIONS: '3',
      // Kafka's minimum: a killed member's partitions go to the next process within seconds.
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      TEMPORAL_TASK_QUEUE: uniqueName('crash-queue'),
      CHDB_PATH: path.join(os.tmpdir(), uniqueName('crash-chdb')),
    }
    const topicConfig = { ...config, ...env, KAFKA_PARTITIONS: 3 }
    await ensureTopics(kafka, dugoutTopics(topicConfig))
    const producer = await createEventProducer(kafka, topicConfig)
    const { unique, messages } = streamWithDuplicates(org, 40_000, 11)
    // The stream is sent in four parts, one before each process starts: a process killed late
    // may have committed all it was sent, and the next one then still has a part to store (and
    // to be killed in). Small produce batches make many small fetch batches within a part.
    const part = Math.ceil(messages.length / 4 / 500) * 500
    const sendPart = async (k: number) => {
      const slice = messages.slice(k * part, (k + 1) * part)
      for (let i = 0; i < slice.length; i += 500) await producer.send(slice.slice(i, i + 500))
    }

    const run = async () =>
      spawnDugout(['run', '--only', 'ingest'], { ...env, DUGOUT_HTTP_PORT: String(await freePort()) })
    let kills = 0
    for (; kills < 3; kills++) {
      await sendPart(kills)
      const ingest = await run()
      await waitUntil(
        'a batch stored and not yet committed',
        async () => {
          if (ingest.child.exitCode !== null) throw new Error(`ingest exited with ${ingest.child.exitCode}`)
          return ingest.output().includes('batch stored, not yet committed') ? true : undefined
        },
        60_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}; ingest printed:\n${ingest.output().slice(-3000)}`)
      })
      ingest.child.kill('SIGKILL')
      await ingest.exited
    }

    await sendPart(3)
    await producer.disconnect()
    const ingest = await run()
    await waitUntil(
      'every offset committed',
      async () => ((await committedAll(kafka, env.KAFKA_CONSUMER_GROUP, env.KAFKA_EVENTS_TOPIC)) ? true : undefined),
      180_000,
    )
    // The killed processes may have committed everything already: stop this one once it is up
    // (a SIGTERM before `dugout run` listens for it is the default one, which kills).
    await waitUntil('the last ingest running', async () =>
      ingest.output().includes('dugout is running') ? true : undefined,
    )
    ingest.child.kill('SIGTERM')
    expect(await ingest.exited).toBe(0)

    // The killed processes are gone: the engine's data folder is ours to read now.
    const ch = createClickHouse({ ...config, CHDB_PATH: env.CHDB_PATH })
    try {
      const summary = await storeSummary(ch, org)
      expect(kills).toBe(3)
      expect(summary.rows).toBe(unique.length)
      expect(summary.unique_ids).toBe(unique.length)
      expect(summary.checksum).toBe(checksumOf(unique))
    } finally {
      await ch.close()
    }
  })
})
