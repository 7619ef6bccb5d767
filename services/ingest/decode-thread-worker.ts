/**
 * A decoding thread: judges each message of a chunk (decode, validate, build and encode its row)
 * and sends the verdicts back as columns, with every row's line in one transferred buffer, so
 * that the main thread pays little more than a copy for the chunk.
 */
import { parentPort } from 'node:worker_threads'
import { judgeMessage } from './batch-classifier.ts'
import type { DecodeReply, DecodeRequest } from './decode-thread.ts'

const port = parentPort!
const encoder = new TextEncoder()

port.on('message', (request: DecodeRequest) => {
  const count = request.ends.length
  const reply: DecodeReply = {
    id: request.id,
    ok: new Uint8Array(count),
    orgIds: new Array<string | null>(count).fill(null),
    eventIds: new Array<string | null>(count).fill(null),
    hashes: new Array<string>(count).fill(''),
    occurredAts: new Array<string>(count).fill(''),
    reasons: new Array<string>(count).fill(''),
    rules: new Array<string>(count).fill(''),
    lines: new Uint8Array(0),
    lineEnds: new Uint32Array(count),
  }
  const lines: string[] = []
  let start = 0
  for (let i = 0; i < count; i++) {
    const end = request.ends[i]!
    const verdict = judgeMessage(request.values.subarray(start, end), request.limits)
    start = end
    if (verdict.kind === 'ok') {
      reply.ok[i] = 1
      reply.orgIds[i] = verdict.row.org_id
      reply.eventIds[i] = verdict.row.event_id
      reply.hashes[i] = verdict.row.body_hash
      reply.occurredAts[i] = verdict.row.occurred_at
      lines.push(verdict.line)
    } else {
      reply.orgIds[i] = verdict.orgId ?? null
      reply.eventIds[i] = verdict.eventId ?? null
      reply.reasons[i] = verdict.reason
      reply.rules[i] = verdict.rule
    }
  }
  // One encode of all lines; each line's end is found again from its length in UTF-8.
  reply.lines = encoder.encode(lines.join(''))
  let at = 0
  let line = 0
  for (let i = 0; i < count; i++) {
    if (reply.ok[i] === 1) at += Buffer.byteLength(lines[line++]!)
    reply.lineEnds[i] = at
  }
  port.postMessage(reply, [reply.lines.buffer, reply.lineEnds.buffer, reply.ok.buffer])
})
