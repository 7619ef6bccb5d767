/**
 * Keeps one undecodable record batch from stopping every partition.
 *
 * kafkajs decodes a broker's whole fetch response at once, so a batch it cannot decode (corrupt
 * bytes, a codec it lacks) fails the fetch of every partition that broker leads, again on every
 * retry: one producer's batch halts every tenant. The guard wraps kafkajs's record-batch decoder:
 * a batch whose CRC does not match, or whose records cannot be decompressed or parsed, becomes
 * one marker message at the batch's first offset. The consumer sees the marker in its partition's
 * batch, stores everything before it and pauses that partition alone, naming topic, partition and
 * offsets (see `undecodableBatch`). Nothing is skipped: the offsets never move past the marker.
 *
 * Inside the guard the batch is read by Dugout's decoder (`record-batch-decoder.ts`: the same
 * records as kafkajs's, at under half the cost); `useRecordBatchDecoder('kafkajs')` puts kafkajs's
 * own back, for a bench to measure kafkajs as released.
 *
 * kafkajs 2.2 is the last release and no longer changes; the guard checks the module layout it
 * relies on when it installs and refuses to start if that layout is not there.
 */
import { createRequire } from 'node:module'
import { decodeRecordBatch, type KafkaDecoder } from './record-batch-decoder.ts'

const require = createRequire(import.meta.url)

/** Offsets within a v2 record batch (Kafka protocol, "Record Batch"). */
const BATCH = {
  baseOffset: 0,
  batchLength: 8,
  /** batchLength counts the bytes after this field. */
  afterLength: 12,
  magic: 16,
  crc: 17,
  /** CRC-32C covers from the attributes to the end of the batch. */
  attributes: 21,
  lastOffsetDelta: 23,
  /** The smallest batchLength: the header fields after it, up to the records count. */
  minimumLength: 49,
} as const

/** What the consumer learns of a batch it cannot read. */
export interface UndecodableBatch {
  firstOffset: string
  lastOffset: string
  reason: string
}

const UNDECODABLE = Symbol('dugout.undecodableBatch')

/** The undecodable batch a message stands for, if it is a guard's marker. */
export function undecodableBatch(message: object): UndecodableBatch | undefined {
  return (message as { [UNDECODABLE]?: UndecodableBatch })[UNDECODABLE]
}

type RecordBatchDecoder = (decoder: KafkaDecoder) => Promise<{ records: object[] } & Record<string, unknown>>

const DECODER_MODULE = 'kafkajs/src/protocol/recordBatch/v0/decoder.js'
// The one module that binds the record-batch decoder (every fetch version >= 4 decodes through it).
const FETCH_MESSAGES_MODULE = 'kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js'

let installed = false
let inner: 'dugout' | 'kafkajs' = 'dugout'

/** Which decoder reads record batches inside the guard: Dugout's (the default) or kafkajs's own. */
export function useRecordBatchDecoder(decoder: 'dugout' | 'kafkajs'): void {
  inner = decoder
}

/**
 * Installs the guard into this process's kafkajs. Must run before kafkajs decodes its first
 * fetch response (the fetch decoder binds the record-batch decoder when it loads); `createKafka`
 * does it, so every Dugout client and test helper has it.
 */
export function installRecordBatchGuard(): void {
  if (installed) return
  const decoderPath = require.resolve(DECODER_MODULE)
  const fetchMessagesPath = require.resolve(FETCH_MESSAGES_MODULE)
  if (require.cache[fetchMessagesPath]) {
    throw new Error('kafkajs decoded a fetch before the record-batch guard was installed: call createKafka first')
  }
  const kafkajsOwn = require(decoderPath) as RecordBatchDecoder
  const original: RecordBatchDecoder = (decoder) =>
    inner === 'dugout' ? decodeRecordBatch(decoder) : kafkajsOwn(decoder)
  const crc32c = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (buffer: Buffer) => number
  const guarded: RecordBatchDecoder = async (decoder) => {
    const start = decoder.offset
    const { buffer } = decoder
    const complete =
      buffer.length - start >= BATCH.afterLength &&
      buffer.length - start >= BATCH.afterLength + buffer.readInt32BE(start + BATCH.batchLength)
    // An incomplete batch at the end of a fetch is normal (the byte limit cut it): the original
    // says so with the error kafkajs expects, and the batch is fetched whole next time.
    if (!complete) return original(decoder)
    const length = buffer.readInt32BE(start + BATCH.batchLength)
    const end = start + BATCH.afterLength + length
    let reason: string | undefined
    if (length < BATCH.minimumLength) reason = `batch length ${length} is too small`
    else if (buffer.readInt8(start + BATCH.magic) === 2) {
      // kafkajs does not check the CRC: a flipped bit would otherwise become a wrong event.
      const stored = buffer.readUInt32BE(start + BATCH.crc)
      const actual = crc32c(buffer.subarray(start + BATCH.attributes, end)) >>> 0
      if (stored !== actual) reason = `CRC-32C mismatch (stored ${stored}, computed ${actual})`
    }
    if (reason === undefined) {
      try {
        return await original(decoder)
      } catch (error) {
        reason = (error as Error).message || String(error)
      }
    }
    decoder.offset = end
    const firstOffset = buffer.readBigInt64BE(start + BATCH.baseOffset)
    const lastOffsetDelta =
      end - start >= BATCH.lastOffsetDelta + 4 ? buffer.readInt32BE(start + BATCH.lastOffsetDelta) : 0
    const marker: UndecodableBatch = {
      firstOffset: firstOffset.toString(),
      lastOffset: (firstOffset + BigInt(Math.max(0, lastOffsetDelta))).toString(),
      reason,
    }
    return {
      firstOffset: marker.firstOffset,
      inTransaction: false,
      isControlBatch: false,
      records: [
        {
          magicByte: 2,
          attributes: 0,
          timestamp: '0',
          offset: marker.firstOffset,
          key: null,
          value: null,
          headers: {},
          isControlRecord: false,
          batchContext: { firstOffset: marker.firstOffset, inTransaction: false, isControlBatch: false },
          [UNDECODABLE]: marker,
        },
      ],
    }
  }
  require.cache[decoderPath]!.exports = guarded
  // Load the fetch decoder now, so that it binds the guarded decoder.
  require(fetchMessagesPath)
  installed = true
}
