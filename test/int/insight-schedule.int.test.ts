// The org's weekly insight Schedule on the local Temporal server: created with its calendar, time
// zone and policies, updated (not doubled) when ensured again with another time zone, and its
// action runs the fan-out on a worker for the week before the run's time.
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client'
import { NativeConnection, Worker } from '@temporalio/worker'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InsightThresholds } from '../../schemas/insights.schema.ts'
import { migrate } from '../../services/clickhouse/migrations.ts'
import { createInsightActivities, previousWeek } from '../../services/insights/insight-activities.ts'
import { ensureInsightSchedule, insightScheduleId } from '../../services/insights/insight-schedule.ts'
import { WORKFLOWS_PATH } from '../../services/worker/worker-service.ts'
import { config, testClickHouse, uniqueName } from '../support/env.ts'

let connection: Connection
let client: Client
beforeAll(async () => {
  connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS })
  client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE })
})
afterAll(() => connection?.close())

describe('ensureInsightSchedule', () => {
  it('creates the Schedule, then updates it in place', async () => {
    const org = uniqueName('schedorg')
    const handle = client.schedule.getHandle(insightScheduleId(org))
    try {
      const queue = { TEMPORAL_TASK_QUEUE: uniqueName('insights') }
      expect(await ensureInsightSchedule(client, queue, org, 'Asia/Tokyo')).toBe('created')
      const created = await handle.describe()
      expect(created.spec.timezone).toBe('Asia/Tokyo')
      expect(created.spec.calendars).toMatchObject([
        { dayOfWeek: [{ start: 'MONDAY', end: 'MONDAY' }], hour: [{ start: 8, end: 8 }] },
      ])
      expect(created.policies.overlap).toBe(ScheduleOverlapPolicy.BUFFER_ONE)
      expect(created.policies.catchupWindow).toBe(7 * 24 * 3600 * 1000)
      expect(created.action).toMatchObject({ type: 'startWorkflow', workflowType: 'weeklyInsightsFanOutWorkflow' })
      expect(created.action.type === 'startWorkflow' && created.action.args).toEqual([{ org }])

      expect(await ensureInsightSchedule(client, queue, org, 'Europe/Paris')).toBe('updated')
      expect((await handle.describe()).spec.timezone).toBe('Europe/Paris')
    } finally {
      await handle.delete()
    }
  })

  it('starts the fan-out on its task queue when triggered', async () => {
    const org = uniqueName('schedorg')
    const queue = { TEMPORAL_TASK_QUEUE: uniqueName('insights') }
    const handle = client.schedule.getHandle(insightScheduleId(org))
    // An org with no events: the fan-out finds no managers, which is enough to see it run.
    const ch = testClickHouse('insight_schedule')
    await migrate(ch)
    const nativeConnection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS })
    const worker = await Worker.create({
      connection: nativeConnection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: queue.TEMPORAL_TASK_QUEUE,
      workflowsPath: WORKFLOWS_PATH,
      activities: createInsightActivities({
        ch,
        mailer: { send: () => Promise.reject(new Error('nothing to send')) },
        clock: () => new Date(),
        thresholds: InsightThresholds.parse({}),
        optOutSecret: 'schedule-test-secret-of-32-characters',
      }),
    })
    try {
      await ensureInsightSchedule(client, queue, org, 'UTC')
      await handle.trigger()
      const action = await worker.runUntil(async () => {
        for (;;) {
          const [recent] = (await handle.describe()).info.recentActions
          if (recent) {
            await client.workflow.getHandle(recent.action.workflow.workflowId).result()
            return recent
          }
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      })
      expect(action.action.workflow.workflowId.startsWith(`${insightScheduleId(org)}-`)).toBe(true)
      const result: unknown = await client.workflow.getHandle(action.action.workflow.workflowId).result()
      expect(result).toEqual({
        week: previousWeek(action.scheduledAt, 'UTC'),
        started: [],
        alreadyStarted: [],
        withoutEmail: [],
        optedOut: [],
      })
    } finally {
      await handle.delete()
      await nativeConnection.close()
      await ch.close()
    }
  }, 60_000)
})
