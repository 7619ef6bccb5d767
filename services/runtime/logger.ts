/** Structured logs (pino): JSON lines on stderr, level from LOG_LEVEL, secrets redacted. */
import type { Writable } from 'node:stream'
import { pino, type Logger } from 'pino'
import { withoutCredentials, type LogConfig } from '../../schemas/config.schema.ts'

export type { Logger }

/** What a redacted value reads as in a log line. */
export const REDACTED = '[redacted]'

// Keys that carry credentials, at the top of a log object, one level down (`{ headers: { … } }`,
// `{ config: { … } }`) and in fastify's request and response serialisations. pino's redaction
// (fast-redact) takes explicit paths; `*` stands for any one key.
const SECRET_KEYS = [
  'authorization',
  'cookie',
  '["set-cookie"]',
  '["x-hubspot-signature-v3"]',
  '["x-dugout-signature"]',
  'password',
  'secret',
  'secrets',
  'apiKey',
  'token',
  'CLICKHOUSE_PASSWORD',
  'DUGOUT_HUBSPOT_SECRETS',
  'DUGOUT_SALESFORCE_SECRETS',
  // URLs that may carry `user:password@`: logged without it, not hidden.
  'CLICKHOUSE_URL',
  'SMTP_URL',
]
const URL_KEYS = new Set(['CLICKHOUSE_URL', 'SMTP_URL'])

function censor(value: unknown, path: string[]): unknown {
  return URL_KEYS.has(path.at(-1) ?? '') && typeof value === 'string' ? withoutCredentials(value) : REDACTED
}
const joined = (prefix: string, key: string) => (key.startsWith('[') ? `${prefix}${key}` : `${prefix}.${key}`)

/** The paths `createLogger` redacts (exported for its test). */
export const REDACTED_PATHS: readonly string[] = SECRET_KEYS.flatMap((key) => [
  key,
  joined('*', key),
  joined('req.headers', key),
  joined('res.headers', key),
])

/** The process's logger; `destination` is for tests (default: stderr). */
export function createLogger(config: LogConfig, name = 'dugout', destination?: Writable): Logger {
  return pino(
    { name, level: config.LOG_LEVEL, redact: { paths: [...REDACTED_PATHS], censor } },
    destination ?? pino.destination(2),
  )
}
