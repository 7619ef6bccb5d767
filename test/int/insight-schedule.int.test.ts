// The weekly insight Schedules on the local Temporal server: one per org and time zone of its
// managers, created with their calendar, zone and policies, updated (not doubled) when ensured
// again; a triggered one runs the fan-out for the week before its time; and the hourly Schedule
// keeps an org's Schedules in step with its managers' zones, deleting those nobody is in any more.
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client'
import { NativeConnection, Worker } from '@temporalio/worker'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InsightThresholds } from '../../schemas/insights.schema.ts'
import { migrate } from '../../services/clickhouse/migrations.ts'
import { generateOrg } from '../../services/demo/org-generator.ts'
import {
  createInsightActivities,
  previousWeek,
  type InsightActivityDeps,
} from '../../services/insights/insight-activities.ts'
import {
  ensureInsightSchedule,
  ensureInsightSchedulesSchedule,
  insightScheduleId,
  insightSchedulesScheduleId,
  insightTimeZones,
  reconcileInsightSchedules,
} from '../../services/insights/insight-schedule.ts'
import { createProjectionActivities } from '../../services/projections/projection-activities.ts'
import { WORKFLOWS_PATH } from '../../services/worker/worker-service.ts'
import { config, testClickHouse, uniqueName } from '../support/env.ts'
import { insertRawEvents, type RawEvent } from '../support/event-store-fixtures.ts'

let connection: Connection
let client: Client
const ch = testClickHouse('insight_schedule')
// A generated org's managers live in New York, London and Chicago; the org's days are UTC.
const org = uniqueName('schedorg').replace(/_/g, '-')
const ZONES = ['America/Chicago', 'America/New_York', 'Europe/London', 'UTC']
const NOW = new Date('2026-02-25T12:00:00Z')

beforeAll(async () => {
  connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS })
  client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE })
  await migrate(ch)
  const events = [...generateOrg({ org, managers: 3, repsPerManager: 2, weeks: 3, seed: 5, start: '2026-02-02' })]
  await insertRawEvents(ch, events as unknown as RawEvent[])
  const projections = createProjectionActivities({ ch })
  await projections.recomputeDays({ org, days: await projections.listEventDays({ org }) })
}, 300_000)
afterAll(async () => {
  await connection?.close()
  await ch.close()
})

const orgSchedules = async (o: string) => {
  const ids: string[] = []
  for await (const s of client.schedule.list()) if (s.scheduleId.startsWith(`insights:${o}:`)) ids.push(s.scheduleId)
  return ids.sort()
}
const deleteOrgSchedules = async (o: string) => {
  for (const id of await orgSchedules(o)) await client.schedule.getHandle(id).delete()
}

/** A worker of the insight workflows on `queue`, over this file's org; it sends nothing. */
async function insightWorker(queue: { TEMPORAL_TASK_QUEUE: string }, temporal?: InsightActivityDeps['temporal']) {
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
      ...(temporal === undefined ? {} : { temporal }),
    }),
  })
  return { worker, nativeConnection }
}

describe('ensureInsightSchedule', () => {
  it('creates the Schedule of an org and zone, then updates it in place', async () => {
    const other = uniqueName('schedorg')
    const handle = client.schedule.getHandle(insightScheduleId(other, 'Asia/Tokyo'))
    try {
      const queue = { TEMPORAL_TASK_QUEUE: uniqueName('insights') }
      expect(await ensureInsightSchedule(client, queue, other, 'Asia/Tokyo')).toBe('created')
      const created = await handle.describe()
      expect(created.spec.timezone).toBe('Asia/Tokyo')
      expect(created.spec.calendars).toMatchObject([
        { dayOfWeek: [{ start: 'MONDAY', end: 'MONDAY' }], hour: [{ start: 8, end: 8 }] },
      ])
      expect(created.policies.overlap).toBe(ScheduleOverlapPolicy.BUFFER_ONE)
      expect(created.policies.catchupWindow).toBe(7 * 24 * 3600 * 1000)
      expect(created.action).toMatchObject({ type: 'startWorkflow', workflowType: 'weeklyInsightsFanOutWorkflow' })
      expect(created.action.type === 'startWorkflow' && created.action.args).toEqual([
        { org: other, timezone: 'Asia/Tokyo' },
      ])

      const moved = { TEMPORAL_TASK_QUEUE: uniqueName('insights') }
      expect(await ensureInsightSchedule(client, moved, other, 'Asia/Tokyo')).toBe('updated')
      const updated = await handle.describe()
      expect(updated.action.type === 'startWorkflow' && updated.action.taskQueue).toBe(moved.TEMPORAL_TASK_QUEUE)
      expect(await orgSchedules(other)).toEqual([insightScheduleId(other, 'Asia/Tokyo')])
    } finally {
      await handle.delete()
    }
  })

  it('starts the fan-out for its zone when triggered', async () => {
    const empty = uniqueName('schedorg')
    const queue = { TEMPORAL_TASK_QUEUE: uniqueName('insights') }
    const handle = client.schedule.getHandle(insightScheduleId(empty, 'UTC'))
    // An org with no events: the fan-out finds no managers, which is enough to see it run.
    const { worker, nativeConnection } = await insightWorker(queue)
    try {
      await ensureInsightSchedule(client, queue, empty, 'UTC')
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
      expect(action.action.workflow.workflowId.startsWith(`${insightScheduleId(empty, 'UTC')}-`)).toBe(true)
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
    }
  })
})

describe("the org's Schedules follow its managers' time zones", () => {
  it("finds the org's zone and each manager's own", async () => {
    expect(await insightTimeZones(ch, org, NOW)).toEqual(ZONES)
  })

  it('creates one per zone, and deletes the Schedule of a zone nobody is in any more', async () => {
    const queue = { TEMPORAL_TASK_QUEUE: uniqueName('insights') }
    try {
      expect(await reconcileInsightSchedules(client, queue, org, ['Asia/Tokyo', 'UTC'])).toEqual({
        org,
        created: ['Asia/Tokyo', 'UTC'],
        updated: [],
        deleted: [],
      })
      expect(await reconcileInsightSchedules(client, queue, org, ZONES)).toEqual({
        org,
        created: ['America/Chicago', 'America/New_York', 'Europe/London'],
        updated: ['UTC'],
        deleted: ['Asia/Tokyo'],
      })
      expect(await orgSchedules(org)).toEqual(ZONES.map((zone) => insightScheduleId(org, zone)).sort())
    } finally {
      await deleteOrgSchedules(org)
    }
  })

  it("the hourly Schedule runs at once when created, and makes every org's Schedules", async () => {
    const queue = { TEMPORAL_TASK_QUEUE: uniqueName('insights') }
    const { worker, nativeConnection } = await insightWorker(queue, { client, config: queue })
    const hourly = client.schedule.getHandle(insightSchedulesScheduleId(queue))
    try {
      expect(await ensureInsightSchedulesSchedule(client, queue)).toBe('created')
      expect((await hourly.describe()).spec.intervals).toEqual([{ every: 3_600_000 }])
      await worker.runUntil(async () => {
        for (;;) {
          const [recent] = (await hourly.describe()).info.recentActions
          if (recent) return client.workflow.getHandle(recent.action.workflow.workflowId).result()
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      })
      // The run's week is the one before today: the generated org's managers are managers still.
      expect(await orgSchedules(org)).toEqual(
        (await insightTimeZones(ch, org, new Date())).map((zone) => insightScheduleId(org, zone)).sort(),
      )
      expect(await ensureInsightSchedulesSchedule(client, queue)).toBe('updated')
    } finally {
      await hourly.delete()
      await deleteOrgSchedules(org)
      await nativeConnection.close()
    }
  })
})
