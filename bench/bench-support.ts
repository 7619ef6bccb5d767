/** Shared pieces of the benchmarks: data, child processes, memory, percentiles, output. */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { CrmEvent } from '../schemas/events.schema.ts'
import { generateOrg } from '../services/demo/org-generator.ts'

export const tmp = (name: string) => path.join(os.tmpdir(), `dugout-bench-${name}-${Date.now().toString(36)}`)

/** Events of a realistic org (the demo generator), as NDJSON lines, `count` of them. */
export function* orgEventLines(org: string, count: number): Generator<string> {
  let n = 0
  for (let round = 0; n < count; round++) {
    // Many weeks of a mid-sized org; rounds get new ids by using another org-local seed and prefix.
    for (const event of generateOrg({
      org,
      managers: 8,
      repsPerManager: 8,
      weeks: 52,
      seed: 7 + round,
      start: '2025-01-06',
    })) {
      const e: CrmEvent = round === 0 ? event : { ...event, event_id: `${event.event_id}-r${round}` }
      yield JSON.stringify(e)
      if (++n >= count) return
    }
  }
}

export function writeNdjson(file: string, lines: Iterable<string>): { count: number; bytes: number } {
  const fd = fs.openSync(file, 'w')
  let count = 0
  let bytes = 0
  let buffer: string[] = []
  const flush = () => {
    const text = buffer.join('')
    bytes += Buffer.byteLength(text)
    fs.writeSync(fd, text)
    buffer = []
  }
  for (const line of lines) {
    buffer.push(`${line}\n`)
    count++
    if (buffer.length >= 10_000) flush()
  }
  flush()
  fs.closeSync(fd)
  return { count, bytes }
}

/** Peak resident memory of a live process (VmHWM), in MiB. */
export function peakRssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return kb / 1024
}

/** Resident memory of a live process now, anonymous and file-backed, in MiB. */
export function residentMiB(pid: number): { anonymous: number; file: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
  return { anonymous: kb('RssAnon') / 1024, file: kb('RssFile') / 1024 }
}

/** CPU time (user + system, all threads) a process has used so far, in seconds. */
export function cpuSeconds(pid: number): number {
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return ticks / CLOCK_TICKS_PER_SECOND
}

/** USER_HZ, 100 on Linux on every architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100

export function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN
}

/** The middle value; of an even count, the mean of the two middle ones. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export interface Figure {
  name: string
  value: string
  target?: string
  ok?: boolean
}

export function printFigures(title: string, figures: Figure[]): void {
  process.stdout.write(`\n${title}\n`)
  for (const f of figures) {
    const verdict = f.ok === undefined ? '' : f.ok ? '  ✓' : '  ✗'
    process.stdout.write(
      `  ${f.name.padEnd(56)} ${f.value.padStart(16)}${f.target ? `   (target ${f.target})` : ''}${verdict}\n`,
    )
  }
}

/**
 * Runs a child to its end, sampling its peak memory and CPU time (all threads) as it goes: a
 * process's /proc entry is gone once it has exited, so the last sample stands for the total.
 */
export async function runSampled(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; output: string; peakMiB: number; cpuSeconds: number; seconds: number }> {
  const started = performance.now()
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  let peakMiB = 0
  let cpu = 0
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output += d.toString()))
  const sample = () => {
    try {
      peakMiB = Math.max(peakMiB, peakRssMiB(child.pid!))
      cpu = cpuSeconds(child.pid!)
    } catch {
      // exited
    }
  }
  const sampler = setInterval(sample, 50)
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  clearInterval(sampler)
  return { code, output, peakMiB, cpuSeconds: cpu, seconds: (performance.now() - started) / 1000 }
}

export { committedAll } from '../services/kafka/consumer-progress.ts'

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** `BENCH_LOG_LEVEL` for a benchmark's child process, if it is more verbose than `least`. */
export function benchLogLevel(least: 'info' | 'warn'): string {
  const levels = ['trace', 'debug', 'info', 'warn']
  const asked = process.env.BENCH_LOG_LEVEL ?? least
  return levels.includes(asked) && levels.indexOf(asked) < levels.indexOf(least) ? asked : least
}
