// No silent death: a consumer that crashes (here on an error kafkajs does not retry, the kind a
// codec it lacks raised) is restarted with backoff and goes on storing; one that keeps crashing
// gives up, and says why, so that the host can fail /healthz.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultLimits } from '../../schemas/event-validation.ts'
import { testClickHouse, uniqueName } from '../support/env.ts'
import {
  ingestHarness,
  produceAll,
  streamWithDuplicates,
  waitForStored,
  waitUntil,
  type IngestHarness,
} from '../support/ingest-harness.ts'

const ch = testClickHouse('supervision')
let harness: IngestHarness

/** What kafkajs throws for a codec it lacks: not retriable, so its consumer stops. */
const injectedCrash = () => Object.assign(new Error('injected crash'), { name: 'KafkaJSNotImplemented' })

beforeAll(async () => {
  harness = await ingestHarness(ch, 'supervision')
})
afterAll(async () => {
  await harness?.close()
  await ch.close()
})

describe('the ingest consumer', () => {
  it('is restarted after a crash and stores everything', async () => {
    const org = uniqueName('restarted').toLowerCase()
    const { unique, messages } = streamWithDuplicates(org, 3000, 5)
    await produceAll(harness.producer, messages)
    let crashes = 2
    const ingest = await harness.start({
      restartDelayMs: 100,
      limits: () => {
        if (crashes > 0) {
          crashes--
          throw injectedCrash()
        }
        return defaultLimits(new Date())
      },
    })
    const summary = await waitForStored(ch, org, unique)
    expect(summary.rows).toBe(unique.length)
    expect(crashes).toBe(0)
    expect(ingest.health()).toEqual({ running: true, restarts: 2 })
    await ingest.stop()
  })

  it('gives up after crashing again and again, naming the cause', async () => {
    const other = await ingestHarness(ch, 'gives-up')
    try {
      const org = uniqueName('dead').toLowerCase()
      await produceAll(other.producer, streamWithDuplicates(org, 10, 6).messages)
      let reported: string | undefined
      const ingest = await other.start({
        maxCrashes: 3,
        restartDelayMs: 50,
        onDead: (reason) => (reported = reason),
        limits: () => {
          throw injectedCrash()
        },
      })
      const health = await waitUntil('ingest to give up', async () => {
        const h = ingest.health()
        return h.running ? undefined : h
      })
      expect(health).toEqual({ running: false, reason: expect.stringContaining('crashed 3 times in a row') })
      expect(reported).toContain('KafkaJSNotImplemented: injected crash')
      expect(ingest.joined()).toBe(false)
    } finally {
      await other.close()
    }
  })
})
