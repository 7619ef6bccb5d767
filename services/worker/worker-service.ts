/**
 * The Temporal worker: runs the workflows of `workflows/` and the metric projection activities,
 * which run ClickHouse SQL. Temporal decides when and what to compute; ClickHouse computes.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker, type LogLevel } from '@temporalio/worker'
import { fileURLToPath } from 'node:url'
import { createProjectionActivities } from '../metrics/projection-activities.ts'
import type { ServiceStarter } from '../runtime/service-host.ts'

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

export const startWorker: ServiceStarter = async ({ config, clickhouse, logger }) => {
  // The SDK's runtime is per process and must be set before the first worker. Its INFO lines
  // (state changes, the workflow bundle) are noise at our info level.
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger(TEMPORAL_LOG_LEVELS[config.LOG_LEVEL] ?? 'WARN') })
    runtimeInstalled = true
  }
  const connection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS })
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    workflowsPath: WORKFLOWS_PATH,
    activities: createProjectionActivities({ ch: clickhouse }),
    // Two cores: more concurrent recomputations would only queue inside ClickHouse.
    maxConcurrentActivityTaskExecutions: 2,
  })
  const running = worker.run().catch((error: unknown) => {
    logger.error({ err: error }, 'temporal worker stopped with an error')
  })
  logger.info({ taskQueue: config.TEMPORAL_TASK_QUEUE }, 'temporal worker polling')
  return {
    name: 'worker',
    async stop() {
      worker.shutdown()
      await running
      await connection.close()
    },
  }
}
