// The collector's limits: a cap on events per request (413 naming it, before validation), a budget
// of events per second per org (429 with Retry-After, after authentication), events produced
// before dead letters (a 503 leaves nothing a retry would file twice), sends in slices below the
// topic's message size, dead letters kept in part, and validation that yields to the event loop.
import { afterEach, describe, expect, it } from 'vitest'
import { DEAD_LETTER_HEADERS } from '../../services/kafka/dead-letter-headers.ts'
import type { OutgoingEvent } from '../../services/kafka/event-producer.ts'
import {
  eventBytes,
  MAX_DEAD_LETTER_BYTES,
  MAX_SEND_BYTES,
  sizeSlices,
} from '../../services/collector/kafka-handoff.ts'
import { createOrgRateLimit } from '../../services/collector/org-rate-limit.ts'
import { collectorApp, KEYS, NOW, userEvent, type Harness } from '../fixtures/webhooks/collector-harness.ts'

const event = (id: string, org = 'acme', name?: string) => JSON.stringify(userEvent(id, org, name))

let harness: Harness
afterEach(async () => {
  await harness?.app.close()
})

function post(body: string, org = 'acme') {
  return harness.app.inject({
    method: 'POST',
    url: `/v1/orgs/${org}/events`,
    headers: {
      authorization: `Bearer ${KEYS[org as keyof typeof KEYS]}`,
      'content-type': 'application/x-ndjson',
    },
    payload: body,
  })
}

const lines = (n: number, make: (i: number) => string) => Array.from({ length: n }, (_, i) => make(i)).join('\n')

describe('the cap on events per request', () => {
  it('refuses a body of 100,000 tiny lines with 413 naming the limit, producing nothing', async () => {
    harness = await collectorApp({ maxBodyBytes: 10 * 1024 * 1024 })
    const response = await post(lines(100_000, () => '{}'))
    expect(response.statusCode).toBe(413)
    expect(response.headers['content-type']).toContain('application/problem+json')
    expect(response.json()).toMatchObject({
      status: 413,
      detail: 'the body holds 100000 events, more than the limit of 10000 per request; send them in several requests',
      errors: [{ parameter: 'body', rule: 'must hold at most 10000 events (DUGOUT_COLLECTOR_MAX_EVENTS)' }],
    })
    expect(harness.producer.events).toEqual([])
    expect(harness.producer.deadLetters).toEqual([])
  })

  it('accepts exactly the cap, and counts webhook elements against it too', async () => {
    harness = await collectorApp({ maxEvents: 3 })
    expect((await post(lines(3, (i) => event(`e-${i}`)))).statusCode).toBe(202)
    expect((await post(lines(4, (i) => event(`e-${i}`)))).statusCode).toBe(413)
    expect(harness.producer.events).toHaveLength(3)
  })
})

describe('the rate limit per org', () => {
  it('answers 429 with Retry-After once an org spent its events, and leaves other orgs alone', async () => {
    let now = NOW
    harness = await collectorApp({ maxEvents: 10, eventsPerSecond: 2 }, () => now)
    // A bucket of ten seconds of the rate: 20 events.
    expect((await post(lines(10, (i) => event(`a-${i}`)))).statusCode).toBe(202)
    expect((await post(lines(10, (i) => event(`b-${i}`)))).statusCode).toBe(202)
    const refused = await post(lines(4, (i) => event(`c-${i}`)))
    expect(refused.statusCode).toBe(429)
    expect(refused.headers['retry-after']).toBe('2')
    expect(refused.json()).toMatchObject({
      type: 'urn:dugout:problem:too-many-requests',
      status: 429,
      detail: 'org "acme" sent more than its 2 events per second (DUGOUT_COLLECTOR_RATE_LIMIT); retry in 2 s',
    })
    expect(
      (
        await post(
          lines(4, (i) => event(`g-${i}`, 'globex')),
          'globex',
        )
      ).statusCode,
    ).toBe(202)
    now = new Date(NOW.getTime() + 2000)
    expect((await post(lines(4, (i) => event(`c-${i}`)))).statusCode).toBe(202)
    expect(harness.producer.events).toHaveLength(28)
    const limited = await harness.metrics.rateLimited.get()
    expect(limited.values).toEqual([expect.objectContaining({ labels: { source: 'api' }, value: 1 })])
  })

  it('does not let a request without the org key spend the org budget', async () => {
    harness = await collectorApp({ maxEvents: 10, eventsPerSecond: 1 })
    for (let i = 0; i < 5; i++) {
      const response = await harness.app.inject({
        method: 'POST',
        url: '/v1/orgs/acme/events',
        headers: { authorization: 'Bearer not-a-key', 'content-type': 'application/x-ndjson' },
        payload: lines(10, (j) => event(`x-${i}-${j}`)),
      })
      expect(response.statusCode).toBe(403)
    }
    expect((await post(lines(10, (i) => event(`a-${i}`)))).statusCode).toBe(202)
  })

  it('refills at the rate, never above the bucket, and ignores a clock that steps back', () => {
    const limit = createOrgRateLimit({ eventsPerSecond: 100, maxEventsPerRequest: 5000 })
    expect(limit.capacity).toBe(5000)
    expect(limit.take('acme', 5000, 0)).toEqual({ ok: true })
    expect(limit.take('acme', 1, -10_000)).toEqual({ ok: false, retryAfterSeconds: 1 })
    expect(limit.take('acme', 300, 1000)).toEqual({ ok: false, retryAfterSeconds: 2 })
    expect(limit.take('acme', 100, 1000)).toEqual({ ok: true })
    expect(limit.take('acme', 5000, 1_000_000)).toEqual({ ok: true })
  })
})

describe('the hand-off to Kafka', () => {
  it('produces the events before the dead letters: a 503 files no dead letter, its retry files each once', async () => {
    harness = await collectorApp()
    const body = lines(3, (i) => (i === 1 ? '{"event_id": "bad"}' : event(`e-${i}`)))
    const send = harness.producer.send.bind(harness.producer)
    harness.producer.send = async () => {
      throw new Error('MESSAGE_TOO_LARGE')
    }
    expect((await post(body)).statusCode).toBe(503)
    expect(harness.producer.deadLetters).toEqual([])
    harness.producer.send = send
    expect((await post(body)).statusCode).toBe(202)
    expect(harness.producer.events).toHaveLength(2)
    expect(harness.producer.deadLetters).toHaveLength(1)
  })

  it('sends a large body of one org in slices of at most MAX_SEND_BYTES', async () => {
    harness = await collectorApp({ maxBodyBytes: 8 * 1024 * 1024, eventsPerSecond: 10_000 })
    const sends: OutgoingEvent[][] = []
    const send = harness.producer.send.bind(harness.producer)
    harness.producer.send = async (events) => {
      sends.push([...events])
      await send(events)
    }
    const padding = 'x'.repeat(190)
    const body = lines(5000, (i) => event(`e-${i}`, 'acme', `Maya ${padding}`))
    expect(Buffer.byteLength(body)).toBeGreaterThan(2 * 1024 * 1024)
    const response = await post(body)
    expect(response.statusCode).toBe(202)
    expect(sends.length).toBeGreaterThan(2)
    for (const slice of sends)
      expect(slice.reduce((sum, e) => sum + eventBytes(e), 0)).toBeLessThanOrEqual(MAX_SEND_BYTES)
    expect(sends.flat().map((e) => e.value)).toEqual(body.split('\n'))
  })

  it('keeps at most MAX_DEAD_LETTER_BYTES of a huge line, with its size in a header', async () => {
    harness = await collectorApp({ maxBodyBytes: 2 * 1024 * 1024 })
    const huge = `{"event_id": "big", "pad": "${'y'.repeat(1024 * 1024)}"}`
    const response = await post(`${event('e-1')}\n${huge}`)
    expect(response.statusCode).toBe(202)
    const [letter] = harness.producer.deadLetters
    expect(Buffer.byteLength(letter!.raw)).toBe(MAX_DEAD_LETTER_BYTES)
    expect(letter!.headers?.[DEAD_LETTER_HEADERS.truncatedFrom]).toBe(String(Buffer.byteLength(huge)))
  })

  it('slices by bytes, an item larger than the budget alone', () => {
    expect(sizeSlices([5, 5, 5, 12, 1], (n) => n, 10)).toEqual([[5, 5], [5], [12], [1]])
    expect(sizeSlices([], (n: number) => n, 10)).toEqual([])
  })
})

describe('validation of a large body', () => {
  it('yields to the event loop between slices: timers run while 10,000 events are validated', async () => {
    harness = await collectorApp({ maxBodyBytes: 10 * 1024 * 1024 })
    // Invalid events take the slow path (house messages): the costliest body under the cap.
    const body = lines(10_000, (i) => `{"event_id": "e-${i}", "org_id": "acme", "type": "user.upserted"}`)
    let ticks = 0
    let longestGapMs = 0
    let last = performance.now()
    const timer = setInterval(() => {
      const now = performance.now()
      longestGapMs = Math.max(longestGapMs, now - last)
      last = now
      ticks++
    }, 1)
    const started = performance.now()
    const response = await post(body)
    const elapsedMs = performance.now() - started
    clearInterval(timer)
    expect(response.statusCode).toBe(400)
    expect(harness.producer.deadLetters).toHaveLength(10_000)
    // Without slices the loop would be held for the whole validation: one tick at most.
    expect(ticks).toBeGreaterThan(Math.min(10, elapsedMs / 50))
    expect(longestGapMs).toBeLessThan(Math.max(250, elapsedMs / 2))
  })
})
