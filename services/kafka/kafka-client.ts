/**
 * The kafkajs client of a Dugout process, logging through pino, with every codec Kafka has and
 * the guard that keeps one undecodable batch from stopping the other partitions. Everything that
 * talks to Kafka (services, CLI, tests, benchmarks) makes its client here.
 */
import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type LogEntry } from 'kafkajs'
import type { ResolvedKafkaConfig } from '../../schemas/config.schema.ts'
import type { Logger } from '../runtime/logger.ts'
import { dugoutTopics, type TopicSpec } from '../../infra/kafka/topics.ts'
import { registerKafkaCodecs } from './kafka-codecs.ts'
import { installRecordBatchGuard } from './record-batch-guard.ts'

export function createKafka(
  config: ResolvedKafkaConfig,
  logger?: Logger,
  overrides: Partial<KafkaJsConfig> = {},
): Kafka {
  registerKafkaCodecs()
  installRecordBatchGuard()
  const log = logger?.child({ component: 'kafka' })
  return new Kafka({
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID,
    logLevel: log ? logLevel.WARN : logLevel.NOTHING,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        if (!log) return
        const { message, ...rest } = entry
        if (level <= logLevel.ERROR) log.error(rest, message)
        else log.warn(rest, message)
      },
    retry: { initialRetryTime: 300, retries: 8 },
    ...overrides,
  })
}

/** Creates the topics that do not exist yet; existing topics are left as they are. */
export async function ensureTopics(kafka: Kafka, specs: TopicSpec[]): Promise<string[]> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const existing = new Set(await admin.listTopics())
    const missing = specs.filter((s) => !existing.has(s.topic))
    if (missing.length > 0) await admin.createTopics({ topics: missing, waitForLeaders: true })
    return missing.map((s) => s.topic)
  } catch (error) {
    // Another process may create the same topic between our list and our create.
    if ((error as { type?: string }).type === 'TOPIC_ALREADY_EXISTS') return []
    throw error
  } finally {
    await admin.disconnect()
  }
}

export { dugoutTopics }
