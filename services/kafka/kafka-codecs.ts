/**
 * Every compression codec Kafka has, for kafkajs, which ships only gzip. Producers that Dugout did
 * not write (Kafka Connect, CDC tools, the Java and librdkafka clients) often use snappy, lz4 or
 * zstd; without a codec kafkajs cannot read their batches at all. Gzip is registered again, to be
 * read into larger chunks (`gunzipChunkBytes`).
 *
 * The codecs are native (napi-rs builds shipped as per-platform npm packages: nothing is compiled
 * or downloaded at install): `snappy`, `lz4-napi`, `@mongodb-js/zstd` (the MongoDB driver's).
 * Registering them is global to the process's kafkajs, so `createKafka` does it once.
 */
import { promisify } from 'node:util'
import zlib from 'node:zlib'
import { compress as zstdCompress, decompress as zstdDecompress } from '@mongodb-js/zstd'
import kafkajs, { CompressionTypes } from 'kafkajs'
import { compressFrame as lz4CompressFrame, decompressFrame as lz4DecompressFrame } from 'lz4-napi'
import { compress as snappyCompress, uncompress as snappyUncompress } from 'snappy'
import type { KafkaCodec } from '../../schemas/config.schema.ts'

/** The kafkajs compression type of each `KAFKA_COMPRESSION`. */
export const COMPRESSION_TYPES: Record<KafkaCodec, CompressionTypes> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
}

/** A batch whose records cannot be decompressed: corrupt, truncated, or of a codec we lack. */
export class UndecodableBatchError extends Error {
  readonly code = 'KAFKA_BATCH_UNDECODABLE'
}

/** What kafkajs calls: `compress` gets its encoder (`.buffer`), `decompress` the record bytes. */
interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>
  decompress(buffer: Buffer): Promise<Buffer>
}

// The Java client frames snappy as xerial's SnappyOutputStream does: a magic header, two
// versions, then blocks of [int32 length][raw snappy]. librdkafka and older clients send one raw
// snappy block, which Java's consumer also reads: both are accepted.
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
const XERIAL_HEADER_BYTES = 16
/** SnappyOutputStream's default block size. */
const XERIAL_BLOCK_BYTES = 32 * 1024

/** Decodes xerial-framed or raw snappy. */
export async function snappyDecompress(buffer: Buffer): Promise<Buffer> {
  if (buffer.length < XERIAL_HEADER_BYTES || !buffer.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC)) {
    return (await snappyUncompress(buffer)) as Buffer
  }
  const blocks: Buffer[] = []
  for (let at = XERIAL_HEADER_BYTES; at < buffer.length;) {
    if (at + 4 > buffer.length) throw new UndecodableBatchError('snappy: truncated xerial block header')
    const length = buffer.readInt32BE(at)
    at += 4
    if (length < 0 || at + length > buffer.length) throw new UndecodableBatchError('snappy: truncated xerial block')
    blocks.push((await snappyUncompress(buffer.subarray(at, at + length))) as Buffer)
    at += length
  }
  return Buffer.concat(blocks)
}

/** Encodes as the Java producer does (xerial framing, 32 KiB blocks). */
export async function snappyFramedCompress(buffer: Buffer): Promise<Buffer> {
  const header = Buffer.alloc(XERIAL_HEADER_BYTES)
  XERIAL_MAGIC.copy(header)
  header.writeInt32BE(1, 8) // version
  header.writeInt32BE(1, 12) // minimum compatible version
  const parts: Buffer[] = [header]
  for (let at = 0; at < buffer.length; at += XERIAL_BLOCK_BYTES) {
    const block = await snappyCompress(buffer.subarray(at, at + XERIAL_BLOCK_BYTES))
    const length = Buffer.alloc(4)
    length.writeInt32BE(block.length)
    parts.push(length, block)
  }
  return Buffer.concat(parts)
}

const gzip = promisify(zlib.gzip)
const unzip = promisify(zlib.unzip) as (buffer: Buffer, options: zlib.ZlibOptions) => Promise<Buffer>

/** The largest output chunk of a gzip batch being read, when its size is not known. */
const MAX_GUNZIP_CHUNK_BYTES = 1024 * 1024
/** The largest decompressed size of a gzip batch taken at its word (its trailer's ISIZE). */
const MAX_STATED_GUNZIP_BYTES = 16 * 1024 * 1024
/** Deflate inflates at most about 1032-fold: a trailer stating more is not the batch's. */
const MAX_DEFLATE_RATIO = 1032

/**
 * The output chunk size for reading the gzip batch `compressed`. zlib writes its output in chunks
 * of 16 KiB by default, each a callback on the JavaScript thread, and copies them into one buffer
 * at the end, on the JavaScript thread too. A gzip stream ends with its decompressed size (ISIZE,
 * RFC 1952): one chunk of that size and a byte (so that zlib sees the end with room to spare)
 * holds the whole batch, and nothing is copied. The size is taken only from a gzip stream (not
 * zlib's format, which `unzip` also reads) and only when deflate could reach it; of several gzip
 * members it is the last one's, and the rest simply take more chunks.
 *
 * Otherwise 8 × the input, within 16 KiB to 1 MiB: JSON inflates about tenfold, and a small
 * batch's chunk stays small (its records are slices of it while they live). Measured on 15,000
 * bench events (2026-12-07): in 16 KiB chunks a 512 KiB fetch took 17–23 ms of CPU, 7–10 of them
 * on the JavaScript thread; in 1 MiB chunks 4.5–6, and 1–1.6. In one chunk (2026-12-08) the copy
 * at the end is gone: 0.2–1.9 ms of the JavaScript thread a 5,000-event batch (13–116 ms over
 * the bench's 300,000 events, CPU profiles), below what the bench's rate can tell.
 */
export function gunzipChunkBytes(compressed: Buffer): number {
  const stated = statedGzipBytes(compressed)
  // zlib takes no chunk under 64 bytes.
  if (stated !== undefined) return Math.max(zlib.constants.Z_MIN_CHUNK, stated + 1)
  return Math.min(MAX_GUNZIP_CHUNK_BYTES, Math.max(zlib.constants.Z_DEFAULT_CHUNK, compressed.length * 8))
}

/** A gzip stream's ISIZE, where it is plausible; undefined for anything else. */
function statedGzipBytes(compressed: Buffer): number | undefined {
  // A gzip member is at least 18 bytes: a 10-byte header, the deflate data, an 8-byte trailer.
  if (compressed.length < 18 || compressed[0] !== 0x1f || compressed[1] !== 0x8b) return undefined
  const stated = compressed.readUInt32LE(compressed.length - 4)
  if (stated === 0 || stated > MAX_STATED_GUNZIP_BYTES || stated > compressed.length * MAX_DEFLATE_RATIO)
    return undefined
  return stated
}

/** A codec whose failures say which codec failed, as an UndecodableBatchError. */
function codec(name: string, compress: (b: Buffer) => Promise<Buffer>, decompress: (b: Buffer) => Promise<Buffer>) {
  const impl: Codec = {
    compress: (encoder) => compress(encoder.buffer),
    async decompress(buffer) {
      try {
        return await decompress(buffer)
      } catch (error) {
        if (error instanceof UndecodableBatchError) throw error
        throw new UndecodableBatchError(`${name}: ${(error as Error).message}`, { cause: error })
      }
    },
  }
  return () => impl
}

let registered = false

/**
 * Registers gzip, snappy, lz4 and zstd with kafkajs, and makes a batch of a codec id Kafka does not
 * define (5–7: a future codec) fail by name: without a codec kafkajs would read its compressed
 * bytes as plain records.
 */
export function registerKafkaCodecs(): void {
  if (registered) return
  registered = true
  // A default import: Node's CommonJS export detection does not see this one by name.
  const codecs = kafkajs.CompressionCodecs as Record<number, () => Codec>
  // kafkajs's own gzip (zlib's gzip and unzip, the default level), read into larger chunks.
  codecs[CompressionTypes.GZIP] = codec(
    'gzip',
    (b) => gzip(b),
    (b) => unzip(b, { chunkSize: gunzipChunkBytes(b) }),
  )
  codecs[CompressionTypes.Snappy] = codec('snappy', snappyFramedCompress, snappyDecompress)
  // Kafka's lz4 is the LZ4 frame format (since message format v1, KIP-57).
  codecs[CompressionTypes.LZ4] = codec(
    'lz4',
    (b) => lz4CompressFrame(b),
    (b) => lz4DecompressFrame(b),
  )
  // Level 3 is zstd's and Kafka's default.
  codecs[CompressionTypes.ZSTD] = codec(
    'zstd',
    (b) => zstdCompress(b, 3),
    (b) => zstdDecompress(b),
  )
  for (const id of [5, 6, 7]) {
    codecs[id] = () => {
      throw new UndecodableBatchError(`compression codec ${id} is not one Kafka defines (0-4)`)
    }
  }
}
