/**
 * `npm run bench -- soak`: `dugout run` (every service, embedded engine) first ingests a backlog
 * as fast as it can (its measured maximum), then takes a steady stream at 80 % of that maximum
 * for `BENCH_SOAK_MINUTES` (default 10). Every 5 s it samples the process's resident memory and
 * ingest's lag (events on the topic not yet committed); the samples are drawn as an SVG
 * (test-results/soak-<id>.svg) and judged: memory must level off (its slope over the second half
 * is small) and the lag must stay bounded (not grow with time).
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { PROJECT_ROOT, type DugoutConfig } from '../schemas/config.schema.ts'
import { freePort } from '../infra/stack/processes.ts'
import { createEventProducer } from '../services/kafka/event-producer.ts'
import { createKafka, dugoutTopics, ensureTopics } from '../services/kafka/kafka-client.ts'
import {
  benchLogLevel,
  committedAll,
  orgEventLines,
  percentile,
  printFigures,
  sleep,
  tmp,
  type Figure,
} from './bench-support.ts'

export interface SoakSample {
  seconds: number
  rssMiB: number
  lag: number
  produced: number
}

/** Resident memory of a live process now (VmRSS), in MiB. */
function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}

/** Least-squares slope of `y` over `x`. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length
  if (n < 2) return 0
  const mx = points.reduce((s, p) => s + p.x, 0) / n
  const my = points.reduce((s, p) => s + p.y, 0) / n
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0)
  return sxx === 0 ? 0 : points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx
}

/** Two panels, memory and lag over time, as an SVG document. */
export function soakSvg(samples: readonly SoakSample[], title: string): string {
  const width = 900
  const panel = 260
  const margin = { left: 70, right: 20, top: 40, gap: 60 }
  const maxT = Math.max(1, ...samples.map((s) => s.seconds))
  const x = (t: number) => margin.left + (t / maxT) * (width - margin.left - margin.right)
  const draw = (values: number[], top: number, label: string, color: string) => {
    const max = Math.max(1, ...values) * 1.1
    const y = (v: number) => top + panel - (v / max) * panel
    const line = samples.map((s, i) => `${x(s.seconds).toFixed(1)},${y(values[i]!).toFixed(1)}`).join(' ')
    const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
      const v = f * max
      return (
        `<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(v)}" y2="${y(v)}" stroke="#e5e5e5"/>` +
        `<text x="${margin.left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11">${Math.round(v).toLocaleString('en-US')}</text>`
      )
    })
    return (
      `<text x="${margin.left}" y="${top - 8}" font-size="13" font-weight="bold">${label}</text>` +
      ticks.join('') +
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${line}"/>`
    )
  }
  const second = margin.top + panel + margin.gap
  const height = second + panel + 40
  const minutes = Array.from({ length: Math.floor(maxT / 60) + 1 }, (_, m) => m)
  const axis = minutes
    .map((m) => `<text x="${x(m * 60)}" y="${height - 14}" text-anchor="middle" font-size="11">${m} min</text>`)
    .join('')
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${title}</text>`,
    draw(
      samples.map((s) => s.rssMiB),
      margin.top,
      'dugout run resident memory (MiB)',
      '#0072b2',
    ),
    draw(
      samples.map((s) => s.lag),
      second,
      'ingest lag (events not yet committed)',
      '#d55e00',
    ),
    axis,
    '</svg>',
  ].join('\n')
}

export async function benchSoak(config: DugoutConfig, minutes: number, backlog: number): Promise<Figure[]> {
  const id = Date.now().toString(36)
  const topic = `bench.soak.${id}`
  const group = `bench-soak-${id}`
  const chdbPath = tmp('soak-chdb')
  const port = await freePort()
  const kafka = createKafka({ ...config, KAFKA_CLIENT_ID: 'bench-soak' })
  const topicConfig = { ...config, KAFKA_EVENTS_TOPIC: topic, KAFKA_DLQ_TOPIC: `${topic}.dlq` }
  await ensureTopics(kafka, dugoutTopics(topicConfig))
  const producer = await createEventProducer(kafka, topicConfig)
  const logPath = `${tmp('soak')}.log`
  const log = fs.openSync(logPath, 'w')
  process.stderr.write(`soak: process log ${logPath}\n`)
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/dugout.js'), 'run'], {
    env: {
      ...process.env,
      LOG_LEVEL: benchLogLevel('warn'),
      KAFKA_EVENTS_TOPIC: topic,
      KAFKA_DLQ_TOPIC: `${topic}.dlq`,
      KAFKA_CONSUMER_GROUP: group,
      TEMPORAL_TASK_QUEUE: `bench-soak-${id}`,
      CHDB_PATH: chdbPath,
      DUGOUT_HTTP_PORT: String(port),
    },
    stdio: ['ignore', log, log],
  })
  process.once('exit', () => child.kill('SIGKILL'))
  for (;;) {
    if (child.exitCode !== null) throw new Error(`dugout run exited; see ${logPath}`)
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`)
      .then((r) => r.ok)
      .catch(() => false)
    if (ready) break
    await sleep(200)
  }
  // The events are made before anything is timed: the demo generator simulates an org and is
  // slower than ingest, so generating while producing would measure the generator. The soak's
  // stream reuses the pool with new event ids each round.
  const org = `soak-${id}`
  const pool = [...orgEventLines(org, backlog)]
  let taken = 0
  const take = (n: number) => {
    const batch: { orgId: string; value: string }[] = []
    for (let i = 0; i < n; i++, taken++) {
      const line = pool[taken % pool.length]!
      const round = Math.floor(taken / pool.length)
      batch.push({ orgId: org, value: round === 0 ? line : line.replace('"event_id":"', `"event_id":"r${round}-`) })
    }
    return batch
  }
  const admin = kafka.admin()
  await admin.connect()
  const lag = async () => {
    const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] })
    const ends = await admin.fetchTopicOffsets(topic)
    const committed = offsets!.partitions.reduce((s, p) => s + Math.max(0, Number(p.offset)), 0)
    return ends.reduce((s, p) => s + Number(p.high), 0) - committed
  }

  // 1. The maximum: a backlog, from its first send until every offset is committed.
  process.stderr.write(`soak: measuring the maximum with a backlog of ${backlog} events…\n`)
  const maxStarted = performance.now()
  for (let sent = 0; sent < backlog; sent += 5000) await producer.send(take(Math.min(5000, backlog - sent)))
  while (!(await committedAll(kafka, group, topic))) await sleep(200)
  const maxRate = backlog / ((performance.now() - maxStarted) / 1000)
  const rate = Math.round(maxRate * 0.8)

  // 2. The soak: `rate` events/s, sampled every 5 s.
  process.stderr.write(`soak: ${Math.round(maxRate)} events/s at most; ${rate} events/s for ${minutes} min…\n`)
  const samples: SoakSample[] = []
  const started = performance.now()
  let produced = 0
  let nextSample = 0
  while (performance.now() - started < minutes * 60_000) {
    const elapsed = (performance.now() - started) / 1000
    const due = Math.floor(elapsed * rate)
    // At most 5,000 a send: a producer that fell behind catches up in steps, not one huge batch.
    if (due > produced) {
      const n = Math.min(5000, due - produced)
      await producer.send(take(n))
      produced += n
    }
    if (elapsed >= nextSample) {
      samples.push({ seconds: elapsed, rssMiB: rssMiB(child.pid!), lag: await lag(), produced })
      nextSample += 5
    }
    await sleep(100)
  }
  await admin.disconnect()
  await producer.disconnect()
  child.kill('SIGTERM')
  await new Promise((resolve) => child.once('exit', resolve))
  fs.rmSync(chdbPath, { recursive: true, force: true })

  const outDir = path.join(PROJECT_ROOT, 'test-results')
  fs.mkdirSync(outDir, { recursive: true })
  const plot = path.join(outDir, `soak-${id}.svg`)
  fs.writeFileSync(plot, soakSvg(samples, `soak: ${rate} events/s (80 % of ${Math.round(maxRate)}) for ${minutes} min`))
  fs.writeFileSync(plot.replace(/\.svg$/, '.json'), JSON.stringify({ maxRate, rate, samples }, null, 2))

  const secondHalf = samples.filter((s) => s.seconds >= (minutes * 60) / 2)
  const memorySlope = slope(secondHalf.map((s) => ({ x: s.seconds / 60, y: s.rssMiB })))
  const lagSlope = slope(secondHalf.map((s) => ({ x: s.seconds / 60, y: s.lag })))
  const lags = samples.map((s) => s.lag)
  return [
    { name: 'maximum (backlog, events/s)', value: `${Math.round(maxRate)}` },
    { name: 'soak rate (events/s, 80 %)', value: `${Math.round(produced / (minutes * 60))}` },
    {
      name: 'memory at 1 min / at the end (MiB)',
      value: `${samples[Math.min(12, samples.length - 1)]?.rssMiB.toFixed(0)} / ${samples.at(-1)?.rssMiB.toFixed(0)}`,
    },
    {
      name: 'memory slope, second half (MiB/min)',
      value: memorySlope.toFixed(2),
      target: '≤ 5 MiB/min',
      ok: memorySlope <= 5,
    },
    { name: 'lag p50 / p95 (events)', value: `${percentile(lags, 0.5)} / ${percentile(lags, 0.95)}` },
    {
      // Bounded: over the second half the lag grows by less than one second of events.
      name: 'lag growth over the second half (events)',
      value: (lagSlope * (minutes / 2)).toFixed(0),
      target: `≤ ${rate} (one second of events)`,
      ok: lagSlope * (minutes / 2) <= rate,
    },
    { name: 'plot', value: path.relative(PROJECT_ROOT, plot) },
  ]
}

export function printSoak(figures: Figure[]): void {
  printFigures('soak: 80 % of the maximum ingest rate, memory and lag over time', figures)
}

/** `npm run bench -- soak` (bench/main.ts hands over before its own benchmarks). */
export async function soakMain(config: DugoutConfig): Promise<void> {
  const { stackUp } = await import('../infra/stack/local-stack.ts')
  await stackUp(config, (line) => process.stderr.write(`[stack] ${line}\n`))
  printSoak(
    await benchSoak(
      config,
      Number(process.env.BENCH_SOAK_MINUTES ?? 10),
      Number(process.env.BENCH_SOAK_BACKLOG ?? 150_000),
    ),
  )
}
