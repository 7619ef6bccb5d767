/**
 * Per-org API keys of `POST /v1/orgs/:org/events`. Configuration holds only SHA-256 hashes of the
 * keys (`DUGOUT_API_KEYS="acme:sha256:<hex>"`), so a leaked config does not leak a key. Keys are
 * random tokens of 256 bits (`generateApiKey`), so an unsalted fast hash is enough: there is no
 * dictionary to try.
 *
 * Make a key and its config entry:
 *   node -e "const c=require('node:crypto');const k=c.randomBytes(32).toString('base64url');console.log(k+'\n'+'acme:sha256:'+c.createHash('sha256').update(k).digest('hex'))"
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { ApiKeyHash } from '../../schemas/collector-config.schema.ts'

/** The hex SHA-256 of a key, as `DUGOUT_API_KEYS` stores it (after `org:sha256:`). */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

/** A new random key (256 bits, base64url) for an org. */
export function generateApiKey(): string {
  return randomBytes(32).toString('base64url')
}

/** The `DUGOUT_API_KEYS` entry of `key` for `org`. */
export function apiKeyEntry(org: string, key: string): string {
  return `${org}:sha256:${hashApiKey(key)}`
}

/** Why a request was refused: 401 without usable credentials, 403 with a key not valid for the org. */
export type ApiKeyCheck =
  | { ok: true }
  | { ok: false; status: 401; reason: 'missing' | 'malformed' }
  | { ok: false; status: 403; reason: 'other_org' | 'unknown_key' }

// RFC 6750 b64token: what a Bearer credential may contain.
const bearer = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/

/**
 * Checks an `Authorization` header against the keys of `org`. Every configured hash is compared,
 * in constant time and without stopping at a match, so that timing says nothing about which
 * keys exist or for which org.
 */
export function checkApiKey(header: string | undefined, org: string, keys: readonly ApiKeyHash[]): ApiKeyCheck {
  if (header === undefined || header.trim() === '') return { ok: false, status: 401, reason: 'missing' }
  const match = bearer.exec(header.trim())
  if (!match) return { ok: false, status: 401, reason: 'malformed' }
  const presented = createHash('sha256').update(match[1]!, 'utf8').digest()
  let forOrg = false
  let forOther = false
  for (const key of keys) {
    const equal = timingSafeEqual(presented, Buffer.from(key.sha256, 'hex'))
    if (equal && key.org === org) forOrg = true
    else if (equal) forOther = true
  }
  if (forOrg) return { ok: true }
  return { ok: false, status: 403, reason: forOther ? 'other_org' : 'unknown_key' }
}
