/**
 * How the collector hands a request's events and dead letters to Kafka, so that a 2xx means all
 * of them are durable and a 503 can be retried as is:
 *
 * 1. Events first, then dead letters. A 503 on the events leaves no dead letter behind, so the
 *    client's retry (which the 503 asks for) does not file the same rejections twice; events
 *    themselves collapse on their ids downstream.
 * 2. In slices of at most `MAX_SEND_BYTES`: kafkajs sends one record batch per partition per
 *    call, and one org's events share a partition, so a 10 MiB body of one org would be one
 *    batch — over the topics' 1 MiB `max.message.bytes` (infra/kafka/topics.ts), refused on every
 *    retry. Measured: 10 MiB of events with random ids compress (gzip) to 2.1 MB. The bound is on
 *    the bytes before compression, so it holds for every codec, `none` included.
 * 3. A dead letter keeps at most `MAX_DEAD_LETTER_BYTES` of what was sent (a 10 MiB line that
 *    is not an event cannot be filed whole), with its full size in `dugout-truncated-from`.
 */
import { DEAD_LETTER_HEADERS } from '../kafka/dead-letter-headers.ts'
import type { DeadLetter, EventProducer, OutgoingEvent } from '../kafka/event-producer.ts'

/** Raw bytes in one producer call: a quarter under the topics' 1 MiB, for record overheads. */
export const MAX_SEND_BYTES = 768 * 1024

/** The most of a rejected body a dead letter keeps. */
export const MAX_DEAD_LETTER_BYTES = 256 * 1024

// A record's own bytes in a v2 batch (length, attributes, deltas, varints) are a few dozen.
const RECORD_OVERHEAD = 64

/** Consecutive slices of `items`, each of at most `budget` bytes by `sizeOf` (an item larger than the budget alone). */
export function sizeSlices<T>(items: readonly T[], sizeOf: (item: T) => number, budget = MAX_SEND_BYTES): T[][] {
  const slices: T[][] = []
  let slice: T[] = []
  let bytes = 0
  for (const item of items) {
    const size = sizeOf(item)
    if (slice.length > 0 && bytes + size > budget) {
      slices.push(slice)
      slice = []
      bytes = 0
    }
    slice.push(item)
    bytes += size
  }
  if (slice.length > 0) slices.push(slice)
  return slices
}

export const eventBytes = (event: OutgoingEvent): number =>
  byteLength(event.value) + Buffer.byteLength(event.orgId) + RECORD_OVERHEAD

export const deadLetterBytes = (letter: DeadLetter): number =>
  byteLength(letter.raw) +
  Buffer.byteLength(letter.reason) * 2 +
  Object.entries(letter.headers ?? {}).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0) +
  // The fixed headers (source, rules, org, event id, time): a few hundred bytes at most.
  512

/** Sends events, then dead letters, each in slices; throws when Kafka did not acknowledge one. */
export async function handOff(
  producer: EventProducer,
  events: readonly OutgoingEvent[],
  letters: readonly DeadLetter[],
): Promise<void> {
  // One slice at a time: in the order received, and a failed slice stops the rest.
  for (const slice of sizeSlices(events, eventBytes)) await producer.send(slice)
  for (const slice of sizeSlices(letters, deadLetterBytes)) await producer.sendDeadLetters(slice)
}

/** `raw` as a dead letter keeps it: whole, or its first `MAX_DEAD_LETTER_BYTES` and a header saying so. */
export function keptRaw(raw: string | Buffer): { raw: string | Buffer; headers: Record<string, string> } {
  const size = byteLength(raw)
  if (size <= MAX_DEAD_LETTER_BYTES) return { raw, headers: {} }
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw
  return {
    raw: bytes.subarray(0, MAX_DEAD_LETTER_BYTES),
    headers: { [DEAD_LETTER_HEADERS.truncatedFrom]: String(size) },
  }
}

function byteLength(value: string | Buffer): number {
  return typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength
}
