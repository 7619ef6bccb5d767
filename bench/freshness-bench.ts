/**
 * Freshness: the time from producing an event to seeing it counted in a report, while a
 * generated org streams at a sustained rate (default 2,000 events/s). `dugout run` hosts every
 * service in its own process, as a user runs it; each probe is a `recognition.given` in a probe
 * org whose `recognitions` count is polled over the reports HTTP API. `BENCH_LOG_LEVEL=debug`
 * logs each activity's duration in the process log (its path is printed). The multi-tenant row
 * (issue 17) streams the same total rate from one org and then from 100 (`BENCH_FRESHNESS_TENANTS`),
 * each in a `dugout run` of its own, and gives the ratio of their p95.
 */
import { createEventProducer } from '../services/kafka/event-producer.ts'
import { createKafka } from '../services/kafka/kafka-client.ts'
import type { DugoutConfig } from '../schemas/config.schema.ts'
import { apiKeyHash, generateApiKey } from '../services/runtime/api-keys.ts'
import { startDugoutRun } from './dugout-run.ts'
import { orgEventLines, percentile, printFigures, sleep, type Figure } from './bench-support.ts'

export async function benchFreshness(config: DugoutConfig, rate: number, seconds: number): Promise<Figure[]> {
  const run = await measureFreshness(config, rate, seconds, 1)
  return [
    ...run.figures,
    { name: 'freshness p95 (s)', value: run.p95.toFixed(2), target: '≤ 3 s', ok: run.p95 <= 3 },
    run.slowest,
  ]
}

/**
 * The multi-tenant row: the same total rate spread over one org and over `tenants` orgs, each in a
 * `dugout run` of its own, and the ratio of their p95 (issue 17: ≤ 2, and ≤ 5 s absolute).
 */
export async function benchFreshnessTenants(
  config: DugoutConfig,
  rate: number,
  seconds: number,
  tenants: number,
): Promise<Figure[]> {
  const one = await measureFreshness(config, rate, seconds, 1)
  const many = await measureFreshness(config, rate, seconds, tenants)
  const ratio = many.p95 / one.p95
  const row = (label: string, r: FreshnessRun): Figure[] => [
    { name: `${label}: probes seen`, value: `${r.seen}/${r.probes}` },
    { name: `${label}: freshness p50 / p95 (s)`, value: `${r.p50.toFixed(2)} / ${r.p95.toFixed(2)}` },
  ]
  return [
    { name: 'load (events/s, total)', value: `${rate}` },
    ...row('1 org', one),
    ...row(`${tenants} orgs`, many),
    {
      name: `${tenants} orgs p95 (s)`,
      value: many.p95.toFixed(2),
      target: '≤ 5 s',
      ok: many.p95 <= 5,
    },
    { name: `p95 ${tenants} orgs / 1 org`, value: ratio.toFixed(2), target: '≤ 2', ok: ratio <= 2 },
  ]
}

interface FreshnessRun {
  figures: Figure[]
  p50: number
  p95: number
  seen: number
  probes: number
  slowest: Figure
}

async function measureFreshness(
  config: DugoutConfig,
  rate: number,
  seconds: number,
  orgs: number,
): Promise<FreshnessRun> {
  const id = Date.now().toString(36)
  const probeOrg = `probe-${id}`
  // The probes read the report with a read key of the probe org's own.
  const key = generateApiKey()
  const kafka = createKafka({ ...config, KAFKA_CLIENT_ID: 'bench' })
  const run = await startDugoutRun(config, kafka, 'fresh', {
    DUGOUT_API_KEYS: `${probeOrg}:read:sha256:${apiKeyHash(probeOrg, key, 'read').sha256}`,
  })
  const producer = await createEventProducer(kafka, run.topicConfig)
  const base = run.base

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
    const rows = (await fetch(`${base}/v1/orgs/${probeOrg}/reports/manager-care?from=${day}&to=${day}`, {
      headers: { authorization: `Bearer ${key}` },
    }).then((r) => r.json())) as {
      recognitions: number
    }[]
    return rows[0]?.recognitions ?? 0
  }

  process.stderr.write(
    `freshness: streaming ${rate} events/s over ${orgs} org(s) for ${seconds} s with a probe every second…\n`,
  )
  const loads = Array.from({ length: orgs }, (_, k) => {
    const org = orgs === 1 ? `load-${id}` : `load-${id}-${k}`
    return { org, lines: orgEventLines(org, Math.ceil((rate * seconds) / orgs)) }
  })
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
    // Round robin over the orgs: each sends its share of the total rate.
    while (sent < due) {
      const load = loads[sent % orgs]!
      const next = load.lines.next()
      if (next.done) break
      batch.push({ orgId: load.org, value: next.value })
      sent++
    }
    await producer.send(batch)
    if (performance.now() - started >= probes * 1000 + 2000) {
      sentAt.push(performance.now())
      await producer.send([{ orgId: probeOrg, value: probe(probes++) }])
    }
    await sleep(tick)
  }
  const deadline = performance.now() + 150_000
  while (latencies.length < probes && performance.now() < deadline) await sleep(100)
  watching = false
  await poller
  await run.stop()
  await producer.disconnect()
  const p95 = percentile(latencies, 0.95)
  // When the slowest probes were sent tells a stall (several in a row) from scattered waits.
  const slowest = latencies
    .map((latency, i) => ({ latency, at: (sentAt[i]! - started) / 1000 }))
    .sort((a, b) => b.latency - a.latency)
    .slice(0, 3)
  return {
    figures: [
      { name: 'load (events/s, sustained)', value: `${Math.round(sent / seconds)}` },
      { name: 'probes seen in a report', value: `${latencies.length}/${probes}` },
      { name: 'freshness p50 (s)', value: percentile(latencies, 0.5).toFixed(2) },
    ],
    p50: percentile(latencies, 0.5),
    p95,
    seen: latencies.length,
    probes,
    slowest: {
      name: 'slowest probes (latency s @ sent at s)',
      value: slowest.map((p) => `${p.latency.toFixed(2)} @ ${p.at.toFixed(0)}`).join(', '),
    },
  }
}

export function printFreshness(figures: Figure[]): void {
  printFigures('Freshness: produce → visible in a report (dugout run, all services)', figures)
}

export function printFreshnessTenants(figures: Figure[]): void {
  printFigures('Freshness, multi-tenant: the same total rate over 1 org and over many (dugout run)', figures)
}
