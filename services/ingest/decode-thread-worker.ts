/**
 * A decoding thread: judges each message of a chunk (decode, validate, build and encode its row)
 * and sends the verdicts back as they are built, columns with every row's line in one buffer,
 * transferred, so that the main thread pays little more than a copy for the chunk.
 */
import { parentPort } from 'node:worker_threads'
import { VerdictColumns } from './batch-classifier.ts'
import type { DecodeReply, DecodeRequest } from './decode-thread.ts'

const port = parentPort!

port.on('message', (request: DecodeRequest) => {
  const count = request.ends.length
  const columns = new VerdictColumns(count, request.values.byteLength)
  let start = 0
  for (let i = 0; i < count; i++) {
    const end = request.ends[i]!
    columns.judge(i, request.values.subarray(start, end), request.limits)
    start = end
  }
  const reply: DecodeReply = { id: request.id, ...columns.finish() }
  port.postMessage(reply, [reply.lines.buffer, reply.lineEnds.buffer, reply.ok.buffer])
})
