/**
 * Per-org, per-right API keys of every route under `/v1/orgs/:org/` (the check itself runs in
 * services/runtime/http-api.ts). Configuration holds only SHA-256 hashes of the keys
 * (`DUGOUT_API_KEYS="acme:read:sha256:<hex>"`), so a leaked config does not leak a key. Keys are
 * random tokens of 256 bits (`generateApiKey`), so an unsalted fast hash is enough: there is no
 * dictionary to try.
 *
 * Make a key and its config entry (here a `read` key of acme):
 *   node -e "const c=require('node:crypto');const k=c.randomBytes(32).toString('base64url');console.log(k+'\n'+'acme:read:sha256:'+c.createHash('sha256').update(k).digest('hex'))"
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { ANY_ORG, type ApiKeyHash, type ApiScope } from '../../schemas/collector-config.schema.ts'

/** The hex SHA-256 of a key, as `DUGOUT_API_KEYS` stores it (after `sha256:`). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

/** A new random key (256 bits, base64url) for an org. */
export function generateApiKey(): string {
  return randomBytes(32).toString('base64url')
}

/** The `DUGOUT_API_KEYS` entry of `key` for `org` with `scope`. */
export function apiKeyEntry(org: string, key: string, scope: ApiScope): string {
  return `${org}:${scope}:sha256:${hashApiKey(key)}`
}

/** The configured hash of `key` for `org` with `scope`, as `DUGOUT_API_KEYS` parses it. */
export function apiKeyHash(org: string, key: string, scope: ApiScope): ApiKeyHash {
  return { org, scope, sha256: hashApiKey(key) }
}

/** Whether a key of `granted` may do what `needed` names: `admin` also reads. */
export function grants(granted: ApiScope, needed: ApiScope): boolean {
  return granted === needed || (granted === 'admin' && needed === 'read')
}

/**
 * Why a request was refused: 401 without usable credentials, 403 with a key that is not valid
 * for the org (`other_org`, `unknown_key`: also when no key at all is configured) or does not
 * grant the right the route needs (`insufficient_scope`).
 */
export type ApiKeyCheck =
  | { ok: true }
  | { ok: false; status: 401; reason: 'missing' | 'malformed' }
  | { ok: false; status: 403; reason: 'other_org' | 'unknown_key' | 'insufficient_scope' }

// RFC 6750 b64token: what a Bearer credential may contain.
const bearer = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/

/**
 * Checks an `Authorization` header against the keys of `org` for `scope`. Every configured hash
 * is compared, in constant time and without stopping at a match, so that timing says nothing
 * about which keys exist, for which org or with which right. There is no open mode: with no key
 * configured every request is refused.
 */
export function checkApiKey(
  header: string | undefined,
  org: string,
  scope: ApiScope,
  keys: readonly ApiKeyHash[],
): ApiKeyCheck {
  if (header === undefined || header.trim() === '') return { ok: false, status: 401, reason: 'missing' }
  const match = bearer.exec(header.trim())
  if (!match) return { ok: false, status: 401, reason: 'malformed' }
  const presented = createHash('sha256').update(match[1]!, 'utf8').digest()
  let granted = false
  let forOrg = false
  let forOther = false
  for (const key of keys) {
    const equal = timingSafeEqual(presented, Buffer.from(key.sha256, 'hex'))
    const sameOrg = key.org === org || key.org === ANY_ORG
    if (equal && sameOrg && grants(key.scope, scope)) granted = true
    else if (equal && sameOrg) forOrg = true
    else if (equal) forOther = true
  }
  if (granted) return { ok: true }
  return { ok: false, status: 403, reason: forOrg ? 'insufficient_scope' : forOther ? 'other_org' : 'unknown_key' }
}
