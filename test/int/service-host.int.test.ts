// `dugout run` hosts the services in one process: it migrates ClickHouse, serves health and
// readiness, and stops cleanly on SIGTERM.
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { uniqueName } from '../support/env.ts'
import { freePort, spawnDugout, waitForHttp } from '../support/processes.ts'

describe('dugout run', () => {
  it('starts, answers /healthz and /readyz, and exits 0 on SIGTERM', async () => {
    const port = await freePort()
    const dugout = spawnDugout(['run'], {
      DUGOUT_HTTP_PORT: String(port),
      CHDB_PATH: path.join(os.tmpdir(), uniqueName('dugout-run')),
    })
    const health = await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000, dugout)
    expect(await health.json()).toEqual({ status: 'ok' })
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`)
    expect(ready.status).toBe(200)
    expect(dugout.output()).toContain('dugout is running')
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
