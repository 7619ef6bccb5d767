/**
 * The one Kafka producer of canonical events, used by everything that writes them (collector,
 * file import, demo). Valid events go to the events topic keyed by org_id; invalid ones go to the
 * dead-letter topic with their original bytes and headers saying why, from where and when.
 */
import { Partitioners, type IHeaders, type Kafka, type Message, type Producer } from 'kafkajs'
import type { KafkaConfig } from '../../schemas/config.schema.ts'
import { DEAD_LETTER_HEADERS, ruleHeaders } from './dead-letter-headers.ts'
import { COMPRESSION_TYPES } from './kafka-codecs.ts'

/** A valid event ready to send: its org (the key) and its JSON text as received. */
export interface OutgoingEvent {
  orgId: string
  value: string | Buffer
}

/** An event that failed validation, with where it came from. */
export interface DeadLetter {
  raw: string | Buffer
  reason: string
  /** The rules it broke, as in the reason (the first is the `dugout-rule` header). */
  rules: readonly string[]
  /** e.g. `import:events.ndjson:12`, `api`, `webhook:hubspot`, `ingest`. */
  source: string
  orgId?: string
  eventId?: string
  /** Extra provenance (names from DEAD_LETTER_HEADERS), e.g. where ingest read it. */
  headers?: Record<string, string>
}

export interface EventProducer {
  send(events: readonly OutgoingEvent[]): Promise<void>
  sendDeadLetters(letters: readonly DeadLetter[]): Promise<void>
  disconnect(): Promise<void>
}

/** The dead-letter message: original bytes, provenance in headers (pure, unit-tested). */
export function deadLetterMessage(letter: DeadLetter, now: Date): Message {
  const headers: IHeaders = {
    [DEAD_LETTER_HEADERS.reason]: letter.reason,
    ...ruleHeaders(letter.rules),
    [DEAD_LETTER_HEADERS.source]: letter.source,
    [DEAD_LETTER_HEADERS.rejectedAt]: now.toISOString(),
    ...(letter.orgId === undefined ? {} : { [DEAD_LETTER_HEADERS.org]: letter.orgId }),
    ...(letter.eventId === undefined ? {} : { [DEAD_LETTER_HEADERS.event]: letter.eventId }),
    ...letter.headers,
  }
  return { key: letter.orgId ?? null, value: letter.raw, headers }
}

export async function createEventProducer(
  kafka: Kafka,
  config: Pick<KafkaConfig, 'KAFKA_EVENTS_TOPIC' | 'KAFKA_DLQ_TOPIC' | 'KAFKA_COMPRESSION'>,
  clock: () => Date = () => new Date(),
): Promise<EventProducer> {
  // The Java client's partitioner (murmur2): one org_id lands on the same partition from any client.
  const producer: Producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  })
  await producer.connect()
  const compression = COMPRESSION_TYPES[config.KAFKA_COMPRESSION]
  return {
    async send(events) {
      if (events.length === 0) return
      // One request for the whole batch; acks from all in-sync replicas (-1) so that an
      // acknowledged event survives the loss of the leader.
      await producer.sendBatch({
        acks: -1,
        compression,
        topicMessages: [
          { topic: config.KAFKA_EVENTS_TOPIC, messages: events.map((e) => ({ key: e.orgId, value: e.value })) },
        ],
      })
    },
    async sendDeadLetters(letters) {
      if (letters.length === 0) return
      const now = clock()
      await producer.sendBatch({
        acks: -1,
        compression,
        topicMessages: [{ topic: config.KAFKA_DLQ_TOPIC, messages: letters.map((l) => deadLetterMessage(l, now)) }],
      })
    },
    disconnect: () => producer.disconnect(),
  }
}
