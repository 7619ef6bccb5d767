/**
 * Signatures of CRM webhooks, checked on the raw body before anything is parsed.
 *
 * - HubSpot v3: base64(HMAC-SHA256(client secret, method + URI + raw body + timestamp)), with
 *   `X-HubSpot-Request-Timestamp` (epoch ms) at most 5 minutes away from our clock.
 *   https://developers.hubspot.com/docs/apps/legacy-apps/authentication/validating-requests
 * - Salesforce CDC bridge: `X-Dugout-Timestamp: <epoch seconds>` and
 *   `X-Dugout-Signature: sha256=<hex HMAC-SHA256(org secret, "<timestamp>.<org>.<raw body>")>`,
 *   the timestamp at most 5 minutes away from our clock. Signing the timestamp bounds a captured
 *   delivery's replay to that window; signing the org stops a delivery of one org being replayed
 *   as another's that shares its secret.
 *
 * Every comparison is constant-time (`timingSafeEqual`) on digests of equal length.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'

/** HubSpot refuses to sign for longer; a request older than this may be a replay. */
export const HUBSPOT_MAX_AGE_MS = 5 * 60 * 1000

export type SignatureCheck = { ok: true } | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' }

export interface HubSpotSignedRequest {
  method: string
  /** The full URL HubSpot called, e.g. `https://dugout.example.com/v1/webhooks/hubspot/acme`. */
  uri: string
  body: Buffer
  signature: string | undefined
  timestamp: string | undefined
}

/** Checks a HubSpot v3 signature at time `now`. */
export function verifyHubSpotSignature(request: HubSpotSignedRequest, secret: string, now: Date): SignatureCheck {
  const { signature, timestamp } = request
  if (signature === undefined || timestamp === undefined) return { ok: false, reason: 'missing' }
  if (!/^\d{1,15}$/.test(timestamp) || !/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) {
    return { ok: false, reason: 'malformed' }
  }
  // Future timestamps are held to the same bound: a clock far ahead is as suspect as a replay.
  if (Math.abs(now.getTime() - Number(timestamp)) > HUBSPOT_MAX_AGE_MS) return { ok: false, reason: 'stale' }
  const expected = hubSpotDigest(request.method, request.uri, request.body, timestamp, secret)
  return digestsEqual(Buffer.from(signature, 'base64'), expected) ? { ok: true } : { ok: false, reason: 'mismatch' }
}

/** The `X-HubSpot-Signature-v3` value HubSpot sends for this request (tests, tooling). */
export function signHubSpot(
  method: string,
  uri: string,
  body: Buffer | string,
  timestamp: string,
  secret: string,
): string {
  return hubSpotDigest(method, uri, Buffer.from(body), timestamp, secret).toString('base64')
}

// HubSpot decodes these escapes in the URI before signing; the rest stay encoded.
const HUBSPOT_DECODED: Record<string, string> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
}

/** The URI as HubSpot signs it: `base` (scheme and host, maybe a path prefix) + the request path. */
export function hubSpotSignedUri(base: string, requestUrl: string): string {
  return `${base}${requestUrl}`.replace(
    /%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi,
    (m) => HUBSPOT_DECODED[m.toUpperCase()]!,
  )
}

function hubSpotDigest(method: string, uri: string, body: Buffer, timestamp: string, secret: string): Buffer {
  return createHmac('sha256', secret)
    .update(`${method.toUpperCase()}${uri}`, 'utf8')
    .update(body)
    .update(timestamp, 'utf8')
    .digest()
}

/** The headers of a Salesforce bridge delivery. */
export const BRIDGE_HEADERS = { signature: 'x-dugout-signature', timestamp: 'x-dugout-timestamp' } as const

/** How far a bridge delivery's timestamp may be from our clock, as HubSpot's. */
export const BRIDGE_MAX_AGE_MS = HUBSPOT_MAX_AGE_MS

export interface BridgeSignedRequest {
  org: string
  body: Buffer
  signature: string | undefined
  timestamp: string | undefined
}

/** Checks the bridge's signature of `timestamp.org.body` at time `now`. */
export function verifyBridgeSignature(request: BridgeSignedRequest, secret: string, now: Date): SignatureCheck {
  const { signature, timestamp } = request
  if (signature === undefined || timestamp === undefined) return { ok: false, reason: 'missing' }
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(signature.trim())
  if (!match || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'malformed' }
  if (Math.abs(now.getTime() - Number(timestamp) * 1000) > BRIDGE_MAX_AGE_MS) return { ok: false, reason: 'stale' }
  const expected = bridgeDigest(request.org, request.body, timestamp, secret)
  return digestsEqual(Buffer.from(match[1]!, 'hex'), expected) ? { ok: true } : { ok: false, reason: 'mismatch' }
}

/**
 * The two headers the bridge sends with `body` for `org` at time `now` (the bridge, tests,
 * tooling): `{ 'x-dugout-timestamp', 'x-dugout-signature' }`.
 */
export function signBridge(org: string, body: Buffer | string, secret: string, now: Date): Record<string, string> {
  const timestamp = String(Math.floor(now.getTime() / 1000))
  return {
    [BRIDGE_HEADERS.timestamp]: timestamp,
    [BRIDGE_HEADERS.signature]: `sha256=${bridgeDigest(org, Buffer.from(body), timestamp, secret).toString('hex')}`,
  }
}

function bridgeDigest(org: string, body: Buffer, timestamp: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.${org}.`, 'utf8').update(body).digest()
}

function digestsEqual(given: Buffer, expected: Buffer): boolean {
  // timingSafeEqual throws on different lengths; the length of a digest is no secret.
  return given.length === expected.length && timingSafeEqual(given, expected)
}
