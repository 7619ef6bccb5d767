/**
 * The Temporal worker: runs the workflows of `workflows/` and the metric projection activities,
 * which run ClickHouse SQL. Temporal decides when and what to compute; ClickHouse computes.
 */
import { ApplicationFailure } from '@temporalio/activity'
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel } from '@temporalio/worker'
import { fileURLToPath } from 'node:url'
import type { ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { BadInputError } from '../errors.ts'
import { InsightThresholds } from '../../schemas/insights.schema.ts'
import type { InsightActivities } from '../../workflows/weekly-insights-workflow.ts'
import { createInsightActivities, type InsightActivityDeps } from '../insights/insight-activities.ts'
import { createSmtpMailer } from '../insights/insight-sender.ts'
import { ensureInsightSchedulesSchedule, insightSchedulesScheduleId } from '../insights/insight-schedule.ts'
import { insightsSecret } from '../insights/opt-out.ts'
import { createKafka } from '../kafka/kafka-client.ts'
import { orgMetricsSettled } from './metrics-settled.ts'
import { registerOptOutRoute } from '../insights/opt-out-route.ts'
import { createProjectionActivities, type ProjectionActivities } from '../projections/projection-activities.ts'
import type { Logger } from '../runtime/logger.ts'
import type { ServiceStarter } from '../runtime/service-host.ts'
import { Client, Connection } from '@temporalio/client'
import { registerRebuildRoute } from './rebuild-route.ts'
import { startRebuild } from './workflow-client.ts'

export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url))

const TEMPORAL_LOG_LEVELS: Record<string, LogLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'WARN',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
  silent: 'ERROR',
}
let runtimeInstalled = false

/**
 * Activities run at once. Two cores: more concurrent recomputations would only queue for CPU. Each
 * slot has a ClickHouse handle of its own, so a small org's recomputation runs beside a large
 * one's instead of waiting for it (one chDB connection runs one query at a time).
 */
const ACTIVITY_SLOTS = 2

export const startWorker: ServiceStarter = async ({ config, clickhouse, openClickHouse, logger, http }) => {
  // The SDK's runtime is per process and must be set before the first worker. Its INFO lines
  // (state changes, the workflow bundle) are noise at our info level.
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger(TEMPORAL_LOG_LEVELS[config.LOG_LEVEL] ?? 'WARN') })
    runtimeInstalled = true
  }
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS })
  // The client of the rebuild route and of the insight Schedules.
  const clientConnection = Connection.lazy({ address: config.TEMPORAL_ADDRESS })
  const client = new Client({ connection: clientConnection, namespace: config.TEMPORAL_NAMESPACE })
  // What the weekly insight emails wait for: ingest's progress (Kafka) and the metrics shards.
  const kafka = createKafka(config)
  // The weekly insight emails' transport; their links point at the public HTTP API.
  const mailer = createSmtpMailer(config.SMTP_URL, config.MAIL_FROM)
  const insights = {
    mailer,
    publicUrl: config.DUGOUT_PUBLIC_URL ?? `http://${config.DUGOUT_HTTP_HOST}:${config.DUGOUT_HTTP_PORT}`,
    optOutSecret: insightsSecret(config),
    thresholds: config.DUGOUT_INSIGHT_THRESHOLDS,
    temporal: { client, config },
    metricsSettled: (org: string) => orgMetricsSettled({ client, kafka, config }, org),
  }
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowsPath: WORKFLOWS_PATH,
    activities: workerActivities(openClickHouse, logger, insights),
    maxConcurrentActivityTaskExecutions: ACTIVITY_SLOTS,
  })
  let stopping = false
  let stoppedBecause: string | undefined
  // A worker that stops by itself (a fatal error of the SDK's core) computes nothing any more:
  // the host reports it, and /healthz fails so that the process is restarted.
  const running = worker.run().then(
    () => {
      if (!stopping) stoppedBecause = 'the Temporal worker stopped on its own'
    },
    (error: unknown) => {
      stoppedBecause = `the Temporal worker stopped with an error: ${(error as Error).message ?? String(error)}`
      logger.fatal({ err: error }, stoppedBecause)
    },
  )
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'temporal worker polling')
  // The rebuild route, beside the workflows it starts.
  registerRebuildRoute(http.app, (params) => startRebuild(client, config, params, new Date()))
  // The weekly insight emails' Schedules: the hourly one that keeps the orgs' ones in step.
  if (config.DUGOUT_INSIGHTS_SCHEDULE === 'on') {
    ensureInsightSchedulesSchedule(client, config).then(
      (outcome) =>
        logger.info({ scheduleId: insightSchedulesScheduleId(config), outcome }, 'insight schedules ensured'),
      (error: unknown) =>
        logger.warn({ err: error }, 'could not ensure the insight schedules; retried at the next start'),
    )
  }
  // The opt-out link of the insight emails, beside the workflows that send them.
  registerOptOutRoute(http.app, { ch: clickhouse, secret: insights.optOutSecret, clock: () => new Date() })
  return {
    name: 'worker',
    health: () => (stoppedBecause === undefined ? { running: true } : { running: false, reason: stoppedBecause }),
    async stop() {
      stopping = true
      // The SDK drains its workers by itself on SIGTERM and SIGINT; shutting down twice throws.
      if (worker.getState() === 'RUNNING') worker.shutdown()
      await running
      await connection.close()
      await clientConnection.close()
      mailer.close()
    },
  }
}

/**
 * The projection activities, and with a Mailer the weekly insight activities, as the worker runs
 * them: one set per slot, each call timed, and bad input failed for good (see
 * `failingBadInputForGood`).
 */
export function workerActivities(
  openClickHouse: () => ClickHouse,
  logger: Logger,
  insights?: Pick<InsightActivityDeps, 'mailer' | 'publicUrl' | 'optOutSecret' | 'temporal' | 'metricsSettled'> &
    Partial<Pick<InsightActivityDeps, 'thresholds'>>,
): ProjectionActivities & Partial<InsightActivities> {
  return failingBadInputForGood(
    timed(
      pooled(ACTIVITY_SLOTS, () => {
        const ch = openClickHouse()
        return {
          ...createProjectionActivities({ ch }),
          ...(insights
            ? createInsightActivities({
                ch,
                mailer: insights.mailer,
                clock: () => new Date(),
                thresholds: insights.thresholds ?? InsightThresholds.parse({}),
                optOutSecret: insights.optOutSecret,
                ...(insights.temporal === undefined ? {} : { temporal: insights.temporal }),
                ...(insights.metricsSettled === undefined ? {} : { metricsSettled: insights.metricsSettled }),
                ...(insights.publicUrl === undefined ? {} : { publicUrl: insights.publicUrl }),
              })
            : {}),
        }
      }),
      logger,
    ),
  )
}

/**
 * The Temporal boundary of STYLE.md: a BadInputError (services/errors.ts) becomes a non-retryable
 * ApplicationFailure of its class's name, so that the workflow sees it at the first attempt and
 * ends failed with its message, instead of a worker slot retrying it for ever. Anything else is
 * thrown as it is, and retried by the workflow's policy for that activity.
 */
export function failingBadInputForGood<T extends Record<string, (input: never) => Promise<unknown>>>(activities: T): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, activity]) => [
      name,
      async (input: never) => {
        try {
          return await activity(input)
        } catch (error) {
          if (!(error instanceof BadInputError)) throw error
          throw ApplicationFailure.create({
            type: error.name,
            message: error.message,
            nonRetryable: true,
            details: [{ code: error.code }],
          })
        }
      },
    ]),
  ) as T
}

/** Each activity logs its duration at debug level: where the time between an event and its metric goes. */
function timed<T extends Record<string, (input: never) => Promise<unknown>>>(activities: T, logger: Logger): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, activity]) => [
      name,
      async (input: never) => {
        const started = performance.now()
        try {
          return await activity(input)
        } finally {
          const { org, days, touched } = input as { org?: string; days?: unknown[]; touched?: unknown[] }
          logger.debug(
            {
              activity: name,
              org,
              days: days?.length,
              orgs: touched?.length,
              ms: Math.round(performance.now() - started),
            },
            'activity finished',
          )
        }
      },
    ]),
  ) as T
}

/**
 * `slots` sets of activities, each call running on a set no other running call holds. With as
 * many slots as the worker runs activities at once, a set is always free.
 */
function pooled<T extends Record<string, (input: never) => Promise<unknown>>>(slots: number, create: () => T): T {
  const free = Array.from({ length: slots }, create)
  const names = Object.keys(free[0]!) as (keyof T)[]
  return Object.fromEntries(
    names.map((name) => [
      name,
      async (input: never) => {
        const set = free.pop() ?? create()
        try {
          return await set[name]!(input)
        } finally {
          free.push(set)
        }
      },
    ]),
  ) as T
}
