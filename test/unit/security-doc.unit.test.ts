// SECURITY.md: every claim of its threat model names the test that backs it, and every named test
// exists, in the file named, under the title quoted. Also the defaults the "local stack" section
// relies on.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig, PROJECT_ROOT } from '../../schemas/config.schema.ts'

const doc = fs.readFileSync(path.join(PROJECT_ROOT, 'SECURITY.md'), 'utf8')
const threatModel = doc.slice(doc.indexOf('## Threat model'))
const claims = threatModel.split('\n').filter((line) => line.startsWith('- '))
const reference = /`(test\/[\w./-]+\.test\.ts)` › "([^"]+)"/g
const references = claims.flatMap((claim) =>
  [...claim.matchAll(reference)].map((m) => ({ file: m[1]!, title: m[2]!, claim })),
)

describe('SECURITY.md', () => {
  it('says how to report a vulnerability', () => {
    expect(doc).toContain('## Reporting a vulnerability')
  })

  it('covers tenants, webhooks, API keys, BI users, emails, secrets and the local stack', () => {
    for (const section of ['Tenants', 'Webhooks', 'API keys', 'BI users', 'Emails', 'Secrets', 'The local stack']) {
      expect(threatModel).toContain(`### ${section}\n`)
    }
  })

  it('names a test beside every claim, except what it says is not built or not defended', () => {
    expect(claims.length).toBeGreaterThan(30)
    const unbacked = claims.filter(
      (claim) => !claim.match(reference) && !/^- (Not built yet|The local stack has no authentication)/.test(claim),
    )
    expect(unbacked).toEqual([])
  })

  it.each(references.map((r) => [`${r.file} › ${r.title}`, r] as const))('names a test that exists: %s', (_, r) => {
    const file = path.join(PROJECT_ROOT, r.file)
    expect(fs.existsSync(file), `${r.file} (named by: ${r.claim.slice(0, 80)}…)`).toBe(true)
    expect(fs.readFileSync(file, 'utf8')).toContain(r.title)
  })
})

describe('defaults SECURITY.md relies on', () => {
  it('listens on this machine only by default, with no key and no secret', () => {
    const c = loadConfig({})
    expect(c.DUGOUT_HTTP_HOST).toBe('127.0.0.1')
    expect(c.KAFKA_BROKERS).toEqual(['127.0.0.1:9092'])
    expect(c.TEMPORAL_ADDRESS).toBe('127.0.0.1:7233')
    expect(c.DUGOUT_API_KEYS).toEqual([])
    expect(c.DUGOUT_HUBSPOT_SECRETS.size + c.DUGOUT_SALESFORCE_SECRETS.size).toBe(0)
    const properties = fs.readFileSync(path.join(PROJECT_ROOT, 'infra/kafka/server.properties'), 'utf8')
    expect(properties).toMatch(/^listeners=PLAINTEXT:\/\/127\.0\.0\.1:\$\{PORT\},CONTROLLER:\/\/127\.0\.0\.1:/m)
  })
})
