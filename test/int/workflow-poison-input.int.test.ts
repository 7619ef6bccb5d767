// Poison input on the real Temporal server, with the worker's own activities on a real ClickHouse:
// a rebuild of a range that does not exist, an org whose stored timezone the engine cannot load,
// a day outside the engine's range. Each ends its workflow failed at the first attempt, with the
// failure's type and message, while another org's work on the same worker goes on; the CLI's
// waiting says so with the Temporal UI link. Forced past the edge validation: started directly.
// "Within seconds" is each test's timeout: before, these retried for ever.
import { Client, Connection, WorkflowFailedError } from '@temporalio/client'
import { NativeConnection, Worker } from '@temporalio/worker'
import Fastify from 'fastify'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitForOrgMetrics, MetricsWorkflowError } from '../../services/cli/metrics-wait.ts'
import { waitForRebuild, WorkflowFailureError } from '../../services/cli/rebuild-wait.ts'
import type { ClickHouse } from '../../services/clickhouse/clickhouse-client.ts'
import { migrate } from '../../services/clickhouse/migrations.ts'
import { apiKeyHash, generateApiKey } from '../../services/runtime/api-keys.ts'
import { registerRebuildRoute } from '../../services/worker/rebuild-route.ts'
import { installHttpApi } from '../../services/runtime/http-api.ts'
import { WORKFLOWS_PATH, workerActivities } from '../../services/worker/worker-service.ts'
import { failureReason, startRebuild, workerPolls, workflowUiUrl } from '../../services/worker/workflow-client.ts'
import {
  eventsIngestedSignal,
  orgMetricsActivityOptions,
  orgMetricsStatusQuery,
  orgMetricsWorkflow,
  orgMetricsWorkflowId,
} from '../../workflows/org-metrics-workflow.ts'
import { rebuildActivityOptions, rebuildWorkflow } from '../../workflows/rebuild-workflow.ts'
import { config, testClickHouse, uniqueName } from '../support/env.ts'
import { insertRawEvents } from '../support/event-store-fixtures.ts'
import { activityEvent, prng } from '../support/synthetic-events.ts'

const SECONDS = 30_000
const DAY_RULE = 'must be a calendar date YYYY-MM-DD between 1970-01-01 and 2149-06-05'

let ch: ClickHouse
let connection: Connection
let client: Client
let native: NativeConnection
let worker: Worker
let running: Promise<void>
const taskQueue = uniqueName('poison')
const links = { ...config, TEMPORAL_TASK_QUEUE: taskQueue }
/** An org with events, whose work must go on beside the poisoned ones. */
const steady = uniqueName('steady')

beforeAll(async () => {
  ch = testClickHouse('poison')
  await migrate(ch)
  const random = prng(18)
  await insertRawEvents(
    ch,
    Array.from({ length: 40 }, (_, i) => activityEvent(steady, i, random)),
  )
  connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS })
  client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE })
  native = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS })
  worker = await Worker.create({
    connection: native,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue,
    workflowsPath: WORKFLOWS_PATH,
    activities: workerActivities(() => ch, pino({ level: 'silent' })),
  })
  running = worker.run()
})

afterAll(async () => {
  if (worker?.getState() === 'RUNNING') worker.shutdown()
  await running
  await native?.close()
  await connection?.close()
  await ch?.close()
})

/** Stores a setting as another engine or a hand-written INSERT could have: one this engine cannot load. */
async function storeUnloadableTimezone(org: string): Promise<void> {
  await ch.client.insert({
    table: `${ch.database}.org_settings`,
    values: [{ org_id: org, timezone: 'Mars/Olympus', default_currency: 'USD' }],
    format: 'JSONEachRow',
  })
}

async function failureOf(result: Promise<unknown>): Promise<WorkflowFailedError> {
  const error = await result.then(
    () => expect.fail('the workflow completed'),
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(WorkflowFailedError)
  return error as WorkflowFailedError
}

/** How many times each activity of a workflow's history started. */
async function attempts(workflowId: string): Promise<number[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory()
  return (history.events ?? []).flatMap((e) =>
    e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes.attempt ?? 0] : [],
  )
}

function signalMetrics(org: string, days: string[]) {
  return client.workflow.signalWithStart(orgMetricsWorkflow, {
    workflowId: orgMetricsWorkflowId(org),
    taskQueue,
    args: [{ org, debounceMs: 50, maxDelayMs: 200 }],
    signal: eventsIngestedSignal,
    signalArgs: [{ days }],
  })
}

describe('rebuildWorkflow given poison input', () => {
  it(
    'fails a range that does not exist at the first attempt, while another org rebuilds; the CLI says why',
    async () => {
      const holdout = uniqueName('holdout')
      const bad = await client.workflow.start(rebuildWorkflow, {
        taskQueue,
        workflowId: uniqueName('rebuild'),
        args: [{ org: holdout, from: '2026-02-30', to: '2026-03-05' }],
      })
      const good = await client.workflow.start(rebuildWorkflow, {
        taskQueue,
        workflowId: uniqueName('rebuild'),
        args: [{ org: steady, from: '2026-03-01', to: '2026-03-31' }],
      })

      const reason = failureReason(await failureOf(bad.result()))
      expect(reason).toEqual({
        type: 'ParamsError',
        nonRetryable: true,
        message: `listEventDays: from: ${DAY_RULE} (got "2026-02-30")`,
      })
      expect(await attempts(bad.workflowId)).toEqual([1])
      expect((await good.result()).doneDays).toBeGreaterThan(0)

      const said: string[] = []
      const url = workflowUiUrl(links, bad.workflowId)
      const waited = await waitForRebuild(client.workflow.getHandle(bad.workflowId), {
        say: (line) => said.push(line),
        url,
        taskQueue,
        workerPolls: () => workerPolls(client, config.TEMPORAL_NAMESPACE, taskQueue),
      }).then(
        () => expect.fail('waiting on a failed rebuild returned'),
        (e: unknown) => e,
      )
      expect(waited).toBeInstanceOf(WorkflowFailureError)
      expect((waited as Error).message).toBe(
        `rebuild failed: ParamsError (not retried): listEventDays: from: ${DAY_RULE} (got "2026-02-30")\n  its history: ${url}`,
      )
      expect(said.join('\n')).not.toMatch(/worker running/)
    },
    SECONDS,
  )

  it(
    'fails an org whose stored timezone the engine cannot load, naming the setting and the way out',
    async () => {
      const mars = uniqueName('mars')
      await storeUnloadableTimezone(mars)
      const handle = await client.workflow.start(rebuildWorkflow, {
        taskQueue,
        workflowId: uniqueName('rebuild'),
        args: [{ org: mars }],
      })
      const reason = failureReason(await failureOf(handle.result()))
      expect(reason).toMatchObject({ type: 'OrgSettingsError', nonRetryable: true })
      expect(reason.message).toContain('timezone: unknown to ClickHouse (got "Mars/Olympus")')
      expect(reason.message).toContain(`dugout org set ${mars}`)
      expect(await attempts(handle.workflowId)).toEqual([1])
    },
    SECONDS,
  )
})

describe('POST /v1/orgs/:org/rebuild on the real Temporal server', () => {
  it(
    'starts a rebuild of a good range (202, its id and link) and none of a bad one (400)',
    async () => {
      // As the reports service does: a lazy connection, closed with the service.
      const lazy = Connection.lazy({ address: config.TEMPORAL_ADDRESS })
      const app = Fastify()
      const key = generateApiKey()
      await installHttpApi(app, { apiKeys: [apiKeyHash(steady, key, 'admin')] })
      registerRebuildRoute(app, (params) =>
        startRebuild(new Client({ connection: lazy, namespace: config.TEMPORAL_NAMESPACE }), links, params, new Date()),
      )
      try {
        const refused = await app.inject({
          method: 'POST',
          url: `/v1/orgs/${steady}/rebuild`,
          headers: { authorization: `Bearer ${key}` },
          payload: { from: '2026-02-30', to: '2026-03-05' },
        })
        expect(refused.statusCode).toBe(400)
        expect(refused.json()).toMatchObject({ status: 400, errors: [{ parameter: 'from' }] })

        const accepted = await app.inject({
          method: 'POST',
          url: `/v1/orgs/${steady}/rebuild`,
          headers: { authorization: `Bearer ${key}` },
          payload: { from: '2026-03-01', to: '2026-03-31' },
        })
        expect(accepted.statusCode).toBe(202)
        const { workflowId, runId, url } = accepted.json<{ workflowId: string; runId: string; url: string }>()
        expect(workflowId).toMatch(new RegExp(`^rebuild:${steady}:`))
        expect(url).toBe(workflowUiUrl(links, workflowId))
        const result = await client.workflow.getHandle<typeof rebuildWorkflow>(workflowId, runId).result()
        expect(result.doneDays).toBeGreaterThan(0)
      } finally {
        await app.close()
        await lazy.close()
      }
    },
    SECONDS,
  )
})

describe('orgMetricsWorkflow given poison input', () => {
  it(
    'fails an org whose stored timezone cannot be loaded, while another org is computed; --wait says why',
    async () => {
      const mars = uniqueName('mars')
      await storeUnloadableTimezone(mars)
      const poisoned = await signalMetrics(mars, ['2026-03-02'])
      const fine = await signalMetrics(steady, ['2026-03-02', '2026-03-03'])

      const reason = failureReason(await failureOf(poisoned.result()))
      expect(reason).toMatchObject({ type: 'OrgSettingsError', nonRetryable: true })
      expect(reason.message).toContain('(got "Mars/Olympus")')
      expect(await attempts(poisoned.workflowId)).toEqual([1])

      const waited: string[] = []
      const options = { timeoutMs: SECONDS, onWaiting: (what: string) => waited.push(what) }
      await waitForOrgMetrics(client, links, [steady], options)
      expect(await fine.query(orgMetricsStatusQuery)).toMatchObject({ signalsReceived: 1, signalsComputed: 1 })

      const error = await waitForOrgMetrics(client, links, [mars], options).then(
        () => expect.fail('waiting on a failed metrics workflow returned'),
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(MetricsWorkflowError)
      const { runId } = await poisoned.describe()
      expect((error as Error).message).toContain(
        `the metrics workflow of ${mars} (${poisoned.workflowId}) failed: OrgSettingsError (not retried): `,
      )
      expect((error as Error).message).toContain(workflowUiUrl(links, poisoned.workflowId, runId))
      expect(waited.join('\n')).not.toMatch(/worker running/)
      await fine.terminate('test over')
    },
    SECONDS,
  )

  it(
    "fails a day outside the engine's range at the first attempt",
    async () => {
      const far = uniqueName('far')
      const handle = await signalMetrics(far, ['2026-03-02', '2150-01-01'])
      const reason = failureReason(await failureOf(handle.result()))
      expect(reason).toEqual({
        type: 'DayError',
        nonRetryable: true,
        message: `days: ${DAY_RULE} (got "2150-01-01")`,
      })
      expect(await attempts(handle.workflowId)).toEqual([1])
    },
    SECONDS,
  )
})

describe('the non-retryable types the workflows list', () => {
  // Each listed type, and a call of the worker's own activities that throws it.
  const activities = () => workerActivities(() => ch, pino({ level: 'silent' }))
  const mars = uniqueName('mars')
  const poison: Record<string, () => Promise<unknown>> = {
    ParamsError: () => activities().listEventDays({ org: steady, from: '2026-03-05', to: '2026-03-01' }),
    DayError: () => activities().recomputeDays({ org: steady, days: ['1969-12-31'] }),
    OrgSettingsError: async () => {
      await storeUnloadableTimezone(mars)
      return activities().affectedDays({ org: mars, days: ['2026-03-02'] })
    },
  }

  it.each([
    ...new Set([
      ...(orgMetricsActivityOptions.retry?.nonRetryableErrorTypes ?? []),
      ...(rebuildActivityOptions.retry?.nonRetryableErrorTypes ?? []),
    ]),
  ])('%s is thrown by the activities, as a non-retryable failure', async (type) => {
    const call = poison[type]
    expect(call, `a poison input for ${type}`).toBeDefined()
    const failure = await call!().then(
      () => expect.fail(`${type}: the activity succeeded`),
      (e: unknown) => e,
    )
    expect(failure).toMatchObject({ type, nonRetryable: true })
  })
})
