/**
 * Freshness: the time from producing an event to seeing it counted in a report, while a
 * generated org streams at a sustained rate (default 2,000 events/s). `dugout run` hosts every
 * service in its own process, as a user runs it; each probe is a `recognition.given` in a probe
 * org whose `recognitions` count is polled over the reports HTTP API. `BENCH_LOG_LEVEL=debug`
 * logs each activity's duration in the process log (its path is printed).
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { PROJECT_ROOT, type DugoutConfig } from '../schemas/config.schema.ts'
import { createEventProducer } from '../services/kafka/event-producer.ts'
import { dugoutTopics, ensureTopics, createKafka } from '../services/kafka/kafka-client.ts'
import { benchLogLevel, orgEventLines, percentile, printFigures, sleep, tmp, type Figure } from './bench-support.ts'

export async function benchFreshness(config: DugoutConfig, rate: number, seconds: number): Promise<Figure[]> {
  const id = Date.now().toString(36)
  const topic = `bench.fresh.${id}`
  const chdbPath = tmp('fresh-chdb')
  const port = 18_000 + Math.floor(Math.random() * 1000)
  const env = {
    ...process.env,
    LOG_LEVEL: benchLogLevel('warn'),
    KAFKA_EVENTS_TOPIC: topic,
    KAFKA_DLQ_TOPIC: `${topic}.dlq`,
    KAFKA_CONSUMER_GROUP: `bench-fresh-${id}`,
    TEMPORAL_TASK_QUEUE: `bench-fresh-${id}`,
    CHDB_PATH: chdbPath,
    DUGOUT_HTTP_PORT: String(port),
  }
  const kafka = createKafka({ ...config, KAFKA_CLIENT_ID: 'bench' })
  const topicConfig = { ...config, KAFKA_EVENTS_TOPIC: topic, KAFKA_DLQ_TOPIC: `${topic}.dlq` }
  await ensureTopics(kafka, dugoutTopics(topicConfig))
  const producer = await createEventProducer(kafka, topicConfig)
  const logPath = `${tmp('fresh')}.log`
  const log = fs.openSync(logPath, 'w')
  process.stderr.write(`freshness: process log ${logPath}\n`)
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin/dugout.js'), 'run'], {
    env,
    stdio: ['ignore', log, log],
  })
  // However the benchmark ends, its child does not outlive it.
  process.once('exit', () => child.kill('SIGKILL'))
  const base = `http://127.0.0.1:${port}`
  for (;;) {
    if (child.exitCode !== null) throw new Error('dugout run exited')
    const ready = await fetch(`${base}/readyz`)
      .then((r) => r.ok)
      .catch(() => false)
    if (ready) break
    await sleep(200)
  }

  const probeOrg = `probe-${id}`
  const day = new Date().toISOString().slice(0, 10)
  const at = () => new Date().toISOString()
  const probe = (n: number) =>
    JSON.stringify({
      event_id: `probe-${n}`,
      org_id: probeOrg,
      type: 'recognition.given',
      schema_version: 1,
      occurred_at: at(),
      source: { system: 'api' },
      payload: { from_id: 'm1', to_ids: ['r1'] },
    })
  // The probe org: a manager and a rep, so that a recognition counts.
  const people = ['m1', 'r1'].map((user, i) =>
    JSON.stringify({
      event_id: `probe-user-${user}`,
      org_id: probeOrg,
      type: 'user.upserted',
      schema_version: 1,
      occurred_at: new Date(Date.now() - 86_400_000).toISOString(),
      source: { system: 'api' },
      payload: {
        user_id: user,
        display_name: user,
        role: i === 0 ? 'manager' : 'rep',
        manager_id: i === 0 ? null : 'm1',
        active: true,
      },
    }),
  )
  await producer.send(people.map((value) => ({ orgId: probeOrg, value })))
  const recognitions = async () => {
    const rows = (await fetch(`${base}/v1/orgs/${probeOrg}/reports/manager-care?from=${day}&to=${day}`).then((r) =>
      r.json(),
    )) as {
      recognitions: number
    }[]
    return rows[0]?.recognitions ?? 0
  }

  process.stderr.write(`freshness: streaming ${rate} events/s for ${seconds} s with a probe every second…\n`)
  const load = orgEventLines(`load-${id}`, rate * seconds)
  // One poller for every probe in flight, every 100 ms: the reports share the engine with what
  // is measured, and a poller per probe at a faster pace would slow down what it measures.
  const latencies: number[] = []
  const sentAt: number[] = []
  let watching = true
  const poller = (async () => {
    while (watching) {
      const seen = await recognitions().catch(() => latencies.length)
      while (latencies.length < Math.min(seen, sentAt.length))
        latencies.push((performance.now() - sentAt[latencies.length]!) / 1000)
      await sleep(100)
    }
  })()
  const started = performance.now()
  let probes = 0
  let sent = 0
  const tick = 100
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate)
    const batch: { orgId: string; value: string }[] = []
    while (sent < due) {
      const next = load.next()
      if (next.done) break
      batch.push({ orgId: `load-${id}`, value: next.value })
      sent++
    }
    await producer.send(batch)
    if (performance.now() - started >= probes * 1000 + 2000) {
      sentAt.push(performance.now())
      await producer.send([{ orgId: probeOrg, value: probe(probes++) }])
    }
    await sleep(tick)
  }
  const deadline = performance.now() + 60_000
  while (latencies.length < probes && performance.now() < deadline) await sleep(100)
  watching = false
  await poller
  child.kill('SIGTERM')
  await new Promise((resolve) => child.once('exit', resolve))
  fs.rmSync(chdbPath, { recursive: true, force: true })
  await producer.disconnect()
  const p95 = percentile(latencies, 0.95)
  // When the slowest probes were sent tells a stall (several in a row) from scattered waits.
  const slowest = latencies
    .map((latency, i) => ({ latency, at: (sentAt[i]! - started) / 1000 }))
    .sort((a, b) => b.latency - a.latency)
    .slice(0, 3)
  return [
    { name: 'load (events/s, sustained)', value: `${Math.round(sent / seconds)}` },
    { name: 'probes seen in a report', value: `${latencies.length}/${probes}` },
    { name: 'freshness p50 (s)', value: percentile(latencies, 0.5).toFixed(2) },
    { name: 'freshness p95 (s)', value: p95.toFixed(2), target: '≤ 3 s', ok: p95 <= 3 },
    {
      name: 'slowest probes (latency s @ sent at s)',
      value: slowest.map((p) => `${p.latency.toFixed(2)} @ ${p.at.toFixed(0)}`).join(', '),
    },
  ]
}

export function printFreshness(figures: Figure[]): void {
  printFigures('Freshness: produce → visible in a report (dugout run, all services)', figures)
}
