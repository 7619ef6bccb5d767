// Dugout's record-batch decoder (services/kafka/record-batch-decoder.ts) against kafkajs's own, on
// record batches built by kafkajs's encoder, plain and compressed. Property: the two give the same
// batch, field for field, and every record's offset and timestamp are what the 64-bit arithmetic
// says, on both sides of 2^53 (where Dugout's switches from numbers to Longs).
import { createRequire } from 'node:module'
import fc from 'fast-check'
import { CompressionTypes } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { registerKafkaCodecs } from '../../services/kafka/kafka-codecs.ts'
import { decodeRecordBatch, type KafkaDecoder } from '../../services/kafka/record-batch-decoder.ts'

registerKafkaCodecs()

const require = createRequire(import.meta.url)
type Encoded = { buffer: Buffer }
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (batch: object) => Promise<Encoded>
}
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (record: object) => Encoded
const Long = require('kafkajs/src/utils/long.js') as { fromValue(value: bigint): unknown }
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => KafkaDecoder
const kafkajsDecodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as typeof decodeRecordBatch

const INT64_MAX = 2n ** 63n - 1n
const SAFE = 2n ** 53n

/** A 64-bit value: small, near 2^53 (where numbers stop being exact), or anywhere. */
const around53 = (min: bigint, max: bigint) =>
  fc.oneof(
    fc.bigInt({ min, max: min + 100_000n }),
    fc.bigInt({ min: SAFE - 5_000n, max: SAFE + 5_000n }),
    fc.bigInt({ min, max }),
  )

const record = fc.record({
  offsetGap: fc.nat({ max: 1_000_000 }),
  // A delta of 1–2 bytes (the usual), up to 7 bytes (a number), or 8–10 bytes (a Long).
  timestampDelta: fc.oneof(
    fc.bigInt({ min: -300n, max: 300n }),
    fc.bigInt({ min: -(2n ** 47n), max: 2n ** 47n }),
    fc.bigInt({ min: -(2n ** 60n), max: 2n ** 60n }),
  ),
  key: fc.option(fc.string({ maxLength: 8 }), { nil: null }),
  value: fc.option(fc.string({ maxLength: 40 }), { nil: null }),
  headers: fc.dictionary(fc.constantFrom('a', 'b', 'dugout-org'), fc.string({ maxLength: 4 }), { maxKeys: 2 }),
})

describe("Dugout's record-batch decoder", () => {
  it("reads every batch as kafkajs's own decoder does, and offsets and timestamps as 64-bit sums", async () => {
    await fc.assert(
      fc.asyncProperty(
        around53(0n, INT64_MAX - 2n ** 62n),
        around53(-1n, 2n ** 61n),
        fc.array(record, { minLength: 1, maxLength: 20 }),
        fc.constantFrom(CompressionTypes.None, CompressionTypes.GZIP, CompressionTypes.LZ4),
        // The attributes' flags: log-append time (0x8), transactional (0x10), control (0x20).
        fc.subarray([0x8, 0x10, 0x20]),
        async (firstOffset, firstTimestamp, records, compression, flags) => {
          let offsetDelta = 0
          const sent = records.map((r) => ({ ...r, offsetDelta: (offsetDelta += r.offsetGap) }))
          const encoded = await RecordBatch({
            compression,
            firstOffset: Long.fromValue(firstOffset),
            firstTimestamp: Long.fromValue(firstTimestamp),
            maxTimestamp: Long.fromValue(firstTimestamp),
            lastOffsetDelta: offsetDelta,
            records: sent.map((r) =>
              Record({
                offsetDelta: r.offsetDelta,
                timestampDelta: Long.fromValue(r.timestampDelta),
                key: r.key === null ? null : Buffer.from(r.key),
                value: r.value === null ? null : Buffer.from(r.value),
                headers: r.headers,
              }),
            ),
          })
          const bytes = Buffer.from(encoded.buffer)
          // The attributes (int16) start at byte 21 of the batch; the decoders do not check the CRC.
          for (const flag of flags) bytes.writeUInt8(bytes.readUInt8(22) | flag, 22)
          const batch = await decodeRecordBatch(new Decoder(bytes))
          expect(batch).toEqual(await kafkajsDecodeRecordBatch(new Decoder(bytes)))
          const read = batch.records
          const logAppendTime = flags.includes(0x8)
          expect(
            read.map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString() ?? null]),
          ).toEqual(
            sent.map((r) => [
              String(firstOffset + BigInt(r.offsetDelta)),
              String(logAppendTime ? firstTimestamp : firstTimestamp + r.timestampDelta),
              r.key,
              r.value,
            ]),
          )
          expect(
            read.map((r) => Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)]))),
          ).toEqual(sent.map((r) => r.headers))
        },
      ),
      { numRuns: 300 },
    )
  })
})
