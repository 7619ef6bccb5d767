/**
 * Configuration schemas. Each concern has its own part (`KafkaConfig`, `TemporalConfig`, …); each
 * process composes the parts it needs into one schema, parses `process.env` once in `main()` and
 * passes the typed result down. Nothing else reads the environment.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { z } from 'zod'
import { CollectorConfig, SECRET_VARIABLES } from './collector-config.schema.ts'
import { InsightThresholdsSetting } from './insights.schema.ts'

/** The repository root, where the default cache folder `.dugout/` lives. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

const PORT_RULE = 'must be an integer port number from 1 to 65535'
const port = (fallback: number) =>
  z.coerce.number({ error: PORT_RULE }).int(PORT_RULE).min(1, PORT_RULE).max(65535, PORT_RULE).default(fallback)
/** A whole number from `min` to `max` (of `unit`), one rule for every way to miss it. */
const wholeNumber = (min: number, max: number, unit?: string) => {
  const rule = `must be a whole number ${unit ? `of ${unit} ` : ''}from ${min} to ${max}`
  return z.coerce.number({ error: rule }).int(rule).min(min, rule).max(max, rule)
}
const nonEmpty = z.string().trim().min(1)
const identifier = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case identifier ([a-z_][a-z0-9_]*)')

/** Where the local stack keeps its installs, data, logs and pid files. */
export const StackConfig = z.object({
  DUGOUT_HOME: nonEmpty.default(path.join(PROJECT_ROOT, '.dugout')),
  DUGOUT_KAFKA_PORT: port(9092),
  DUGOUT_KAFKA_CONTROLLER_PORT: port(9093),
  DUGOUT_KAFKA_HEAP: z
    .string()
    .regex(/^\d+[mg]$/, 'must be a JVM heap size such as 512m or 1g')
    .default('512m'),
  DUGOUT_TEMPORAL_PORT: port(7233),
  DUGOUT_TEMPORAL_UI_PORT: port(8233),
  DUGOUT_STACK_TIMEOUT_SECONDS: wholeNumber(5, 3600, 'seconds').default(120),
})
export type StackConfig = z.infer<typeof StackConfig>

/** Kafka's compression codecs, by Kafka's own names (`compression.type`). */
export const KAFKA_CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
export type KafkaCodec = (typeof KAFKA_CODECS)[number]

export const KafkaConfig = z.object({
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'must be a comma-separated list of host:port')
    .optional(),
  KAFKA_CLIENT_ID: nonEmpty.default('dugout'),
  KAFKA_EVENTS_TOPIC: nonEmpty.default('crm.events.v1'),
  KAFKA_DLQ_TOPIC: nonEmpty.default('crm.events.dlq.v1'),
  KAFKA_CONSUMER_GROUP: nonEmpty.default('dugout-ingest'),
  KAFKA_PARTITIONS: wholeNumber(1, 1000, 'partitions').default(6),
  KAFKA_REPLICATION_FACTOR: wholeNumber(1, 7).default(1),
  KAFKA_COMPRESSION: z.enum(KAFKA_CODECS, { error: `must be one of ${KAFKA_CODECS.join(', ')}` }).default('gzip'),
  KAFKA_SESSION_TIMEOUT_MS: wholeNumber(6000, 300_000, 'milliseconds').default(30_000),
  DUGOUT_INGEST_DECODE_THREADS: wholeNumber(0, 8, 'threads').default(0),
})
export type KafkaConfig = z.infer<typeof KafkaConfig>
/** `KafkaConfig` with the broker list resolved (see `loadConfig`). */
export type ResolvedKafkaConfig = Omit<KafkaConfig, 'KAFKA_BROKERS'> & { KAFKA_BROKERS: string[] }

export const TemporalConfig = z.object({
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:]+:\d+$/, 'must be host:port')
    .optional(),
  TEMPORAL_NAMESPACE: nonEmpty.default('default'),
  TEMPORAL_TASK_QUEUE: nonEmpty.default('dugout-metrics'),
})
export type TemporalConfig = z.infer<typeof TemporalConfig>

export const ClickHouseConfig = z.object({
  CLICKHOUSE_URL: z
    .string()
    .url('must be an http(s):// URL, or unset for the embedded chDB engine')
    .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  CLICKHOUSE_USER: nonEmpty.default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  CLICKHOUSE_DATABASE: identifier.default('dugout'),
  CLICKHOUSE_CLUSTER: identifier.optional(),
  CHDB_PATH: nonEmpty.optional(),
  CHDB_MALLOC_CONF: nonEmpty.default('dirty_decay_ms:1000'),
})
export type ClickHouseConfig = z.infer<typeof ClickHouseConfig>

export const HttpConfig = z.object({
  DUGOUT_HTTP_HOST: nonEmpty.default('127.0.0.1'),
  DUGOUT_HTTP_PORT: port(8080),
})
export type HttpConfig = z.infer<typeof HttpConfig>

export const MailConfig = z.object({
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^\s]+$/, 'must be an smtp:// or smtps:// URL')
    .default('smtp://127.0.0.1:1025'),
  MAIL_FROM: z
    .string()
    .regex(/^[^\s@]+@[^\s@]+$|^.+<[^\s@]+@[^\s@]+>$/, 'must be an email address')
    .default('Dugout <dugout@localhost>'),
  DUGOUT_INSIGHTS_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. the output of openssl rand -base64 32)')
    .optional(),
  DUGOUT_INSIGHTS_SCHEDULE: z.enum(['on', 'off']).default('on'),
  DUGOUT_INSIGHT_THRESHOLDS: InsightThresholdsSetting.prefault(''),
})
export type MailConfig = z.infer<typeof MailConfig>

export const LogConfig = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
})
export type LogConfig = z.infer<typeof LogConfig>

export const RuntimeConfig = z.object({
  DUGOUT_HEAP_GROWTH_PERCENT: wholeNumber(0, 300, 'percent').default(50),
})
export type RuntimeConfig = z.infer<typeof RuntimeConfig>

/** The configuration of the `dugout` process (CLI and every service it hosts). */
export const DugoutEnv = StackConfig.extend(KafkaConfig.shape)
  .extend(TemporalConfig.shape)
  .extend(ClickHouseConfig.shape)
  .extend(HttpConfig.shape)
  .extend(MailConfig.shape)
  .extend(LogConfig.shape)
  .extend(RuntimeConfig.shape)
  .extend(CollectorConfig.shape)
export type DugoutEnv = z.infer<typeof DugoutEnv>

/** `DugoutEnv` with the defaults that depend on other variables resolved. */
export interface DugoutConfig extends Omit<DugoutEnv, 'KAFKA_BROKERS' | 'TEMPORAL_ADDRESS' | 'CHDB_PATH'> {
  KAFKA_BROKERS: string[]
  TEMPORAL_ADDRESS: string
  CHDB_PATH: string
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID'
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

/**
 * Parses the environment once. A bad value throws a `ConfigError` naming the variable, the rule
 * and the value received.
 */
export function loadConfig(env: Record<string, string | undefined>): DugoutConfig {
  const known = Object.fromEntries(
    Object.keys(DugoutEnv.shape)
      .filter((key) => env[key] !== undefined && !(env[key] === '' && key !== 'CLICKHOUSE_PASSWORD'))
      .map((key) => [key, env[key]]),
  )
  const parsed = DugoutEnv.safeParse(known)
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '?')
        return `${name}: ${issue.message} (got ${shownValue(name, env[name])})`
      }),
    )
  }
  const c = parsed.data
  if (c.CLICKHOUSE_CLUSTER !== undefined && c.CLICKHOUSE_URL === undefined) {
    throw new ConfigError([
      `CLICKHOUSE_CLUSTER: needs CLICKHOUSE_URL (a cluster is of ClickHouse servers; the embedded chDB engine is one process) (got ${JSON.stringify(c.CLICKHOUSE_CLUSTER)})`,
    ])
  }
  return {
    ...c,
    KAFKA_BROKERS: (c.KAFKA_BROKERS ?? `127.0.0.1:${c.DUGOUT_KAFKA_PORT}`).split(','),
    TEMPORAL_ADDRESS: c.TEMPORAL_ADDRESS ?? `127.0.0.1:${c.DUGOUT_TEMPORAL_PORT}`,
    CHDB_PATH: c.CHDB_PATH ?? path.join(c.DUGOUT_HOME, 'chdb'),
  }
}

/** Variables that are secrets: shown only as set or not. */
const SECRETS: ReadonlySet<string> = new Set([...SECRET_VARIABLES, 'DUGOUT_INSIGHTS_SECRET'])

/** Variables that are URLs: shown with their credentials (`user:password@`) hidden. */
const URL_VARIABLES: ReadonlySet<string> = new Set(['CLICKHOUSE_URL', 'SMTP_URL'])

/**
 * How a configuration value may be printed (`dugout config`, config errors): a secret as whether
 * it is set, a URL without the credentials it may carry, anything else as JSON.
 */
export function shownValue(name: string, value: unknown): string {
  if (value === undefined || value === null) return 'null'
  if (name === 'CLICKHOUSE_PASSWORD' || (SECRETS.has(name) && typeof value === 'string')) {
    return value === '' ? '(empty)' : '(set)'
  }
  if (URL_VARIABLES.has(name) && typeof value === 'string') return JSON.stringify(withoutCredentials(value))
  return JSON.stringify(value)
}

/** `scheme://user:password@host…` as `scheme://***@host…`; also for text that is not a valid URL. */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1***@')
}

/** Every variable with its default and meaning, for `dugout config` and the README. */
export const CONFIG_DOCS: Record<keyof DugoutEnv, string> = {
  DUGOUT_HOME:
    'Folder for the local stack: installs (Kafka jars, Temporal CLI), data, logs, pid files. Default: `.dugout/` in the checkout.',
  DUGOUT_KAFKA_PORT: 'Port of the local Kafka broker (default 9092).',
  DUGOUT_KAFKA_CONTROLLER_PORT: 'Port of the local Kafka KRaft controller (default 9093).',
  DUGOUT_KAFKA_HEAP: 'JVM heap of the local Kafka broker (default 512m).',
  DUGOUT_TEMPORAL_PORT: 'gRPC port of the local Temporal dev server (default 7233).',
  DUGOUT_TEMPORAL_UI_PORT: 'Port of the local Temporal UI (default 8233).',
  DUGOUT_STACK_TIMEOUT_SECONDS: 'How long `stack up` waits for each service to answer (default 120).',
  KAFKA_BROKERS: 'Comma-separated Kafka bootstrap servers (default 127.0.0.1:$DUGOUT_KAFKA_PORT).',
  KAFKA_CLIENT_ID: 'Kafka client id (default dugout).',
  KAFKA_EVENTS_TOPIC: 'Topic of canonical CRM events (default crm.events.v1).',
  KAFKA_DLQ_TOPIC: 'Dead-letter topic for invalid events (default crm.events.dlq.v1).',
  KAFKA_CONSUMER_GROUP: 'Consumer group of the ingest service (default dugout-ingest).',
  KAFKA_PARTITIONS: 'Partitions of the events topic when Dugout creates it (default 6).',
  KAFKA_REPLICATION_FACTOR: 'Replication factor of the topics Dugout creates (default 1; 3 in production).',
  KAFKA_COMPRESSION:
    'Compression of produced batches: none, gzip, snappy, lz4 or zstd (default gzip). Ingest reads all five, whatever the producer.',
  KAFKA_SESSION_TIMEOUT_MS:
    'How long a silent ingest process keeps its partitions before the group reassigns them (default 30000).',
  DUGOUT_INGEST_DECODE_THREADS:
    'Worker threads that decode and validate ingested events, off the thread that runs the Kafka client; 0 decodes on that thread (default 0: on 2 cores it buys no rate and costs about 80 MiB; try 1 on 4 or more).',
  TEMPORAL_ADDRESS: 'Temporal frontend host:port (default 127.0.0.1:$DUGOUT_TEMPORAL_PORT).',
  TEMPORAL_NAMESPACE: 'Temporal namespace (default default).',
  TEMPORAL_TASK_QUEUE: 'Task queue of the metrics worker (default dugout-metrics).',
  CLICKHOUSE_URL: 'ClickHouse server URL (http(s)://host:8123). Unset: the embedded chDB engine.',
  CLICKHOUSE_USER: 'ClickHouse user, with CLICKHOUSE_URL (default default).',
  CLICKHOUSE_PASSWORD: 'ClickHouse password, with CLICKHOUSE_URL (default empty).',
  CLICKHOUSE_DATABASE: 'Database holding the event store and metric tables (default dugout).',
  CLICKHOUSE_CLUSTER:
    'Cluster of the ClickHouse server (a name of its remote_servers): the migrations run ON CLUSTER, with Replicated* table engines (docs/scaling.md). With CLICKHOUSE_URL only (default none: one server).',
  CHDB_PATH: 'Data folder of the embedded chDB engine (default $DUGOUT_HOME/chdb). One process at a time.',
  CHDB_MALLOC_CONF:
    "Options of the embedded engine's memory allocator, in jemalloc's MALLOC_CONF syntax, read once as the engine loads (default dirty_decay_ms:1000: freed memory goes back to the system after 1 s instead of ClickHouse's 5 s; docs/scaling.md, \"Memory\").",
  DUGOUT_HTTP_HOST: 'Address the HTTP API (collector and reports) listens on (default 127.0.0.1).',
  DUGOUT_HTTP_PORT: 'Port of the HTTP API (default 8080).',
  SMTP_URL: 'SMTP server for weekly insight emails (default smtp://127.0.0.1:1025).',
  MAIL_FROM: 'Sender of insight emails (default Dugout <dugout@localhost>).',
  DUGOUT_INSIGHTS_SCHEDULE:
    'on: the worker keeps a Temporal Schedule per org and time zone of its managers that sends the weekly insight emails on Mondays at 08:00; off: no Schedule is made, emails go out only with dugout insights send (default on).',
  DUGOUT_INSIGHT_THRESHOLDS:
    'The thresholds of the insight rules over their defaults (docs/insights.md, "Thresholds"), as name=value, comma-separated, e.g. oneOnOneMaxDays=21,maxFindings=3 (default none: every default).',
  DUGOUT_INSIGHTS_SECRET:
    "Key signing the opt-out links of insight emails, at least 32 characters; the same on every Dugout process of a deployment (default: a random one kept in $DUGOUT_HOME/insights-secret).",
  LOG_LEVEL: 'fatal, error, warn, info, debug, trace or silent (default info).',
  DUGOUT_HEAP_GROWTH_PERCENT:
    "How far a service process's JavaScript heap may grow past what its last full garbage collection kept before the next one, in percent; 0 leaves it to V8, which lets a busy heap grow to about 2.5 times (default 50: an ingest process about 90 MiB smaller at the same throughput; docs/scaling.md, \"Memory\").",
  DUGOUT_API_KEYS:
    'API keys of the routes under /v1/orgs/:org/, as org:<read|write|admin>:sha256:<hex of SHA-256 of the key>, comma-separated; several per org for rotation; org:sha256:<hex> means write (default none: every org route refused, but for the local key of dugout run in $DUGOUT_HOME/local-api-key).',
  DUGOUT_COLLECTOR_MAX_BODY_BYTES:
    'Largest request body the collector accepts, in bytes; larger is 413 (default 10485760, 10 MiB).',
  DUGOUT_COLLECTOR_MAX_EVENTS:
    'Most events in one request to the collector (events API, webhooks); more is 413 naming the limit (default 10000).',
  DUGOUT_COLLECTOR_RATE_LIMIT:
    'Events per second each org may send to the collector, with bursts up to ten seconds of them; more is 429 with Retry-After (default 5000).',
  DUGOUT_CRM_MAPPINGS:
    "Path of the JSON file mapping each org's HubSpot/Salesforce stages and user ids to Dugout's (default none: webhooks are dead-lettered).",
  DUGOUT_HUBSPOT_SECRETS:
    'HubSpot app client secret per org, as org:secret, comma-separated; each at least 32 bytes (default none).',
  DUGOUT_SALESFORCE_SECRETS:
    'Secret per org signing Salesforce CDC bridge requests (X-Dugout-Signature over X-Dugout-Timestamp, org and body), as org:secret, comma-separated; each at least 32 bytes (default none).',
  DUGOUT_PUBLIC_URL:
    "External base URL HubSpot calls, e.g. https://dugout.example.com; part of the HubSpot signature (default: the request's own scheme and Host).",
}
