// freePort (infra/stack/processes.ts) hands out ports below the kernel's ephemeral range, which
// outgoing connections never take, so a server started a few seconds later still finds it free.
import fs from 'node:fs'
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { freePort } from '../../infra/stack/processes.ts'

const ephemeralStart = () =>
  Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])

describe('freePort', () => {
  it('gives ports below the ephemeral range, drawn at random, that a server can bind', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()))
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000)
      expect(port).toBeLessThan(ephemeralStart())
    }
    // Random among thousands: twenty draws are (all but certainly) not all the same port.
    expect(new Set(ports).size).toBeGreaterThan(1)
    const server = net.createServer()
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(ports[0], '127.0.0.1', resolve))
    await new Promise((resolve) => server.close(resolve))
  })
})
