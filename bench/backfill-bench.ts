/**
 * Backfill: `dugout import --wait` of about a year of events of one org, then of as many events
 * spread over many orgs (default 50), each into a `dugout run` of its own; the time from the start
 * of the import to metrics complete, and the ratio (issue 17: ≤ 2). The orgs are the demo
 * generator's smallest (a manager and two reps over 52 weeks), thinned to every k-th event (the org
 * chart kept whole) so that each org's events still span the year.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { PROJECT_ROOT, type DugoutConfig } from '../schemas/config.schema.ts'
import { createKafka } from '../services/kafka/kafka-client.ts'
import { generateOrg } from '../services/demo/org-generator.ts'
import { startDugoutRun } from './dugout-run.ts'
import { printFigures, tmp, writeNdjson, type Figure } from './bench-support.ts'

/** A year of a small org's events, about `count` of them. */
function* thinnedOrg(org: string, count: number, seed: number): Generator<string> {
  const options = { org, managers: 1, repsPerManager: 2, weeks: 52, seed, start: '2025-01-06' }
  const all = [...generateOrg(options)]
  const stride = Math.max(1, Math.floor(all.length / count))
  let n = 0
  for (const [i, event] of all.entries()) {
    if (event.type !== 'user.upserted' && i % stride !== 0) continue
    if (n++ >= count) return
    yield JSON.stringify(event)
  }
}

function* spread(prefix: string, orgs: number, total: number): Generator<string> {
  for (let k = 0; k < orgs; k++)
    yield* thinnedOrg(orgs === 1 ? prefix : `${prefix}-${k}`, Math.ceil(total / orgs), 7 + k)
}

interface BackfillRun {
  events: number
  importSeconds: number
  completeSeconds: number
}

async function backfill(config: DugoutConfig, orgs: number, total: number): Promise<BackfillRun> {
  const id = Date.now().toString(36)
  const file = `${tmp('backfill')}.ndjson`
  const { count } = writeNdjson(file, spread(`backfill-${id}`, orgs, total))
  const kafka = createKafka({ ...config, KAFKA_CLIENT_ID: 'bench' })
  const run = await startDugoutRun(config, kafka, 'backfill')
  try {
    process.stderr.write(`backfill: dugout import --wait of ${count} events over ${orgs} org(s)…\n`)
    const started = performance.now()
    const child = spawn(
      process.execPath,
      [path.join(PROJECT_ROOT, 'bin/dugout.js'), 'import', file, '--no-progress', '--wait', '--wait-timeout', '3600'],
      { env: run.env, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let output = ''
    let imported = NaN
    const onData = (d: Buffer) => {
      output += d.toString()
      // The import's own summary comes before the wait.
      if (Number.isNaN(imported) && /events\/s/.test(output)) imported = (performance.now() - started) / 1000
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    const completeSeconds = (performance.now() - started) / 1000
    if (code !== 0) throw new Error(`dugout import --wait failed:\n${output}`)
    return { events: count, importSeconds: imported, completeSeconds }
  } finally {
    await run.stop()
    fs.rmSync(file, { force: true })
  }
}

export async function benchBackfill(config: DugoutConfig, total: number, orgs: number): Promise<Figure[]> {
  const one = await backfill(config, 1, total)
  const many = await backfill(config, orgs, total)
  const ratio = many.completeSeconds / one.completeSeconds
  return [
    { name: '1 org: events', value: `${one.events}` },
    {
      name: '1 org: import / metrics complete (s)',
      value: `${one.importSeconds.toFixed(1)} / ${one.completeSeconds.toFixed(1)}`,
    },
    { name: `${orgs} orgs: events`, value: `${many.events}` },
    {
      name: `${orgs} orgs: import / metrics complete (s)`,
      value: `${many.importSeconds.toFixed(1)} / ${many.completeSeconds.toFixed(1)}`,
    },
    { name: `metrics complete, ${orgs} orgs / 1 org`, value: ratio.toFixed(2), target: '≤ 2', ok: ratio <= 2 },
  ]
}

export function printBackfill(figures: Figure[]): void {
  printFigures('Backfill: dugout import --wait, one org vs many orgs of the same total events', figures)
}
