// Kafka's codecs and the record-batch guard, on record batches built by kafkajs's own encoder and
// read back by kafkajs's own fetch decoder (no broker: the bytes are what a fetch response holds).
import { randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { deflateSync, gzipSync } from 'node:zlib'
import kafkajs, { CompressionTypes } from 'kafkajs'
import { compress as rawSnappy } from 'snappy'
import { describe, expect, it } from 'vitest'
import {
  COMPRESSION_TYPES,
  gunzipChunkBytes,
  registerKafkaCodecs,
  snappyDecompress,
  snappyFramedCompress,
} from '../../services/kafka/kafka-codecs.ts'
import { installRecordBatchGuard, undecodableBatch } from '../../services/kafka/record-batch-guard.ts'
import { KAFKA_CODECS } from '../../schemas/config.schema.ts'

registerKafkaCodecs()
installRecordBatchGuard()

const require = createRequire(import.meta.url)
type Encoded = { buffer: Buffer }
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (batch: object) => Promise<Encoded>
}
const Long = require('kafkajs/src/utils/long.js') as { fromNumber(n: number): unknown }
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (record: object) => Encoded
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown
const decodeMessages = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js') as (
  decoder: unknown,
) => Promise<{ offset: string; value: Buffer | null }[]>
const crc32c = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (buffer: Buffer) => number

const values = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => `{"event_id":"e-${from + i}","pad":"${'x'.repeat(40)}"}`)

async function batch(firstOffset: number, texts: string[], compression: CompressionTypes = CompressionTypes.None) {
  const records = texts.map((value, i) =>
    Record({ offsetDelta: i, key: Buffer.from('acme'), value: Buffer.from(value) }),
  )
  const encoded = await RecordBatch({
    compression,
    firstOffset: Long.fromNumber(firstOffset),
    lastOffsetDelta: texts.length - 1,
    records,
  })
  return Buffer.from(encoded.buffer)
}

/** A fetch response's record set: int32 size, then the batches. */
async function fetched(...batches: Buffer[]) {
  const body = Buffer.concat(batches)
  const size = Buffer.alloc(4)
  size.writeInt32BE(body.length)
  return decodeMessages(new Decoder(Buffer.concat([size, body])))
}

/** Rewrites a batch's CRC after its bytes were changed on purpose. */
function fixCrc(bytes: Buffer) {
  bytes.writeUInt32BE(crc32c(bytes.subarray(21)) >>> 0, 17)
  return bytes
}

describe('codecs', () => {
  it.each(KAFKA_CODECS)('%s batches decode back to their records', async (codec) => {
    const texts = values(500)
    const messages = await fetched(await batch(100, texts, COMPRESSION_TYPES[codec]))
    expect(messages.map((m) => m.value?.toString())).toEqual(texts)
    expect(messages.map((m) => m.offset)).toEqual(texts.map((_, i) => String(100 + i)))
  })

  it('gzip reads a batch of several MiB of records', async () => {
    const texts = Array.from({ length: 100_000 }, (_, i) => `{"event_id":"e-${i}","n":${(i * 7919) % 100_003}}`)
    const bytes = await batch(0, texts, CompressionTypes.GZIP)
    expect(texts.join('').length).toBeGreaterThan(3 * 1024 * 1024)
    const messages = await fetched(bytes)
    expect(messages.map((m) => m.value?.toString())).toEqual(texts)
  })

  it("sizes a gzip stream's chunk to the size it states, and a byte", () => {
    const text = Buffer.from(values(2000).join('\n'))
    expect(gunzipChunkBytes(gzipSync(text))).toBe(text.length + 1)
    expect(gunzipChunkBytes(gzipSync(Buffer.alloc(0)))).toBe(16 * 1024)
    // zlib's smallest chunk is 64 bytes.
    expect(gunzipChunkBytes(gzipSync(Buffer.from('{}')))).toBe(64)
  })

  it('sizes the chunks of what states no plausible size by its bytes: 8 ×, from 16 KiB to 1 MiB', () => {
    const text = Buffer.from(values(2000).join('\n'))
    // zlib's format, which `unzip` also reads, ends with a checksum, not a size: even one that
    // would read as a plausible size.
    const zlibStream = deflateSync(text)
    zlibStream.writeUInt32LE(text.length, zlibStream.length - 4)
    expect(gunzipChunkBytes(zlibStream)).toBe(Math.max(16 * 1024, Math.min(1024 * 1024, zlibStream.length * 8)))
    // A trailer stating more than deflate can reach, or more than 16 MiB.
    const forged = gzipSync(text)
    forged.writeUInt32LE(forged.length * 1033, forged.length - 4)
    expect(gunzipChunkBytes(forged)).toBe(Math.min(1024 * 1024, forged.length * 8))
    const huge = gzipSync(randomBytes(20 * 1024))
    huge.writeUInt32LE(16 * 1024 * 1024 + 1, huge.length - 4)
    expect(huge.length * 1032).toBeGreaterThan(16 * 1024 * 1024 + 1)
    expect(gunzipChunkBytes(huge)).toBe(huge.length * 8)
    expect(gunzipChunkBytes(Buffer.alloc(100))).toBe(16 * 1024)
    expect(gunzipChunkBytes(Buffer.alloc(64 * 1024))).toBe(512 * 1024)
    expect(gunzipChunkBytes(Buffer.alloc(512 * 1024))).toBe(1024 * 1024)
  })

  it("gzip reads a batch of one small record, smaller than zlib's smallest chunk", async () => {
    const messages = await fetched(await batch(7, ['{}'], CompressionTypes.GZIP))
    expect(messages.map((m) => [m.offset, m.value?.toString()])).toEqual([['7', '{}']])
  })

  it('gzip reads a batch of several members, each stating only its own size', async () => {
    const first = Buffer.from(values(3000).join(''))
    const second = Buffer.from(values(10, 3000).join(''))
    const members = Buffer.concat([gzipSync(first), gzipSync(second)])
    expect(gunzipChunkBytes(members)).toBe(second.length + 1)
    const codecs = kafkajs.CompressionCodecs as Record<number, () => { decompress(b: Buffer): Promise<Buffer> }>
    expect(await codecs[CompressionTypes.GZIP]!().decompress(members)).toEqual(Buffer.concat([first, second]))
  })

  it('snappy reads the Java framing (several blocks) and the raw form librdkafka sends', async () => {
    const text = Buffer.from(values(2000).join('\n'))
    const framed = await snappyFramedCompress(text)
    expect(framed.subarray(0, 8)).toEqual(Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]))
    expect(text.length).toBeGreaterThan(3 * 32 * 1024)
    expect(await snappyDecompress(framed)).toEqual(text)
    expect(await snappyDecompress(await rawSnappy(text))).toEqual(text)
  })
})

describe('the record-batch guard', () => {
  it('turns a batch whose bytes changed into one marker naming its offsets, after the batches before it', async () => {
    const good = await batch(0, values(3))
    const corrupt = await batch(3, values(5, 3))
    corrupt.writeUInt8(corrupt.readUInt8(corrupt.length - 10) ^ 0xff, corrupt.length - 10)
    const after = await batch(8, values(2, 8))
    const messages = await fetched(good, corrupt, after)
    expect(messages.slice(0, 3).map((m) => m.offset)).toEqual(['0', '1', '2'])
    expect(undecodableBatch(messages[2]!)).toBeUndefined()
    const marker = undecodableBatch(messages[3]!)
    expect(marker).toMatchObject({ firstOffset: '3', lastOffset: '7' })
    expect(marker!.reason).toMatch(/CRC-32C mismatch/)
    expect(messages[3]!.offset).toBe('3')
    // Decoding goes on after it: the consumer, not the decoder, decides to stop at the marker.
    expect(messages.slice(4).map((m) => m.offset)).toEqual(['8', '9'])
  })

  it('names a codec Kafka does not define', async () => {
    const bytes = await batch(40, values(4))
    bytes.writeInt16BE(bytes.readInt16BE(21) | 5, 21)
    const [marker] = await fetched(fixCrc(bytes))
    expect(undecodableBatch(marker!)).toMatchObject({ firstOffset: '40', lastOffset: '43' })
    expect(undecodableBatch(marker!)!.reason).toMatch(/codec 5 is not one Kafka defines/)
  })

  it.each(['snappy', 'lz4', 'zstd', 'gzip'] as const)(
    'names a %s batch whose data cannot be decompressed',
    async (codec) => {
      const bytes = await batch(7, values(20), COMPRESSION_TYPES[codec])
      // The compressed records start after the 61-byte header and the int32 record count.
      bytes.fill(0x5a, 65 + 8, bytes.length)
      const [marker] = await fetched(fixCrc(bytes))
      const undecodable = undecodableBatch(marker!)
      expect(undecodable).toMatchObject({ firstOffset: '7', lastOffset: '26' })
      expect(undecodable!.reason.length).toBeGreaterThan(0)
    },
  )

  it('leaves a batch cut short by the fetch size alone: it is fetched whole next time', async () => {
    const good = await batch(0, values(3))
    const next = await batch(3, values(50, 3))
    const messages = await fetched(good, next.subarray(0, next.length - 20))
    expect(messages.map((m) => m.offset)).toEqual(['0', '1', '2'])
    expect(messages.every((m) => undecodableBatch(m) === undefined)).toBe(true)
  })
})
