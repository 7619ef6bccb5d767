// docker-compose.yml is for users (no Docker engine runs here): keep it consistent with the
// configuration schema, so a variable renamed in one place cannot silently drift in the other.
import fs from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'
import { describe, expect, it } from 'vitest'
import { DugoutEnv, loadConfig, PROJECT_ROOT } from '../../schemas/config.schema.ts'
import { TIMER_MAX_TIME_SHIFT } from '../../infra/stack/temporal-server.ts'

interface ComposeService {
  image?: string
  build?: { dockerfile: string }
  environment?: Record<string, string>
  healthcheck?: unknown
  depends_on?: Record<string, unknown>
  volumes?: string[]
}
const compose = parse(fs.readFileSync(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, ComposeService>
  volumes: Record<string, unknown>
}

describe('docker-compose.yml', () => {
  const dugout = compose.services.dugout!

  it('sets only variables the configuration schema knows, with values it accepts', () => {
    const env = dugout.environment!
    const known = Object.keys(DugoutEnv.shape)
    expect(Object.keys(env).filter((key) => !known.includes(key))).toEqual([])
    const resolved = Object.fromEntries(
      Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{(\w+):-([^}]*)\}/g, '$2')]),
    )
    expect(() => loadConfig(resolved)).not.toThrow()
  })

  it('runs every backing service with a health check and the services Dugout waits for', () => {
    for (const name of ['kafka', 'temporal', 'temporal-db', 'clickhouse', 'mailpit', 'dugout']) {
      expect(compose.services[name], name).toBeDefined()
      expect(compose.services[name]!.healthcheck, `${name} healthcheck`).toBeDefined()
    }
    expect(Object.keys(dugout.depends_on!).sort()).toEqual(['clickhouse', 'kafka', 'mailpit', 'temporal'])
    expect(fs.existsSync(path.join(PROJECT_ROOT, dugout.build!.dockerfile))).toBe(true)
  })

  it('gives Temporal the dynamic configuration of the local stack (timers fire on time)', () => {
    const temporal = compose.services.temporal!
    const mount = temporal.volumes!.map((v) => v.split(':')).find(([, target]) => target!.endsWith('/dugout.yaml'))!
    expect(`/etc/temporal/${temporal.environment!.DYNAMIC_CONFIG_FILE_PATH}`).toBe(mount[1])
    const dynamic = parse(fs.readFileSync(path.join(PROJECT_ROOT, mount[0]!), 'utf8')) as Record<
      string,
      { value: unknown }[]
    >
    expect(dynamic['history.timerProcessorMaxTimeShift']).toEqual([{ value: TIMER_MAX_TIME_SHIFT }])
  })

  it('keeps state in named volumes', () => {
    expect(Object.keys(compose.volumes).sort()).toEqual([
      'clickhouse-data',
      'kafka-data',
      'mailpit-data',
      'temporal-db',
    ])
  })
})
