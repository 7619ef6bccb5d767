/**
 * The local API key: what lets the CLI on the machine that runs `dugout run` use the HTTP API
 * with no set-up. The host creates it once in `$DUGOUT_HOME/local-api-key` (mode 0600, so only
 * the user who runs Dugout can read it) and accepts it for every org with every right; the CLI
 * reads it and sends it. It is never printed, never logged, and not part of `DUGOUT_API_KEYS`:
 * that variable cannot name every org.
 */
import fs from 'node:fs'
import path from 'node:path'
import { ANY_ORG, type ApiKeyHash } from '../../schemas/collector-config.schema.ts'
import { generateApiKey, hashApiKey } from './api-keys.ts'

export const LOCAL_API_KEY_FILE = 'local-api-key'

export class LocalApiKeyError extends Error {
  readonly code = 'LOCAL_API_KEY_UNSAFE'
}

export function localApiKeyPath(home: string): string {
  return path.join(home, LOCAL_API_KEY_FILE)
}

/**
 * The local key, created if `home` has none. Several hosts may start at once on one `$DUGOUT_HOME`
 * (tests do): see `ensureSecretFile`.
 */
export function ensureLocalApiKey(home: string): string {
  return ensureSecretFile(localApiKeyPath(home))
}

/**
 * The local key of `home`, or undefined when there is none yet. A file that others can read is
 * refused rather than used: its key opens every org.
 */
export function readLocalApiKey(home: string): string | undefined {
  return readSecretFile(localApiKeyPath(home))
}

/**
 * The 256-bit random secret in `file`, created (mode 0600) if there is none. Several processes may
 * start at once on one `$DUGOUT_HOME`: the secret is written to a file of this process, then
 * hard-linked into place, which fails if another got there first; so every process reads one
 * whole secret, the first one written.
 */
export function ensureSecretFile(file: string): string {
  const existing = readSecretFile(file)
  if (existing !== undefined) return existing
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const draft = `${file}.${process.pid}.${Date.now()}.tmp`
  fs.writeFileSync(draft, `${generateApiKey()}\n`, { mode: 0o600, flag: 'wx' })
  try {
    fs.linkSync(draft, file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  } finally {
    fs.rmSync(draft, { force: true })
  }
  return readSecretFile(file)!
}

/** The secret in `file`, or undefined when there is none yet; refused if others can read the file. */
export function readSecretFile(file: string): string | undefined {
  let text: string
  try {
    const mode = fs.statSync(file).mode
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw new LocalApiKeyError(
        `${file} can be read by other users (mode ${(mode & 0o777).toString(8)}): run chmod 600 ${file}`,
      )
    }
    text = fs.readFileSync(file, 'utf8').trim()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  return text === '' ? undefined : text
}

/** The hashes under which the host accepts the local key: every org, every right. */
export function localApiKeyHashes(key: string): ApiKeyHash[] {
  const sha256 = hashApiKey(key)
  return [
    { org: ANY_ORG, scope: 'admin', sha256 },
    { org: ANY_ORG, scope: 'write', sha256 },
  ]
}
