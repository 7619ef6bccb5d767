// Proves the local broker is a real Kafka: a topic created, messages produced and consumed back
// through kafkajs, keys and order per partition preserved.
import { afterAll, describe, expect, it } from 'vitest'
import { config, uniqueName } from '../support/env.ts'
import { createKafka } from '../../services/kafka/kafka-client.ts'

const kafka = createKafka({ ...config, KAFKA_CLIENT_ID: 'dugout-test' })
const admin = kafka.admin()

afterAll(async () => {
  await admin.disconnect()
})

describe('local Kafka broker', () => {
  it('produces and consumes through kafkajs', async () => {
    const topic = uniqueName('test.kafka')
    await admin.connect()
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true })
    const producer = kafka.producer()
    await producer.connect()
    const messages = Array.from({ length: 30 }, (_, i) => ({ key: `org-${i % 3}`, value: JSON.stringify({ i }) }))
    await producer.send({ topic, messages })
    await producer.disconnect()

    const consumer = kafka.consumer({ groupId: uniqueName('test-group') })
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    const received: { key: string; i: number; partition: number }[] = []
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message, partition }) => {
            received.push({ key: message.key!.toString(), i: JSON.parse(message.value!.toString()).i, partition })
            if (received.length === messages.length) resolve()
          },
        })
        .catch(reject)
    })
    await consumer.disconnect()

    expect(received.map((r) => r.i).sort((a, b) => a - b)).toEqual(messages.map((_, i) => i))
    // one key, one partition, in production order
    for (const key of ['org-0', 'org-1', 'org-2']) {
      const ofKey = received.filter((r) => r.key === key)
      expect(new Set(ofKey.map((r) => r.partition)).size).toBe(1)
      expect(ofKey.map((r) => r.i)).toEqual([...ofKey.map((r) => r.i)].sort((a, b) => a - b))
    }
    const offsets = await admin.fetchTopicOffsets(topic)
    expect(offsets.reduce((sum, p) => sum + Number(p.high), 0)).toBe(30)
  })
})
