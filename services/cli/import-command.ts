/** `dugout import <file>`: a file of events into Kafka at full speed, with progress. */
import { Command, Option } from 'commander'
import fs from 'node:fs'
import path from 'node:path'
import type { Readable } from 'node:stream'
import type { DugoutConfig } from '../../schemas/config.schema.ts'
import { defaultLimits } from '../../schemas/event-validation.ts'
import { importEvents } from '../collector/file-import.ts'
import { createEventProducer } from '../kafka/event-producer.ts'
import { createKafka, dugoutTopics, ensureTopics } from '../kafka/kafka-client.ts'
import { topicEnds, waitForMetrics } from './metrics-wait.ts'
import { createProgress } from './progress-display.ts'

export interface ImportCommandOptions {
  format: 'auto' | 'ndjson' | 'json'
  rejected?: string
  batchSize: number
  progress: boolean
  wait: boolean
  waitTimeout: number
}

/** NDJSON unless the file says otherwise: a `.json` name or a first character `[`. */
export function detectFormat(file: string, requested: ImportCommandOptions['format']): 'ndjson' | 'json-array' {
  if (requested === 'ndjson') return 'ndjson'
  if (requested === 'json') return 'json-array'
  if (file === '-') return 'ndjson'
  if (file.endsWith('.json')) return 'json-array'
  const fd = fs.openSync(file, 'r')
  try {
    const head = Buffer.alloc(256)
    const n = fs.readSync(fd, head, 0, head.length, 0)
    return head.subarray(0, n).toString('utf8').trimStart().startsWith('[') ? 'json-array' : 'ndjson'
  } finally {
    fs.closeSync(fd)
  }
}

export async function runImport(file: string, options: ImportCommandOptions, config: DugoutConfig): Promise<void> {
  if (file !== '-' && !fs.existsSync(file)) throw new Error(`import: no such file: ${file}`)
  const format = detectFormat(file, options.format)
  const rejectedPath =
    options.rejected ??
    (file === '-'
      ? `import-${new Date().toISOString().replace(/[:.]/g, '-')}.rejected.ndjson`
      : `${file}.rejected.ndjson`)
  const kafka = createKafka(config)
  await ensureTopics(kafka, dugoutTopics(config))
  const producer = await createEventProducer(kafka, config)
  const input: Readable = file === '-' ? process.stdin : fs.createReadStream(file, { highWaterMark: 1 << 20 })
  const rejected = fs.createWriteStream(rejectedPath)
  const reporter = createProgress({
    total: file === '-' ? undefined : fs.statSync(file).size,
    enabled: options.progress,
    barFormat: 'import |{bar}| {percentage}% | {read} events | {rate} events/s | {rejected} rejected',
    initial: { read: 0, rejected: 0 },
    line: (read, rate, percent, extra) =>
      `import: ${read} events${percent === undefined ? '' : ` (${percent}%)`}, ${rate} events/s, ${extra.rejected ?? 0} rejected`,
  })
  try {
    const summary = await importEvents(
      input,
      { format, sourceName: path.basename(file === '-' ? 'stdin' : file), batchSize: options.batchSize },
      {
        producer,
        limits: () => defaultLimits(new Date()),
        rejected,
        onProgress: (p) => reporter.update(p.bytes, p.read, { read: p.read, rejected: p.rejected }),
      },
    )
    reporter.stop()
    const rate = Math.round(summary.read / Math.max(summary.seconds, 0.001))
    process.stdout.write(
      `imported ${summary.accepted} events into ${config.KAFKA_EVENTS_TOPIC} in ${summary.seconds.toFixed(1)} s (${rate} events/s); ` +
        `${summary.rejected} rejected${summary.rejected ? ` (reasons in ${rejectedPath}, originals in ${config.KAFKA_DLQ_TOPIC})` : ''}\n`,
    )
    // The first reasons where the user looks: a file of invalid UTF-8 should not look imported.
    const place = format === 'ndjson' ? 'line' : 'event'
    for (const { line, reason } of summary.firstRejections) {
      process.stdout.write(`  rejected ${place} ${line}: ${reason}\n`)
    }
    if (summary.rejected > summary.firstRejections.length) {
      process.stdout.write(`  … and ${summary.rejected - summary.firstRejections.length} more in ${rejectedPath}\n`)
    }
    if (options.wait) {
      const started = performance.now()
      process.stderr.write('waiting until the metrics reflect the import…\n')
      await waitForMetrics(config, kafka, summary.orgs, await topicEnds(kafka, config.KAFKA_EVENTS_TOPIC), {
        timeoutMs: options.waitTimeout * 1000,
        onWaiting: (what) => process.stderr.write(`still waiting for ${what}\n`),
        ingestHint: '; is `dugout up` running?',
      })
      process.stdout.write(
        `metrics up to date (${((performance.now() - started) / 1000).toFixed(1)} s after the import)\n`,
      )
    }
  } finally {
    reporter.stop()
    await new Promise<void>((resolve) => rejected.end(resolve))
    const stat = fs.statSync(rejectedPath)
    if (stat.size === 0) fs.rmSync(rejectedPath)
    await producer.disconnect()
  }
}

export function importCommand(config: () => DugoutConfig): Command {
  return new Command('import')
    .description('Send a file of CRM events (NDJSON or a JSON array; - for stdin) to Kafka, with progress.')
    .argument('<file>', 'the file, or - for standard input')
    .addOption(new Option('--format <format>', 'input format').choices(['auto', 'ndjson', 'json']).default('auto'))
    .option('--rejected <path>', 'where to write rejected events with reasons (default <file>.rejected.ndjson)')
    .addOption(
      new Option('--batch-size <n>', 'events per Kafka batch').default(5000).argParser((v) => {
        const n = Number(v)
        if (!Number.isInteger(n) || n < 1 || n > 100_000)
          throw new Error('--batch-size must be a whole number from 1 to 100000')
        return n
      }),
    )
    .option('--no-progress', 'no progress display')
    .option('--wait', 'return only when everything imported is reflected in the metrics')
    .addOption(
      new Option('--wait-timeout <seconds>', 'give up waiting after this long').default(900).argParser((v) => {
        const n = Number(v)
        if (!Number.isInteger(n) || n < 1) throw new Error('--wait-timeout must be a whole number of seconds')
        return n
      }),
    )
    .action(async (file: string, options: ImportCommandOptions) => {
      await runImport(file, options, config())
    })
}
