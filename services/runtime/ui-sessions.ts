/**
 * Sessions of the report page (services/reports/report-page.ts): after a login with a `read` key,
 * the browser holds a random session id in an HttpOnly, SameSite=Strict cookie, mapped here, in
 * memory, to the one org it may read and an expiry. The key itself is never stored nor sent back.
 *
 * What a session grants is decided by the auth hook (http-api.ts): `read` on its org's GET
 * routes, nothing else. SameSite=Strict keeps the cookie off cross-site requests, and a GET of a
 * read route changes nothing, so there is nothing for a forged request to do.
 */
import { randomBytes } from 'node:crypto'

/** The cookie's name. */
export const UI_SESSION_COOKIE = 'dugout_session'
/** How long a session lasts after its login: a working day. */
export const UI_SESSION_TTL_MS = 8 * 60 * 60 * 1000

export interface UiSessionOptions {
  ttlMs?: number
  /** The clock, injected for tests. */
  now?: () => number
}

/** A new session: its id (the cookie's value) and how long the cookie should live. */
export interface NewUiSession {
  id: string
  maxAgeSeconds: number
}

export class UiSessions {
  private readonly byId = new Map<string, { org: string; expiresAt: number }>()
  private readonly ttlMs: number
  private readonly now: () => number

  constructor(options: UiSessionOptions = {}) {
    this.ttlMs = options.ttlMs ?? UI_SESSION_TTL_MS
    this.now = options.now ?? Date.now
  }

  /** Opens a session on `org` (the caller has checked a `read` key of it). */
  open(org: string): NewUiSession {
    this.prune()
    // 256 bits: a session id is as hard to guess as an API key.
    const id = randomBytes(32).toString('base64url')
    this.byId.set(id, { org, expiresAt: this.now() + this.ttlMs })
    return { id, maxAgeSeconds: Math.floor(this.ttlMs / 1000) }
  }

  /** The org of a live session, or null for an unknown or expired id (which is then forgotten). */
  orgOf(id: string | null | undefined): string | null {
    if (!id) return null
    const session = this.byId.get(id)
    if (!session) return null
    if (session.expiresAt <= this.now()) {
      this.byId.delete(id)
      return null
    }
    return session.org
  }

  close(id: string | null | undefined): void {
    if (id) this.byId.delete(id)
  }

  /** Forgets expired sessions, so that logins never grow memory without bound. */
  private prune(): void {
    const now = this.now()
    for (const [id, session] of this.byId) if (session.expiresAt <= now) this.byId.delete(id)
  }
}

/** The session id in a `Cookie` header, or null. */
export function sessionIdOf(cookieHeader: string | undefined): string | null {
  if (!cookieHeader) return null
  for (const part of cookieHeader.split(';')) {
    const [name, ...value] = part.trim().split('=')
    if (name === UI_SESSION_COOKIE) return value.join('=') || null
  }
  return null
}

/** The `Set-Cookie` value of a session; `secure` when the page is served over HTTPS. */
export function sessionCookie(session: NewUiSession, secure: boolean): string {
  return [
    `${UI_SESSION_COOKIE}=${session.id}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${session.maxAgeSeconds}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ')
}

/** The `Set-Cookie` value that removes the session cookie. */
export function clearedSessionCookie(): string {
  return `${UI_SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`
}
