/** Structured logs (pino): JSON lines on stderr, level from LOG_LEVEL. */
import { pino, type Logger } from 'pino'
import type { LogConfig } from '../../schemas/config.schema.ts'

export type { Logger }

export function createLogger(config: LogConfig, name = 'dugout'): Logger {
  return pino({ name, level: config.LOG_LEVEL }, pino.destination(2))
}
