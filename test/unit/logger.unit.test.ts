// Logs never carry a secret: pino redacts credentials wherever a log object puts them (headers of
// a request, a config object, an error's fields).
import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../schemas/config.schema.ts'
import { createLogger, REDACTED } from '../../services/runtime/logger.ts'

const SECRET = 'sk-live-0123456789abcdef0123456789abcdef'

function capture(): { stream: Writable; text: () => string } {
  let text = ''
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8')
      done()
    },
  })
  return { stream, text: () => text }
}

describe('createLogger', () => {
  it('redacts authorization, cookies, passwords and secrets at any of the usual places', () => {
    const out = capture()
    const logger = createLogger({ LOG_LEVEL: 'info' }, 'test', out.stream)
    logger.info({ authorization: `Bearer ${SECRET}`, password: SECRET, secret: SECRET }, 'top level')
    logger.info(
      { req: { headers: { authorization: `Bearer ${SECRET}`, cookie: `dugout_session=${SECRET}` } } },
      'request',
    )
    logger.info({ res: { headers: { 'set-cookie': `dugout_session=${SECRET}` } } }, 'response')
    logger.info({ headers: { 'x-dugout-signature': SECRET, 'x-hubspot-signature-v3': SECRET } }, 'webhook')
    logger.info({ config: { CLICKHOUSE_PASSWORD: SECRET, token: SECRET, apiKey: SECRET } }, 'config')
    logger.info({ secrets: { acme: SECRET } }, 'map')
    const lines = out
      .text()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(lines).toHaveLength(6)
    expect(out.text()).not.toContain(SECRET)
    expect(lines[0]).toMatchObject({ authorization: REDACTED, password: REDACTED, secret: REDACTED })
    expect(lines[1]).toMatchObject({ req: { headers: { authorization: REDACTED, cookie: REDACTED } } })
    expect(lines[2]).toMatchObject({ res: { headers: { 'set-cookie': REDACTED } } })
    expect(lines[3]).toMatchObject({ headers: { 'x-dugout-signature': REDACTED } })
  })

  it('logs the whole parsed configuration without a secret in it', () => {
    const out = capture()
    const config = loadConfig({
      CLICKHOUSE_URL: `https://bi:${SECRET}@clickhouse.example.com:8443`,
      CLICKHOUSE_PASSWORD: SECRET,
      DUGOUT_SALESFORCE_SECRETS: `acme:${SECRET}`,
      DUGOUT_HUBSPOT_SECRETS: `acme:${SECRET}`,
    })
    createLogger({ LOG_LEVEL: 'info' }, 'test', out.stream).info({ config }, 'boot')
    expect(out.text()).toContain('"DUGOUT_SALESFORCE_SECRETS"')
    expect(out.text()).toContain('https://***@clickhouse.example.com:8443')
    expect(out.text()).not.toContain(SECRET)
  })
})
