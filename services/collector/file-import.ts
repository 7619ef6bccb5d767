/**
 * File import: NDJSON (streamed, constant memory) or a JSON array, validated event by event and
 * sent to Kafka in batches. Invalid events are never dropped: each goes to the dead-letter topic
 * and to a rejected-lines file with its reasons, and the import goes on.
 */
import type { Readable, Writable } from 'node:stream'
import {
  decodeBatch,
  decodeEvent,
  formatIssues,
  type DecodeResult,
  type ValidationLimits,
} from '../../schemas/event-validation.ts'
import type { DeadLetter, EventProducer, OutgoingEvent } from '../kafka/event-producer.ts'

export interface ImportProgress {
  /** Events read so far (valid and invalid; blank lines are not events). */
  read: number
  accepted: number
  rejected: number
  /** Bytes of input consumed, for a progress bar over the file size. */
  bytes: number
}

export interface ImportSummary extends ImportProgress {
  seconds: number
  /** Orgs of the accepted events, for `--wait`. */
  orgs: string[]
  /** The first few rejections (line or position, and reasons), for the command's summary. */
  firstRejections: { line: number; reason: string }[]
}

/** How many rejections `ImportSummary.firstRejections` keeps. */
export const FIRST_REJECTIONS = 5

export interface ImportDeps {
  producer: EventProducer
  limits: () => ValidationLimits
  /** Where each rejected event is written as a JSON line `{ line, reasons, raw }`. */
  rejected?: Writable
  onProgress?: (progress: ImportProgress) => void
  now?: () => number
}

export interface ImportOptions {
  format: 'ndjson' | 'json-array'
  /** Names the input in dead-letter headers, e.g. the file name. */
  sourceName: string
  batchSize?: number
  /** Batches in flight to Kafka at once: overlaps reading and validating with the network. */
  maxInFlight?: number
}

export class ImportSendError extends Error {
  readonly code = 'IMPORT_SEND_FAILED'
}

export async function importEvents(input: Readable, options: ImportOptions, deps: ImportDeps): Promise<ImportSummary> {
  const now = deps.now ?? (() => performance.now())
  const started = now()
  const batchSize = options.batchSize ?? 5000
  const maxInFlight = options.maxInFlight ?? 4
  const progress: ImportProgress = { read: 0, accepted: 0, rejected: 0, bytes: 0 }
  const orgs = new Set<string>()
  const firstRejections: ImportSummary['firstRejections'] = []
  let confirmed = 0
  let batch: OutgoingEvent[] = []
  let letters: DeadLetter[] = []
  const inFlight: Promise<void>[] = []

  const flush = async () => {
    const events = batch
    const dead = letters
    batch = []
    letters = []
    if (events.length === 0 && dead.length === 0) return
    const sent = Promise.all([deps.producer.send(events), deps.producer.sendDeadLetters(dead)]).then(() => {
      confirmed += events.length + dead.length
    })
    inFlight.push(sent)
    if (inFlight.length >= maxInFlight) await inFlight.shift()
  }

  const take = async (result: DecodeResult, position: number) => {
    progress.read++
    if (result.ok) {
      progress.accepted++
      orgs.add(result.event.org_id)
      batch.push({ orgId: result.event.org_id, value: result.raw })
    } else {
      progress.rejected++
      const reason = formatIssues(result.issues)
      if (firstRejections.length < FIRST_REJECTIONS) firstRejections.push({ line: position, reason })
      letters.push({
        raw: result.raw,
        reason,
        rules: [...new Set(result.issues.map((issue) => issue.rule))],
        source: `import:${options.sourceName}:${position}`,
        ...(result.orgId === undefined ? {} : { orgId: result.orgId }),
        ...(result.eventId === undefined ? {} : { eventId: result.eventId }),
      })
      deps.rejected?.write(`${JSON.stringify({ line: position, reasons: result.issues, raw: result.raw })}\n`)
    }
    if (batch.length + letters.length >= batchSize) {
      await flush()
      deps.onProgress?.(progress)
    }
  }

  try {
    if (options.format === 'ndjson') {
      // Lines are read as bytes, not text: a line of invalid UTF-8 is rejected (invalid_utf8) with
      // its number, as the API rejects it, instead of being decoded with U+FFFD and accepted.
      let lineNumber = 0
      let limits = deps.limits()
      for await (const line of byteLines(input)) {
        lineNumber++
        progress.bytes += line.byteLength + 1
        if (isBlank(line)) continue
        if (lineNumber % batchSize === 0) limits = deps.limits()
        await take(decodeEvent(line, limits), lineNumber)
      }
    } else {
      const chunks: Buffer[] = []
      for await (const chunk of input) chunks.push(Buffer.from(chunk as Buffer))
      const body = Buffer.concat(chunks)
      progress.bytes = body.byteLength
      for (const item of decodeBatch(body, 'json-array', deps.limits())) await take(item, item.index + 1)
    }
    await flush()
    await Promise.all(inFlight)
  } catch (error) {
    await Promise.allSettled(inFlight)
    throw new ImportSendError(
      `import stopped after ${confirmed} of ${progress.read} events were acknowledged by Kafka: ${(error as Error).message}. ` +
        'Running the same import again is safe: events are deduplicated by event_id.',
      { cause: error },
    )
  }
  deps.onProgress?.(progress)
  return { ...progress, seconds: (now() - started) / 1000, orgs: [...orgs].sort(), firstRejections }
}

/** The lines of a stream as bytes, without their `\n` (or `\r\n`). */
async function* byteLines(input: Readable): AsyncGenerator<Buffer> {
  let rest: Buffer = Buffer.alloc(0)
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer)
    const data = rest.byteLength === 0 ? bytes : Buffer.concat([rest, bytes])
    let start = 0
    for (let end = data.indexOf(0x0a, start); end !== -1; end = data.indexOf(0x0a, start)) {
      yield withoutCarriageReturn(data.subarray(start, end))
      start = end + 1
    }
    // Copied, so that a long tail does not keep the whole chunk alive.
    rest = Buffer.from(data.subarray(start))
  }
  if (rest.byteLength > 0) yield withoutCarriageReturn(rest)
}

function withoutCarriageReturn(line: Buffer): Buffer {
  return line.byteLength > 0 && line[line.byteLength - 1] === 0x0d ? line.subarray(0, -1) : line
}

function isBlank(line: Buffer): boolean {
  return line.every((byte) => byte === 0x20 || byte === 0x09 || byte === 0x0d)
}
