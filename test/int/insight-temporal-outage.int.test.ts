// Temporal down over the Monday: a test's own Temporal dev server is SIGKILLed just before an
// insight Schedule's time and started again after it, on the same database. The Schedule's policies
// (docs/insights.md, "Schedule": catch-up window 7 days) make it run the missed action once when
// the server is back: the fan-out covers the week before the action's scheduled time, not the week
// of its late start, and each manager of the zone receives exactly one email.
import { Client, Connection } from '@temporalio/client'
import { NativeConnection, Worker } from '@temporalio/worker'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTemporal, waitForTemporal } from '../../infra/stack/temporal-server.ts'
import { runningProcess, stopProcess, type ProcessPaths } from '../../infra/stack/processes.ts'
import { InsightThresholds } from '../../schemas/insights.schema.ts'
import { migrate } from '../../services/clickhouse/migrations.ts'
import { generateOrg } from '../../services/demo/org-generator.ts'
import { createInsightActivities, previousWeek } from '../../services/insights/insight-activities.ts'
import { insightScheduleOptions } from '../../services/insights/insight-schedule.ts'
import { createSmtpMailer } from '../../services/insights/insight-sender.ts'
import { createProjectionActivities } from '../../services/projections/projection-activities.ts'
import { addDays, dayIn, weekOf } from '../../services/projections/days.ts'
import { WORKFLOWS_PATH } from '../../services/worker/worker-service.ts'
import { config, testClickHouse, uniqueName } from '../support/env.ts'
import { insertRawEvents, type RawEvent } from '../support/event-store-fixtures.ts'
import { freePort } from '../support/processes.ts'
import { startSmtpInbox, type SmtpInbox } from '../support/smtp-inbox.ts'

const ch = testClickHouse('insight_outage')
const org = uniqueName('outage').toLowerCase().replaceAll('_', '-')
const instance = fs.mkdtempSync(path.join(os.tmpdir(), 'dugout-temporal-'))
const paths: ProcessPaths = { runDir: path.join(instance, 'run'), logDir: path.join(instance, 'logs') }
const db = path.join(instance, 'temporal.db')
let temporal: typeof config
// mgr-1 of a generated org lives in New York (services/demo/org-generator.ts).
const ZONE = 'America/New_York'
let smtp: SmtpInbox

const startServer = async () => {
  await startTemporal(temporal, paths, () => undefined, db)
  await waitForTemporal(temporal.TEMPORAL_ADDRESS, 60_000, paths)
}

beforeAll(async () => {
  const port = await freePort()
  temporal = {
    ...config,
    DUGOUT_TEMPORAL_PORT: port,
    DUGOUT_TEMPORAL_UI_PORT: await freePort(),
    TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
  }
  ;[smtp] = await Promise.all([startSmtpInbox(), startServer()])
  await migrate(ch)
  const lastWeek = addDays(weekOf(dayIn(new Date(), ZONE)), -7)
  const events = generateOrg({ org, managers: 2, repsPerManager: 2, weeks: 3, seed: 9, start: addDays(lastWeek, -14) })
  await insertRawEvents(ch, [...events] as unknown as RawEvent[])
  const projections = createProjectionActivities({ ch })
  await projections.recomputeDays({ org, days: await projections.listEventDays({ org }) })
}, 300_000)

afterAll(async () => {
  await stopProcess(paths, 'temporal', 5000)
  await smtp?.close()
  await ch.close()
  fs.rmSync(instance, { recursive: true, force: true })
})

describe('Temporal down over the Monday', () => {
  it('catches the missed run up once when the server is back: one email per manager of the zone', async () => {
    const queue = { TEMPORAL_TASK_QUEUE: uniqueName('insights') }
    // The Schedule of the zone as made for every org, but due a few seconds from now.
    const due = new Date(Math.ceil((Date.now() + 6000) / 1000) * 1000)
    const options = insightScheduleOptions(queue, org, ZONE)
    options.spec = {
      calendars: [
        {
          year: due.getUTCFullYear(),
          month: (
            [
              'JANUARY',
              'FEBRUARY',
              'MARCH',
              'APRIL',
              'MAY',
              'JUNE',
              'JULY',
              'AUGUST',
              'SEPTEMBER',
              'OCTOBER',
              'NOVEMBER',
              'DECEMBER',
            ] as const
          )[due.getUTCMonth()]!,
          dayOfMonth: due.getUTCDate(),
          hour: due.getUTCHours(),
          minute: due.getUTCMinutes(),
          second: due.getUTCSeconds(),
        },
      ],
      timezone: 'UTC',
    }
    let connection = await Connection.connect({ address: temporal.TEMPORAL_ADDRESS })
    const created = await new Client({ connection, namespace: temporal.TEMPORAL_NAMESPACE }).schedule.create(options)
    // As on any Monday, the Schedule has been running (it knows its next time) when the server dies.
    while ((await created.describe()).info.nextActionTimes[0]?.getTime() !== due.getTime())
      await new Promise((resolve) => setTimeout(resolve, 100))
    await new Promise((resolve) => setTimeout(resolve, 1000))
    await connection.close()

    // Down before the Schedule's time, up again after it.
    process.kill(runningProcess(paths, 'temporal')!.pid, 'SIGKILL')
    await stopProcess(paths, 'temporal', 0)
    while (Date.now() < due.getTime() + 3000) await new Promise((resolve) => setTimeout(resolve, 200))
    await startServer()

    connection = await Connection.connect({ address: temporal.TEMPORAL_ADDRESS })
    const client = new Client({ connection, namespace: temporal.TEMPORAL_NAMESPACE })
    const nativeConnection = await NativeConnection.connect({ address: temporal.TEMPORAL_ADDRESS })
    const mailer = createSmtpMailer(smtp.url, 'Dugout <dugout@localhost>')
    const worker = await Worker.create({
      connection: nativeConnection,
      namespace: temporal.TEMPORAL_NAMESPACE,
      taskQueue: queue.TEMPORAL_TASK_QUEUE,
      workflowsPath: WORKFLOWS_PATH,
      activities: createInsightActivities({
        ch,
        mailer,
        clock: () => new Date(),
        thresholds: InsightThresholds.parse({}),
        optOutSecret: 'outage-test-secret-of-32-characters!',
      }),
    })
    const handle = client.schedule.getHandle(options.scheduleId)
    try {
      const result = await worker.runUntil(async () => {
        for (;;) {
          const [recent] = (await handle.describe()).info.recentActions
          if (recent) {
            expect(recent.scheduledAt).toEqual(due)
            return client.workflow.getHandle(recent.action.workflow.workflowId).result()
          }
          await new Promise((resolve) => setTimeout(resolve, 200))
        }
      })
      const week = previousWeek(due, ZONE)
      expect(result).toMatchObject({ week, started: ['mgr-1'], alreadyStarted: [] })
      expect(smtp.accepted).toEqual([`<insights.${org}.mgr-1.${week}@dugout>`])
      // Once: no second catch-up action, and nothing more sent.
      await new Promise((resolve) => setTimeout(resolve, 3000))
      const after = await handle.describe()
      expect(after.info.recentActions).toHaveLength(1)
      expect(smtp.accepted).toHaveLength(1)
    } finally {
      mailer.close()
      await handle.delete()
      await nativeConnection.close()
      await connection.close()
    }
  })
})
