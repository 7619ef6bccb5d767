// The collector over real HTTP into the real local Kafka: a mixed NDJSON batch posted with an API
// key comes out as events keyed by org_id on the events topic (the bytes as sent) and as dead
// letters with the original bytes and the reason on the dead-letter topic. Topics are unique to
// this run.
import { logLevel, type Consumer, type IHeaders } from 'kafkajs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DugoutConfig } from '../../schemas/config.schema.ts'
import { DEAD_LETTER_HEADERS as DLQ_HEADERS } from '../../services/kafka/dead-letter-headers.ts'
import { createKafka } from '../../services/kafka/kafka-client.ts'
import { startCollectorServer, type CollectorServer } from '../support/collector-server.ts'
import { config, uniqueName } from '../support/env.ts'

const testConfig: DugoutConfig = {
  ...config,
  KAFKA_EVENTS_TOPIC: uniqueName('test.collector.events'),
  KAFKA_DLQ_TOPIC: uniqueName('test.collector.dlq'),
}
const kafka = createKafka(testConfig, undefined, { logLevel: logLevel.NOTHING })
const KEY = 'int-test-key-acme-9c2d51'

let server: CollectorServer
let consumer: Consumer | undefined
let url: string

beforeAll(async () => {
  server = await startCollectorServer(kafka, testConfig, KEY)
  url = server.url
})

afterAll(async () => {
  await consumer?.disconnect()
  await server?.close()
})

interface Received {
  topic: string
  key: string | null
  value: string
  headers: Record<string, string>
}

/** Reads both topics from the beginning until `count` messages arrived. */
async function consume(count: number): Promise<Received[]> {
  consumer = kafka.consumer({ groupId: uniqueName('test-collector') })
  await consumer.connect()
  await consumer.subscribe({ topics: [testConfig.KAFKA_EVENTS_TOPIC, testConfig.KAFKA_DLQ_TOPIC], fromBeginning: true })
  const received: Received[] = []
  await new Promise<void>((resolve, reject) => {
    consumer!
      .run({
        eachMessage: async ({ topic, message }) => {
          received.push({
            topic,
            key: message.key?.toString() ?? null,
            value: message.value!.toString('utf8'),
            headers: textHeaders(message.headers),
          })
          if (received.length >= count) resolve()
        },
      })
      .catch(reject)
  })
  return received
}

function textHeaders(headers: IHeaders | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, String(v)]))
}

describe('collector over HTTP into Kafka', () => {
  it('produces the valid events of a mixed NDJSON batch and dead-letters the others with their reasons', async () => {
    const occurredAt = new Date(Date.now() - 60 * 60 * 1000).toISOString()
    const event = (id: string, org = 'acme', role = 'rep') =>
      JSON.stringify({
        event_id: id,
        org_id: org,
        type: 'user.upserted',
        schema_version: 1,
        occurred_at: occurredAt,
        source: { system: 'api' },
        payload: { user_id: `u-${id}`, display_name: 'Rory Rep', role, manager_id: 'm1', active: true },
      })
    const lines = [
      event('e-1'),
      event('e-2', 'acme', 'boss'),
      '{"event_id": "e-3"',
      event('e-4', 'globex'),
      event('e-5'),
    ]
    const response = await fetch(`${url}/v1/orgs/acme/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-ndjson' },
      body: `${lines.join('\n')}\n`,
    })
    expect(response.status).toBe(202)
    const answer = (await response.json()) as { accepted: number; rejected: number; results: { status: string }[] }
    expect({ accepted: answer.accepted, rejected: answer.rejected }).toEqual({ accepted: 2, rejected: 3 })
    expect(answer.results.map((r) => r.status)).toEqual(['accepted', 'rejected', 'rejected', 'rejected', 'accepted'])

    // 202 means Kafka already has all five: read them back.
    const received = await consume(5)
    const events = received.filter((m) => m.topic === testConfig.KAFKA_EVENTS_TOPIC)
    const dead = received.filter((m) => m.topic === testConfig.KAFKA_DLQ_TOPIC)

    expect(events.map((m) => ({ key: m.key, value: m.value })).sort((a, b) => a.value.localeCompare(b.value))).toEqual([
      { key: 'acme', value: lines[0]! },
      { key: 'acme', value: lines[4]! },
    ])
    const byValue = new Map(dead.map((m) => [m.value, m]))
    expect([...byValue.keys()].sort()).toEqual([lines[1], lines[2], lines[3]].sort())
    expect(byValue.get(lines[1]!)).toMatchObject({
      key: 'acme',
      headers: {
        [DLQ_HEADERS.reason]: 'payload.role: must be one of "rep", "manager", "executive", "other" (enum)',
        [DLQ_HEADERS.source]: 'api',
        [DLQ_HEADERS.org]: 'acme',
        [DLQ_HEADERS.event]: 'e-2',
        [DLQ_HEADERS.rule]: 'enum',
        [DLQ_HEADERS.rules]: 'enum',
        'dugout-index': '1',
      },
    })
    expect(byValue.get(lines[2]!)!.headers[DLQ_HEADERS.reason]).toMatch(
      /^\(root\): is not valid JSON.*\(invalid_json\)$/,
    )
    expect(byValue.get(lines[3]!)).toMatchObject({
      // The dead letter of an event claiming another org stays under the authenticated org.
      key: 'acme',
      headers: {
        [DLQ_HEADERS.reason]: 'org_id: must be "acme", the org of the URL, got "globex" (org_mismatch)',
        [DLQ_HEADERS.org]: 'acme',
        [DLQ_HEADERS.rule]: 'org_mismatch',
        [DLQ_HEADERS.rules]: 'org_mismatch',
      },
    })
    for (const letter of dead) expect(Date.parse(letter.headers[DLQ_HEADERS.rejectedAt]!)).not.toBeNaN()
  })
})
