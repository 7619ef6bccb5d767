// docker-compose.yml is for users (no Docker engine runs here): keep it consistent with the
// configuration schema, so a variable renamed in one place cannot silently drift in the other.
import { spawnSync } from 'node:child_process'
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
  ports?: string[]
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
      Object.entries(env).map(([k, v]) => [
        k,
        String(v)
          .replace(/\$\{(\w+):-([^}]*)\}/g, '$2')
          .replace(/\$\{(\w+):\?[^}]*\}/g, 'set-by-the-user'),
      ]),
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
      'grafana-data',
      'kafka-data',
      'mailpit-data',
      'temporal-db',
    ])
  })

  it('requires a ClickHouse password: no default anywhere', () => {
    const text = fs.readFileSync(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8')
    const uses = [...text.matchAll(/\$\{CLICKHOUSE_PASSWORD([^}]*)\}/g)].map((m) => m[1])
    expect(uses.length).toBeGreaterThanOrEqual(2)
    for (const use of uses) expect(use).toMatch(/^:\?/)
    expect(compose.services.clickhouse!.environment!.CLICKHOUSE_PASSWORD).toMatch(/^\$\{CLICKHOUSE_PASSWORD:\?/)
    expect(dugout.environment!.CLICKHOUSE_PASSWORD).toMatch(/^\$\{CLICKHOUSE_PASSWORD:\?/)
    expect(compose.services.grafana!.environment!.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{GRAFANA_ADMIN_PASSWORD:\?/)
  })

  it('publishes only what a person opens in a browser, on this machine unless told otherwise', () => {
    const published = Object.entries(compose.services)
      .filter(([, service]) => service.ports !== undefined)
      .map(([name, service]) => [name, service.ports])
    const on = (ports: string) => `\${DUGOUT_PUBLISH_ADDRESS:-127.0.0.1}:${ports}`
    expect(Object.fromEntries(published)).toEqual({
      grafana: [on('3000:3000')],
      'temporal-ui': [on('8233:8080')],
      mailpit: [on('8025:8025')],
      dugout: [on('8080:8080')],
    })
  })

  it('validates against the Compose Specification (dclint, schema and errors)', () => {
    // dclint reads a port's address literally: it cannot tell that the variable above names one.
    const result = spawnSync(
      path.join(PROJECT_ROOT, 'node_modules/.bin/dclint'),
      ['docker-compose.yml', '--quiet', '--color', 'false', '--disable-rule', 'no-unbound-port-interfaces'],
      { cwd: PROJECT_ROOT, encoding: 'utf8' },
    )
    expect(result.stdout + result.stderr).not.toMatch(/error/i)
    expect(result.status).toBe(0)
  })

  it('provisions Grafana with the official ClickHouse data source and the Dugout dashboard', () => {
    const grafana = compose.services.grafana!
    expect(grafana.environment!.GF_INSTALL_PLUGINS).toBe('grafana-clickhouse-datasource')
    const mounts = new Map(grafana.volumes!.map((v) => v.split(':') as [string, string]))
    expect(mounts.get('./infra/grafana/provisioning')).toBe('/etc/grafana/provisioning')
    const datasources = parse(
      fs.readFileSync(path.join(PROJECT_ROOT, 'infra/grafana/provisioning/datasources/clickhouse.yaml'), 'utf8'),
    ) as {
      datasources: {
        type: string
        uid: string
        jsonData: Record<string, unknown>
        secureJsonData: Record<string, string>
      }[]
    }
    const [source] = datasources.datasources
    expect(source!.type).toBe('grafana-clickhouse-datasource')
    expect(source!.jsonData.host).toBe('clickhouse')
    // Credentials come from the environment Grafana gets, never from the file.
    for (const value of [
      source!.jsonData.username,
      source!.secureJsonData.password,
      source!.jsonData.defaultDatabase,
    ]) {
      const name = /^\$\{(\w+)\}$/.exec(String(value))?.[1]
      expect(name, String(value)).toBeDefined()
      expect(Object.keys(grafana.environment!)).toContain(name)
    }
    const providers = parse(
      fs.readFileSync(path.join(PROJECT_ROOT, 'infra/grafana/provisioning/dashboards/dugout.yaml'), 'utf8'),
    ) as { providers: { options: { path: string } }[] }
    const dashboardsDir = [...mounts].find(([, target]) => target === providers.providers[0]!.options.path)?.[0]
    expect(dashboardsDir).toBe('./infra/grafana/dashboards')
    expect(fs.existsSync(path.join(PROJECT_ROOT, dashboardsDir!, 'dugout.json'))).toBe(true)
    const dashboard = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, dashboardsDir!, 'dugout.json'), 'utf8')) as {
      panels: { datasource: { uid: string } }[]
    }
    for (const panel of dashboard.panels) expect(panel.datasource.uid).toBe(source!.uid)
  })
})
