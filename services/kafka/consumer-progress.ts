/** How far a consumer group has got through a topic. */
import type { Admin, Kafka } from 'kafkajs'

/**
 * The partitions whose committed offset is below `ends` (default: the topic's current ends). A
 * partition without a committed offset (-1) is behind only when it holds messages.
 */
export async function partitionsBehind(
  kafka: Kafka,
  groupId: string,
  topic: string,
  ends?: ReadonlyMap<number, bigint>,
): Promise<number[]> {
  const admin = kafka.admin()
  await admin.connect()
  try {
    return await partitionsBehindWith(admin, groupId, topic, ends)
  } finally {
    await admin.disconnect()
  }
}

/** `partitionsBehind` through an admin client already connected, for one who asks often. */
export async function partitionsBehindWith(
  admin: Admin,
  groupId: string,
  topic: string,
  ends?: ReadonlyMap<number, bigint>,
): Promise<number[]> {
  const [current, committed] = await Promise.all([
    ends ? Promise.resolve(undefined) : admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
  ])
  const targets = ends ?? new Map(current!.map((p) => [p.partition, BigInt(p.high)]))
  return [...targets]
    .filter(([partition, end]) => {
      const offset = committed[0]?.partitions.find((p) => p.partition === partition)?.offset ?? '-1'
      return (offset === '-1' ? 0n : BigInt(offset)) < end
    })
    .map(([partition]) => partition)
}

/** Whether the group has committed every partition of the topic up to its current end. */
export async function committedAll(kafka: Kafka, groupId: string, topic: string): Promise<boolean> {
  return (await partitionsBehind(kafka, groupId, topic)).length === 0
}
