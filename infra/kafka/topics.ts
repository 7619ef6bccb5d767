/**
 * The topics Dugout creates, with explicit partition counts and retention: Kafka is the
 * transport, not the archive (the event store is), so retention only has to outlast an outage.
 */
import type { KafkaConfig } from '../../schemas/config.schema.ts'

export interface TopicSpec {
  topic: string
  numPartitions: number
  replicationFactor: number
  configEntries: { name: string; value: string }[]
}

const DAY_MS = 24 * 60 * 60 * 1000

export function dugoutTopics(
  config: Pick<KafkaConfig, 'KAFKA_EVENTS_TOPIC' | 'KAFKA_DLQ_TOPIC' | 'KAFKA_PARTITIONS' | 'KAFKA_REPLICATION_FACTOR'>,
): TopicSpec[] {
  const common = (retentionDays: number) => [
    { name: 'retention.ms', value: String(retentionDays * DAY_MS) },
    { name: 'cleanup.policy', value: 'delete' },
    // acks=all only protects a write when more than one replica must have it.
    { name: 'min.insync.replicas', value: String(Math.min(2, config.KAFKA_REPLICATION_FACTOR)) },
  ]
  return [
    {
      // Keyed by org_id: one org's events share a partition, so partitions bound ingest parallelism.
      topic: config.KAFKA_EVENTS_TOPIC,
      numPartitions: config.KAFKA_PARTITIONS,
      replicationFactor: config.KAFKA_REPLICATION_FACTOR,
      configEntries: [...common(7), { name: 'max.message.bytes', value: String(1024 * 1024) }],
    },
    {
      // Dead letters are read by people fixing their data: keep them longer.
      topic: config.KAFKA_DLQ_TOPIC,
      numPartitions: Math.min(3, config.KAFKA_PARTITIONS),
      replicationFactor: config.KAFKA_REPLICATION_FACTOR,
      configEntries: common(30),
    },
  ]
}
