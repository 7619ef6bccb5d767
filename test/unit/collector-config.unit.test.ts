// The collector's configuration: API key hashes, per-org secrets that never print, the mapping
// file refused at boot with the JSON path of what is wrong.
import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../schemas/config.schema.ts'
import { API_SCOPES, type ApiScope } from '../../schemas/collector-config.schema.ts'
import { apiKeyEntry, apiKeyHash, checkApiKey, generateApiKey, hashApiKey } from '../../services/runtime/api-keys.ts'
import {
  CrmMappingsError,
  loadCrmMappings,
  NO_MAPPINGS,
  parseCrmMappings,
} from '../../services/collector/crm-mappings.ts'
import { MAPPINGS_FILE, mappings } from '../fixtures/webhooks/collector-harness.ts'

/** A secret of 32 bytes or more that contains `marker`. */
const LONG = (marker: string) => `${marker}-${'x'.repeat(32)}`

const HEX = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' // SHA-256 of "abc"

function configIssues(env: Record<string, string>): string[] {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error.issues
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('collector configuration', () => {
  it('has safe defaults: no keys, no secrets, no mapping file, a 10 MiB body limit', () => {
    const c = loadConfig({})
    expect(c.DUGOUT_API_KEYS).toEqual([])
    expect(c.DUGOUT_HUBSPOT_SECRETS.size).toBe(0)
    expect(c.DUGOUT_SALESFORCE_SECRETS.size).toBe(0)
    expect(c.DUGOUT_CRM_MAPPINGS).toBeUndefined()
    expect(c.DUGOUT_COLLECTOR_MAX_BODY_BYTES).toBe(10 * 1024 * 1024)
    expect(c.DUGOUT_PUBLIC_URL).toBeUndefined()
  })

  it('parses API key hashes with their right, several per org for rotation; an entry without one is write', () => {
    const c = loadConfig({
      DUGOUT_API_KEYS: `acme:sha256:${HEX}, acme:read:sha256:${'A'.repeat(64)},acme:admin:sha256:${HEX},globex:write:sha256:${HEX}`,
    })
    expect(c.DUGOUT_API_KEYS).toEqual([
      { org: 'acme', scope: 'write', sha256: HEX },
      { org: 'acme', scope: 'read', sha256: 'a'.repeat(64) },
      { org: 'acme', scope: 'admin', sha256: HEX },
      { org: 'globex', scope: 'write', sha256: HEX },
    ])
  })

  it.each([
    ['DUGOUT_API_KEYS', 'acme:plaintext-key', 'org:sha256:<64 hex digits>'],
    ['DUGOUT_API_KEYS', `ACME:sha256:${HEX}`, 'org:sha256:<64 hex digits>'],
    ['DUGOUT_API_KEYS', `acme:owner:sha256:${HEX}`, 'org:<read|write|admin>:sha256:<64 hex digits>'],
    // Every org is the local key's alone: the configuration cannot name it.
    ['DUGOUT_API_KEYS', `*:admin:sha256:${HEX}`, 'org:<read|write|admin>:sha256:<64 hex digits>'],
    ['DUGOUT_HUBSPOT_SECRETS', 'acme', 'org:secret'],
    ['DUGOUT_SALESFORCE_SECRETS', `acme:${'1'.repeat(32)},acme:${'2'.repeat(32)}`, 'one secret per org'],
    ['DUGOUT_COLLECTOR_MAX_BODY_BYTES', '10MB', 'whole number of bytes'],
    ['DUGOUT_PUBLIC_URL', 'dugout.example.com', 'http(s):// base URL'],
  ])('rejects %s=%s naming the variable and the rule', (name, value, rule) => {
    const issues = configIssues({ [name]: value })
    expect(issues).toHaveLength(1)
    expect(issues[0]).toContain(`${name}:`)
    expect(issues[0]).toContain(rule)
  })

  it('never prints a secret: dugout config and logs see only which orgs have one', () => {
    const c = loadConfig({
      DUGOUT_HUBSPOT_SECRETS: `acme:${LONG('s3cr3t-1')},globex:${LONG('s3cr3t-2')}`,
      DUGOUT_SALESFORCE_SECRETS: `acme:${LONG('s3cr3t-3')}`,
    })
    expect(c.DUGOUT_HUBSPOT_SECRETS.get('acme')).toBe(LONG('s3cr3t-1'))
    expect(JSON.stringify(c)).not.toContain('s3cr3t')
    expect(JSON.stringify(c.DUGOUT_HUBSPOT_SECRETS)).toBe('{"acme":"(set)","globex":"(set)"}')
  })

  it.each(['DUGOUT_HUBSPOT_SECRETS', 'DUGOUT_SALESFORCE_SECRETS'])(
    'refuses a %s secret shorter than 32 bytes, naming the org and the rule but not the value',
    (name) => {
      const issues = configIssues({ [name]: `acme:${LONG('fine')},globex:sh0rt-s3cr3t` })
      expect(issues).toEqual([`${name}: each secret must be at least 32 bytes (too short for globex) (got (set))`])
      expect(issues.join()).not.toContain('s3cr3t')
    },
  )

  it('does not print the secrets of a malformed list in its error', () => {
    const issues = configIssues({ DUGOUT_HUBSPOT_SECRETS: `acme:${LONG('s3cr3t-1')};globex ${LONG('s3cr3t-2')}` })
    expect(issues).toHaveLength(1)
    expect(issues[0]).toContain('DUGOUT_HUBSPOT_SECRETS: must be a comma-separated list of org:secret')
    expect(issues[0]).not.toContain('s3cr3t')
  })

  it('reads the cap on events per request and the rate per org, with their defaults', () => {
    expect(loadConfig({})).toMatchObject({ DUGOUT_COLLECTOR_MAX_EVENTS: 10_000, DUGOUT_COLLECTOR_RATE_LIMIT: 5_000 })
    expect(loadConfig({ DUGOUT_COLLECTOR_MAX_EVENTS: '500' }).DUGOUT_COLLECTOR_MAX_EVENTS).toBe(500)
    expect(configIssues({ DUGOUT_COLLECTOR_MAX_EVENTS: '0' })[0]).toContain(
      'DUGOUT_COLLECTOR_MAX_EVENTS: must be a whole number of events from 1 to 100000',
    )
    expect(configIssues({ DUGOUT_COLLECTOR_RATE_LIMIT: 'fast' })[0]).toContain(
      'DUGOUT_COLLECTOR_RATE_LIMIT: must be a whole number of events per second',
    )
  })

  it('keeps the public URL without a trailing slash', () => {
    expect(loadConfig({ DUGOUT_PUBLIC_URL: 'https://dugout.example.com/crm/' }).DUGOUT_PUBLIC_URL).toBe(
      'https://dugout.example.com/crm',
    )
  })
})

describe('API keys', () => {
  it('hashes a key with SHA-256, as the documented one-liner does', () => {
    expect(hashApiKey('abc')).toBe(HEX)
    expect(apiKeyEntry('acme', 'abc', 'read')).toBe(`acme:read:sha256:${HEX}`)
  })

  it('generates keys of 256 bits that authenticate through their config entry', () => {
    const key = generateApiKey()
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const [{ DUGOUT_API_KEYS: keys }] = [loadConfig({ DUGOUT_API_KEYS: apiKeyEntry('acme', key, 'write') })]
    expect(checkApiKey(`Bearer ${key}`, 'acme', 'write', keys)).toEqual({ ok: true })
    expect(checkApiKey(`Bearer ${key}`, 'globex', 'write', keys)).toEqual({
      ok: false,
      status: 403,
      reason: 'other_org',
    })
    expect(checkApiKey(`Bearer ${key}x`, 'acme', 'write', keys)).toEqual({
      ok: false,
      status: 403,
      reason: 'unknown_key',
    })
    expect(checkApiKey(`bearer${key}`, 'acme', 'write', keys)).toEqual({ ok: false, status: 401, reason: 'malformed' })
    expect(checkApiKey(undefined, 'acme', 'write', keys)).toEqual({ ok: false, status: 401, reason: 'missing' })
  })

  it('grants a right by scope: admin also reads, nothing else implies another', () => {
    const key = generateApiKey()
    const granted = (scope: ApiScope) =>
      API_SCOPES.filter((needed) => checkApiKey(`Bearer ${key}`, 'acme', needed, [apiKeyHash('acme', key, scope)]).ok)
    expect(granted('read')).toEqual(['read'])
    expect(granted('write')).toEqual(['write'])
    expect(granted('admin')).toEqual(['read', 'admin'])
    expect(checkApiKey(`Bearer ${key}`, 'acme', 'admin', [apiKeyHash('acme', key, 'read')])).toEqual({
      ok: false,
      status: 403,
      reason: 'insufficient_scope',
    })
  })

  it('refuses every key when none is configured: there is no open mode', () => {
    expect(checkApiKey(`Bearer ${generateApiKey()}`, 'acme', 'read', [])).toEqual({
      ok: false,
      status: 403,
      reason: 'unknown_key',
    })
  })
})

describe('CRM mapping file', () => {
  it('reads the test mapping file', async () => {
    expect(await loadCrmMappings(MAPPINGS_FILE)).toEqual(mappings)
    expect(mappings.orgs['acme']?.hubspot?.unassignedAccountId).toBe('unassigned')
    expect(mappings.orgs['acme']?.salesforce?.defaultRole).toBe('other')
  })

  it('means no mappings when no file is configured', async () => {
    expect(await loadCrmMappings(undefined)).toEqual(NO_MAPPINGS)
  })

  it('refuses a bad file naming the file and every broken JSON path', () => {
    const bad = {
      orgs: {
        acme: {
          hubspot: {
            stages: { s1: { category: 'won' }, closedwon: { outcome: 'won' } },
            owners: {},
            defaultCurrency: 'usd',
            defaultStageId: 'closedwon',
          },
          salesforce: { stages: {}, users: { '0055g00000Maya': 'm1' }, defaultCurrency: 'USD' },
        },
        'Not An Org': {},
      },
    }
    let error: unknown
    try {
      parseCrmMappings(JSON.stringify(bad), 'mappings.json')
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(CrmMappingsError)
    const { code, file, issues, message } = error as CrmMappingsError
    expect({ code, file }).toEqual({ code: 'CRM_MAPPINGS_INVALID', file: 'mappings.json' })
    expect(message).toContain('DUGOUT_CRM_MAPPINGS')
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^orgs\.acme\.hubspot\.stages\.s1: must be \{ "stage"\?, "category" \} with a category of prospecting/,
        ),
        expect.stringMatching(/^orgs\.acme\.hubspot\.defaultCurrency: /),
        'orgs.acme.salesforce.users["0055g00000Maya"]: is not a valid key: must be an 18-character Salesforce id',
        expect.stringMatching(/^orgs\["Not An Org"\]: is not a valid key: must contain only lower-case letters/),
      ]),
    )
  })

  it('refuses a default stage that is not an open stage of the mapping', () => {
    const file = {
      orgs: {
        acme: {
          hubspot: {
            stages: { closedwon: { outcome: 'won' } },
            owners: {},
            defaultCurrency: 'USD',
            defaultStageId: 'closedwon',
          },
        },
      },
    }
    expect(() => parseCrmMappings(JSON.stringify(file), 'm.json')).toThrow(
      'orgs.acme.hubspot.defaultStageId: must be a key of stages that maps to a category',
    )
  })

  it('refuses a file that is not JSON', () => {
    expect(() => parseCrmMappings('{ orgs: ', 'm.json')).toThrow(/m\.json .*\n.*is not valid JSON/)
  })
})
