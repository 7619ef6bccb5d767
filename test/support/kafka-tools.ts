/** Kafka's own command-line tools (the broker's jars), as a producer Dugout did not write. */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { kafkaClasspath, kafkaPaths } from '../../infra/stack/kafka-broker.ts'
import { PROJECT_ROOT } from '../../schemas/config.schema.ts'
import { config } from './env.ts'

export interface ConsoleProduceOptions {
  topic: string
  /** Kafka's `--compression-codec`: none, gzip, snappy, lz4, zstd. */
  codec: string
  /** Lines are `key<TAB>value`; the value `NULL` sends a null value. */
  keyed: boolean
  brokers?: string[]
}

/** Sends each line as one record with `kafka-console-producer` (Java client, acks=all). */
export async function consoleProduce(lines: string[], options: ConsoleProduceOptions): Promise<void> {
  const args = [
    '-Xmx256m',
    `-Dlog4j.configuration=file:${path.join(PROJECT_ROOT, 'infra/kafka/log4j.properties')}`,
    '-cp',
    kafkaClasspath(config.DUGOUT_HOME),
    'kafka.tools.ConsoleProducer',
    '--bootstrap-server',
    (options.brokers ?? config.KAFKA_BROKERS).join(','),
    '--topic',
    options.topic,
    '--compression-codec',
    options.codec,
    '--request-required-acks',
    'all',
    ...(options.keyed ? ['--property', 'parse.key=true', '--property', 'key.separator=\t'] : []),
    '--property',
    'null.marker=NULL',
  ]
  const child = spawn('java', args, { stdio: ['pipe', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', resolve)
  })
  child.stdin.end(`${lines.join('\n')}\n`)
  const code = await exited
  if (code !== 0) throw new Error(`kafka-console-producer exited with ${code}:\n${stderr}`)
}

/** The folder of one partition's log segments on a local broker (default: the stack's own). */
export function partitionLogDir(
  topic: string,
  partition: number,
  home = config.DUGOUT_HOME,
  instanceDir?: string,
): string {
  return path.join(kafkaPaths(home, instanceDir).data, `${topic}-${partition}`)
}
