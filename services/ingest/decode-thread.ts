/**
 * Decoding on a thread of its own. JSON.parse, validation and the row of each event cost most of
 * ingest's work on the JavaScript thread, which also runs the Kafka client and the pipeline: done
 * on a worker thread, they overlap with both, and the second core does them. A chunk goes over as
 * one buffer of message values, and comes back as its verdicts' columns with one buffer of lines
 * (`ChunkVerdicts`, decode-thread-worker.ts): a copy of the bytes and the columns cloned, against
 * about 11 µs of work per event.
 *
 * Measured on the 2-core bench machine (`npm run bench -- ingest`, DUGOUT_INGEST_DECODE_THREADS 0
 * against 1, alternated): when the thread's verdicts were made into an object per event, the
 * hand-off cost about 5 µs of CPU per event and one thread was 10-15 % slower. Taken as columns
 * (2026-12-07) it runs at about the same rate (32.0k, 36.8k, 39.7k events/s against 34.5k, 34.8k,
 * 36.4k), since the engine's insert threads want the second core as much, and a second V8 heap
 * takes the peak to 631-643 MiB from 547-557: off by default. It is for machines with cores and
 * memory to spare.
 *
 * A thread that dies (it should not: verdicts are values, nothing in it throws on bad input)
 * fails the chunks it held; the next chunk starts a new one.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import type { ValidationLimits } from '../../schemas/event-validation.ts'
import { valueBytes, VerdictColumns, type ChunkVerdicts, type IncomingMessage } from './batch-classifier.ts'

export interface DecodeRequest {
  id: number
  /** The chunk's message values, one after another; an absent value is empty. */
  values: Uint8Array<ArrayBuffer>
  /** Where each message's value ends in `values`. */
  ends: Uint32Array<ArrayBuffer>
  limits: ValidationLimits
}

/** A chunk's verdicts, as the decoding thread sends them back. */
export interface DecodeReply extends ChunkVerdicts {
  id: number
}

/** Decodes a chunk of messages, in order, into valid events and dead letters. */
export interface ChunkDecoder {
  decode(messages: readonly IncomingMessage[], limits: ValidationLimits): Promise<ChunkVerdicts>
  close(): Promise<void>
}

/**
 * Decoding on the calling thread (`DUGOUT_INGEST_DECODE_THREADS=0`), yielding to the event loop
 * between slices so that a finished write goes on promptly.
 */
export function inThreadDecoder(): ChunkDecoder {
  return {
    async decode(messages, limits) {
      const columns = new VerdictColumns(messages.length, valueBytes(messages))
      for (let i = 0; i < messages.length; i++) {
        if (i > 0 && i % DECODE_SLICE === 0) await yieldToEventLoop()
        columns.judge(i, messages[i]!.value, limits)
      }
      return columns.finish()
    },
    close: async () => {},
  }
}

/** Messages decoded on the calling thread between two yields to the event loop. */
const DECODE_SLICE = 1_000

interface Pending {
  resolve: (verdicts: ChunkVerdicts) => void
  reject: (error: Error) => void
}

class DecodeThread {
  private worker: Worker | undefined
  private readonly pending = new Map<number, Pending>()

  private start(): Worker {
    const worker = new Worker(new URL('./decode-thread-bootstrap.mjs', import.meta.url))
    worker.on('message', ({ id, ...verdicts }: DecodeReply) => {
      const waiting = this.pending.get(id)
      if (!waiting) return
      this.pending.delete(id)
      waiting.resolve(verdicts)
    })
    const fail = (error: Error) => {
      if (this.worker !== worker) return
      this.worker = undefined
      for (const waiting of this.pending.values()) waiting.reject(error)
      this.pending.clear()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(new Error(`the decoding thread exited (code ${code})`)))
    return worker
  }

  decode(id: number, messages: readonly IncomingMessage[], limits: ValidationLimits): Promise<ChunkVerdicts> {
    this.worker ??= this.start()
    const request = toRequest(id, messages, limits)
    const worker = this.worker
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      worker.postMessage(request, [request.values.buffer, request.ends.buffer])
    })
  }

  get load(): number {
    return this.pending.size
  }

  async close(): Promise<void> {
    const worker = this.worker
    this.worker = undefined
    await worker?.terminate()
  }
}

/** Decoding on `threads` worker threads, each chunk on the least busy. */
export function threadDecoder(threads: number): ChunkDecoder {
  const pool = Array.from({ length: threads }, () => new DecodeThread())
  let next = 0
  return {
    decode(messages, limits) {
      if (messages.length === 0) return Promise.resolve(new VerdictColumns(0, 0).finish())
      const thread = pool.reduce((least, t) => (t.load < least.load ? t : least))
      return thread.decode(next++, messages, limits)
    },
    async close() {
      await Promise.all(pool.map((t) => t.close()))
    },
  }
}

/** `threads` decoding threads, or the calling thread when 0. */
export function createChunkDecoder(threads: number): ChunkDecoder {
  return threads > 0 ? threadDecoder(threads) : inThreadDecoder()
}

function toRequest(id: number, messages: readonly IncomingMessage[], limits: ValidationLimits): DecodeRequest {
  const size = valueBytes(messages)
  // An ArrayBuffer of its own (not a slice of Buffer's shared pool), so that it can be transferred.
  const values = new Uint8Array(size)
  const ends = new Uint32Array(messages.length)
  let at = 0
  messages.forEach((m, i) => {
    if (m.value) values.set(m.value, at)
    at += m.value?.byteLength ?? 0
    ends[i] = at
  })
  return { id, values, ends, limits }
}
