// `dugout config` prints every variable in effect without a secret: secrets and the password as
// (set), URLs without their credentials; a bad value's error never echoes a secret either.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ConfigError, loadConfig, shownValue, withoutCredentials } from '../../schemas/config.schema.ts'
import { buildProgram } from '../../services/cli/main.ts'

const SECRET = 'Zq8-secret-7f3a9c1e5b2d4f6a8c0e1f3a5b7d9e2c'
const ENV = {
  CLICKHOUSE_URL: `https://bi_user:${SECRET}@clickhouse.example.com:8443`,
  CLICKHOUSE_PASSWORD: SECRET,
  SMTP_URL: `smtps://mailer:${SECRET}@smtp.example.com:465`,
  DUGOUT_HUBSPOT_SECRETS: `acme:${SECRET}`,
  DUGOUT_SALESFORCE_SECRETS: `acme:${SECRET},globex:${SECRET}x`,
  DUGOUT_INSIGHTS_SECRET: SECRET,
}

afterEach(() => {
  vi.unstubAllEnvs()
  vi.restoreAllMocks()
})

async function dugoutConfig(): Promise<string> {
  for (const [name, value] of Object.entries(ENV)) vi.stubEnv(name, value)
  let out = ''
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk)
    return true
  })
  await buildProgram().parseAsync(['node', 'dugout', 'config'])
  return out
}

describe('dugout config', () => {
  it('prints no secret, shows which are set, and URLs without their credentials', async () => {
    const out = await dugoutConfig()
    expect(out).not.toContain(SECRET)
    expect(out).toContain('CLICKHOUSE_URL="https://***@clickhouse.example.com:8443"')
    expect(out).toContain('SMTP_URL="smtps://***@smtp.example.com:465"')
    expect(out).toContain('CLICKHOUSE_PASSWORD=(set)')
    expect(out).toContain('DUGOUT_INSIGHTS_SECRET=(set)')
    expect(out).toContain('DUGOUT_SALESFORCE_SECRETS={"acme":"(set)","globex":"(set)"}')
  })
})

describe('shownValue', () => {
  it('hides credentials of URLs, valid or not, and leaves the rest of a URL alone', () => {
    expect(withoutCredentials('http://u:p@h:8123/db?x=1')).toBe('http://***@h:8123/db?x=1')
    expect(withoutCredentials('smtp://127.0.0.1:1025')).toBe('smtp://127.0.0.1:1025')
    expect(withoutCredentials('https://host/path@not-credentials')).toBe('https://host/path@not-credentials')
    expect(shownValue('CLICKHOUSE_PASSWORD', '')).toBe('(empty)')
    expect(shownValue('DUGOUT_HUBSPOT_SECRETS', 'anything')).toBe('(set)')
    expect(shownValue('KAFKA_EVENTS_TOPIC', 'crm.events.v1')).toBe('"crm.events.v1"')
  })

  it('keeps a bad URL out of its config error along with its credentials', () => {
    let issues: string[] = []
    try {
      loadConfig({ CLICKHOUSE_URL: `ftp://u:${SECRET}@h`, SMTP_URL: `http://u:${SECRET}@h` })
    } catch (error) {
      if (error instanceof ConfigError) issues = error.issues
    }
    expect(issues).toHaveLength(2)
    expect(issues.join('\n')).not.toContain(SECRET)
    expect(issues.join('\n')).toContain('(got "ftp://***@h")')
  })
})
