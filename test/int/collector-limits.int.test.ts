// The collector's body limits against the real Kafka: a 10 MiB body of one org, of events with
// random ids and text (compressing to about 2 MiB, more than the events topic's 1 MiB
// max.message.bytes), is accepted whole and every event is on the topic; a 10 MiB body of more
// events than the cap is refused with 413 naming it. Never a 503 on every retry. Topics are
// unique to this run.
import crypto from 'node:crypto'
import zlib from 'node:zlib'
import { logLevel } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DugoutConfig } from '../../schemas/config.schema.ts'
import { createKafka } from '../../services/kafka/kafka-client.ts'
import { startCollectorServer, type CollectorServer } from '../support/collector-server.ts'
import { config, uniqueName } from '../support/env.ts'

const testConfig: DugoutConfig = {
  ...config,
  KAFKA_EVENTS_TOPIC: uniqueName('test.limits.events'),
  KAFKA_DLQ_TOPIC: uniqueName('test.limits.dlq'),
}
const kafka = createKafka(testConfig, undefined, { logLevel: logLevel.NOTHING })
const KEY = 'int-test-key-limits-5e1f0a'
const TEN_MIB = 10 * 1024 * 1024

let server: CollectorServer

beforeAll(async () => {
  server = await startCollectorServer(kafka, testConfig, KEY, {
    maxBodyBytes: TEN_MIB,
    maxEvents: 10_000,
    eventsPerSecond: 100_000,
  })
})

afterAll(async () => {
  await server?.close()
  const admin = kafka.admin()
  await admin.connect()
  await admin.deleteTopics({ topics: [testConfig.KAFKA_EVENTS_TOPIC, testConfig.KAFKA_DLQ_TOPIC] }).catch(() => {})
  await admin.disconnect()
})

/** `count` events of org acme with random ids and a random name of about `nameBytes`. */
function body(count: number, nameBytes: number): string {
  const occurredAt = new Date(Date.now() - 60 * 60 * 1000).toISOString()
  const lines: string[] = []
  for (let i = 0; i < count; i++) {
    lines.push(
      JSON.stringify({
        event_id: crypto.randomUUID(),
        org_id: 'acme',
        type: 'user.upserted',
        schema_version: 1,
        occurred_at: occurredAt,
        source: { system: 'api', ref: crypto.randomUUID() },
        payload: {
          user_id: crypto.randomUUID(),
          display_name: crypto.randomBytes(Math.floor((nameBytes * 3) / 4)).toString('base64'),
          role: 'rep',
          manager_id: null,
          active: true,
        },
      }),
    )
  }
  return lines.join('\n')
}

async function stored(topic: string): Promise<number> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const offsets = await admin.fetchTopicOffsets(topic)
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0)
  } finally {
    await admin.disconnect()
  }
}

const post = (payload: string) =>
  fetch(`${server.url}/v1/orgs/acme/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-ndjson' },
    body: payload,
  })

describe('a 10 MiB body of one org', () => {
  it('is accepted whole when it holds at most the cap of events, though it compresses to more than 1 MiB', async () => {
    const payload = body(10_000, 690)
    const size = Buffer.byteLength(payload)
    expect(size).toBeGreaterThan(TEN_MIB - 200 * 1024)
    expect(size).toBeLessThanOrEqual(TEN_MIB)
    expect(zlib.gzipSync(payload).length).toBeGreaterThan(1024 * 1024)
    const response = await post(payload)
    expect(response.status).toBe(202)
    expect(await response.json()).toMatchObject({ accepted: 10_000, rejected: 0 })
    expect(await stored(testConfig.KAFKA_EVENTS_TOPIC)).toBe(10_000)
    expect(await stored(testConfig.KAFKA_DLQ_TOPIC)).toBe(0)
  }, 120_000)

  it('is refused with 413 naming the cap when it holds more events than that', async () => {
    const payload = body(25_000, 48)
    expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(TEN_MIB)
    const response = await post(payload)
    expect(response.status).toBe(413)
    expect(response.headers.get('content-type')).toContain('application/problem+json')
    expect(await response.json()).toMatchObject({
      detail: 'the body holds 25000 events, more than the limit of 10000 per request; send them in several requests',
    })
  }, 60_000)
})
