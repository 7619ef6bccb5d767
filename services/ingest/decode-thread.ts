/**
 * Decoding on a thread of its own. JSON.parse, validation and the row of each event cost most of
 * ingest's work on the JavaScript thread, which also runs the Kafka client and the pipeline: done
 * on a worker thread, they overlap with both, and the second core does them. A chunk goes over as
 * one buffer of message values, and comes back as columns of verdicts with one buffer of lines
 * (decode-thread-worker.ts): two copies of the bytes and the columns cloned, against about 11 µs
 * of work per event.
 *
 * Measured on the 2-core bench machine (`npm run bench -- ingest`, DUGOUT_INGEST_DECODE_THREADS 0
 * against 1, alternated): the hand-off costs about 5 µs of CPU per event, and the engine's insert
 * threads want the second core as much, so one thread is 10-15 % slower there and it is off by
 * default. It is for machines with cores to spare.
 *
 * A thread that dies (it should not: verdicts are values, nothing in it throws on bad input)
 * fails the chunks it held; the next chunk starts a new one.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import type { ValidationLimits } from '../../schemas/event-validation.ts'
import { decodeMessages, withMessage, type Classified, type IncomingMessage } from './batch-classifier.ts'

export interface DecodeRequest {
  id: number
  /** The chunk's message values, one after another; an absent value is empty. */
  values: Uint8Array<ArrayBuffer>
  /** Where each message's value ends in `values`. */
  ends: Uint32Array<ArrayBuffer>
  limits: ValidationLimits
}

/** Verdicts as columns, indexed by message; the `ok` ones have a line, ending at `lineEnds[i]`. */
export interface DecodeReply {
  id: number
  ok: Uint8Array<ArrayBuffer>
  orgIds: (string | null)[]
  eventIds: (string | null)[]
  hashes: string[]
  occurredAts: string[]
  reasons: string[]
  rules: string[]
  lines: Uint8Array<ArrayBuffer>
  lineEnds: Uint32Array<ArrayBuffer>
}

/** Decodes a chunk of messages, in order, into valid events and dead letters. */
export interface ChunkDecoder {
  decode(messages: readonly IncomingMessage[], limits: ValidationLimits): Promise<Classified[]>
  close(): Promise<void>
}

/**
 * Decoding on the calling thread (`DUGOUT_INGEST_DECODE_THREADS=0`), yielding to the event loop
 * between slices so that a finished write goes on promptly.
 */
export function inThreadDecoder(): ChunkDecoder {
  return {
    async decode(messages, limits) {
      const classified: Classified[] = []
      for (let i = 0; i < messages.length; i += DECODE_SLICE) {
        if (i > 0) await yieldToEventLoop()
        classified.push(...decodeMessages(messages.slice(i, i + DECODE_SLICE), limits))
      }
      return classified
    },
    close: async () => {},
  }
}

/** Messages decoded on the calling thread between two yields to the event loop. */
const DECODE_SLICE = 1_000

interface Pending {
  messages: readonly IncomingMessage[]
  resolve: (classified: Classified[]) => void
  reject: (error: Error) => void
}

class DecodeThread {
  private worker: Worker | undefined
  private readonly pending = new Map<number, Pending>()

  private start(): Worker {
    const worker = new Worker(new URL('./decode-thread-bootstrap.mjs', import.meta.url))
    worker.on('message', (reply: DecodeReply) => {
      const waiting = this.pending.get(reply.id)
      if (!waiting) return
      this.pending.delete(reply.id)
      waiting.resolve(fromReply(reply, waiting.messages))
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

  decode(id: number, messages: readonly IncomingMessage[], limits: ValidationLimits): Promise<Classified[]> {
    this.worker ??= this.start()
    const request = toRequest(id, messages, limits)
    const worker = this.worker
    return new Promise((resolve, reject) => {
      this.pending.set(id, { messages, resolve, reject })
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
      if (messages.length === 0) return Promise.resolve([])
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
  let size = 0
  for (const m of messages) size += m.value?.byteLength ?? 0
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

function fromReply(reply: DecodeReply, messages: readonly IncomingMessage[]): Classified[] {
  const classified = new Array<Classified>(messages.length)
  let lineStart = 0
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!
    const lineEnd = reply.lineEnds[i]!
    const orgId = reply.orgIds[i]
    const eventId = reply.eventIds[i]
    if (reply.ok[i] === 1) {
      classified[i] = withMessage(
        {
          kind: 'ok',
          row: { org_id: orgId!, event_id: eventId!, body_hash: reply.hashes[i]!, occurred_at: reply.occurredAts[i]! },
          line: reply.lines.subarray(lineStart, lineEnd),
        },
        message,
      )
    } else {
      classified[i] = withMessage(
        {
          kind: 'dlq',
          reason: reply.reasons[i]!,
          rule: reply.rules[i]!,
          ...(orgId === null || orgId === undefined ? {} : { orgId }),
          ...(eventId === null || eventId === undefined ? {} : { eventId }),
        },
        message,
      )
    }
    lineStart = lineEnd
  }
  return classified
}
