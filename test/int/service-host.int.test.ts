// `dugout run` hosts the services in one process: it migrates ClickHouse, serves health and
// readiness, and stops cleanly on SIGTERM.
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { uniqueName } from '../support/env.ts'
import { freePort, spawnDugout, waitForHttp, type DugoutProcess } from '../support/processes.ts'

// A failed assertion must not leave a `dugout run` behind.
const children: DugoutProcess[] = []
afterEach(() => {
  for (const { child } of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

describe('dugout run', () => {
  it('starts, answers /healthz and /readyz, and exits 0 on SIGTERM', async () => {
    const port = await freePort()
    // Every service, isolated by names of its own from a developer's running `dugout up`.
    const dugout = spawnDugout(['run'], {
      DUGOUT_HTTP_PORT: String(port),
      CHDB_PATH: path.join(os.tmpdir(), uniqueName('dugout-run')),
      KAFKA_EVENTS_TOPIC: uniqueName('host.events'),
      KAFKA_DLQ_TOPIC: uniqueName('host.dlq'),
      KAFKA_CONSUMER_GROUP: uniqueName('host-group'),
      TEMPORAL_TASK_QUEUE: uniqueName('host-queue'),
    })
    children.push(dugout)
    const health = await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000, dugout)
    expect(await health.json()).toEqual({
      status: 'ok',
      services: {
        collector: { running: true },
        ingest: { running: true, restarts: 0 },
        worker: { running: true },
        reports: { running: true },
      },
    })
    // Ready once every service is: ingest has joined its consumer group, the collector's producer is up.
    const ready = await waitForHttp(`http://127.0.0.1:${port}/readyz`, 60_000, dugout)
    expect(await ready.json()).toMatchObject({ status: 'ready', checks: { ingest: true } })
    expect(dugout.output()).toContain('dugout is running (collector, ingest, worker, reports')
    dugout.child.kill('SIGTERM')
    expect(await dugout.exited).toBe(0)
  })

  it('refuses an unknown service name', async () => {
    const dugout = spawnDugout(['run', '--only', 'ingest,mailer'], {})
    expect(await dugout.exited).toBe(1)
    expect(dugout.output()).toContain('--only: unknown service "mailer"')
  })

  it('stops at boot on a bad variable, naming it', async () => {
    const dugout = spawnDugout(['run'], { DUGOUT_HTTP_PORT: 'eighty' })
    expect(await dugout.exited).toBe(2)
    expect(dugout.output()).toContain('DUGOUT_HTTP_PORT: must be an integer port number from 1 to 65535')
  })
})
