// The host reports a service that stopped for good: /healthz fails (503) naming it and why, so
// that a supervisor restarts the process, and the Prometheus gauge dugout_service_up says 0.
// The service is the real ingest consumer, made to crash on every batch.
import { Client, Connection } from '@temporalio/client'
import os from 'node:os'
import path from 'node:path'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { createEventProducer } from '../../services/kafka/event-producer.ts'
import { createKafka, dugoutTopics, ensureTopics } from '../../services/kafka/kafka-client.ts'
import { createClickHouseEventStore } from '../../services/ingest/event-store.ts'
import { startIngestConsumer } from '../../services/ingest/ingest-consumer.ts'
import { createTemporalNotifier } from '../../services/ingest/metrics-notifier.ts'
import { startHost, type RunningHost, type ServiceStarter } from '../../services/runtime/service-host.ts'
import { config, uniqueName } from '../support/env.ts'
import { produceAll, streamWithDuplicates, waitUntil } from '../support/ingest-harness.ts'
import { freePort } from '../support/processes.ts'

const hosts: RunningHost[] = []
afterAll(async () => {
  for (const host of hosts) await host.stop()
})

describe('a hosted service that stopped for good', () => {
  it('fails /healthz with its reason, and its gauge says 0', async () => {
    const testConfig = {
      ...config,
      DUGOUT_HTTP_PORT: await freePort(),
      CHDB_PATH: path.join(os.tmpdir(), uniqueName('health-chdb')),
      KAFKA_EVENTS_TOPIC: uniqueName('health.events'),
      KAFKA_DLQ_TOPIC: uniqueName('health.dlq'),
      KAFKA_CONSUMER_GROUP: uniqueName('health-group'),
      KAFKA_PARTITIONS: 1,
    }
    const kafka = createKafka(testConfig)
    await ensureTopics(kafka, dugoutTopics(testConfig))
    const producer = await createEventProducer(kafka, testConfig)
    await produceAll(producer, streamWithDuplicates(uniqueName('health').toLowerCase(), 10, 3).messages)
    const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS })

    const crashingIngest: ServiceStarter = async ({ clickhouse }) => {
      const running = await startIngestConsumer(
        {
          kafka,
          store: createClickHouseEventStore(clickhouse),
          notifier: createTemporalNotifier(new Client({ connection }), uniqueName('health-queue')),
          deadLetters: producer,
          timeZoneOf: async () => 'UTC',
          limits: () => {
            throw Object.assign(new Error('no codec for this batch'), { name: 'KafkaJSNotImplemented' })
          },
          logger: pino({ level: 'silent' }),
        },
        {
          topic: testConfig.KAFKA_EVENTS_TOPIC,
          groupId: testConfig.KAFKA_CONSUMER_GROUP,
          maxCrashes: 2,
          restartDelayMs: 50,
        },
      )
      return { name: 'ingest', health: () => running.health(), stop: () => running.stop() }
    }
    const host = await startHost(testConfig, { ingest: crashingIngest }, ['ingest'], pino({ level: 'silent' }))
    hosts.push(host)

    const failing = await waitUntil('/healthz to fail', async () => {
      const response = await fetch(`${host.http.url}/healthz`)
      return response.status === 503 ? response.json() : undefined
    })
    expect(failing).toEqual({
      status: 'failing',
      services: {
        ingest: {
          running: false,
          reason: expect.stringMatching(
            /crashed 2 times in a row; last: KafkaJSNotImplemented: no codec for this batch/,
          ),
        },
      },
    })
    const metrics = await (await fetch(`${host.http.url}/metrics`)).text()
    expect(metrics).toMatch(/^dugout_service_up\{service="ingest"\} 0$/m)
    await producer.disconnect()
    await connection.close()
  })
})
