/**
 * The collector's rate limit: a token bucket per org, counted in events (what a request costs
 * downstream), not in requests. One org sending too much is answered 429 with `Retry-After`; the
 * other orgs keep their own budget. It is checked after the request authenticated (API key or
 * webhook signature), so that nobody without an org's credentials can spend its budget.
 */

export interface RateLimitSettings {
  /** Events per second an org may send, on average. */
  eventsPerSecond: number
  /** The largest request (events): the bucket always holds at least one. */
  maxEventsPerRequest: number
  /** Seconds of the average rate that may be sent at once (default 10). */
  burstSeconds?: number
}

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number }

export interface OrgRateLimit {
  /** Takes `cost` events from the org's bucket at `nowMs`, or says how long to wait for them. */
  take(org: string, cost: number, nowMs: number): RateDecision
  /** The bucket's size in events. */
  readonly capacity: number
}

export function createOrgRateLimit(settings: RateLimitSettings): OrgRateLimit {
  const rate = settings.eventsPerSecond
  const capacity = Math.max(rate * (settings.burstSeconds ?? 10), settings.maxEventsPerRequest)
  // Only orgs that authenticated get a bucket: bounded by the orgs configured.
  const buckets = new Map<string, { tokens: number; atMs: number }>()
  return {
    capacity,
    take(org, cost, nowMs) {
      const bucket = buckets.get(org) ?? { tokens: capacity, atMs: nowMs }
      // A clock that steps back refills nothing rather than draining the bucket.
      bucket.tokens = Math.min(capacity, bucket.tokens + (Math.max(0, nowMs - bucket.atMs) * rate) / 1000)
      bucket.atMs = Math.max(bucket.atMs, nowMs)
      buckets.set(org, bucket)
      const needed = Math.min(Math.max(cost, 1), capacity)
      if (bucket.tokens >= needed) {
        bucket.tokens -= needed
        return { ok: true }
      }
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((needed - bucket.tokens) / rate)) }
    },
  }
}
