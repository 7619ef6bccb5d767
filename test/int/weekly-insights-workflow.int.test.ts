// The weekly insight workflows on Temporal's time-skipping test server, over the real insight
// activities (a generated org in chDB) and a counting Mailer at the transport boundary (the SMTP
// path itself: insight-send.int.test.ts): a fan-out started twice for the same week sends each
// manager once, a manager without an email is skipped, and each child's id names its week.
import type { TestWorkflowEnvironment } from '@temporalio/testing'
import { Worker } from '@temporalio/worker'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InsightThresholds } from '../../schemas/insights.schema.ts'
import { migrate } from '../../services/clickhouse/migrations.ts'
import { generateOrg } from '../../services/demo/org-generator.ts'
import { createInsightActivities, type InsightActivityDeps } from '../../services/insights/insight-activities.ts'
import type { MailMessage, Mailer } from '../../services/insights/insight-sender.ts'
import { createProjectionActivities } from '../../services/projections/projection-activities.ts'
import { WORKFLOWS_PATH } from '../../services/worker/worker-service.ts'
import {
  weeklyInsightsFanOutWorkflow,
  weeklyInsightWorkflowId,
  type WeeklyInsightResult,
} from '../../workflows/weekly-insights-workflow.ts'
import { testClickHouse, uniqueName } from '../support/env.ts'
import { insertRawEvents, type RawEvent } from '../support/event-store-fixtures.ts'
import { timeSkippingEnvironment } from '../support/workflow-env.ts'

const ch = testClickHouse('weekly_insights')
const org = 'weeklyorg'
const week = '2026-02-16'

/** Every message handed to the transport, accepted at once. */
const sent: MailMessage[] = []
const mailer: Mailer = {
  async send(message) {
    sent.push(message)
    return { accepted: [message.to.address] }
  },
}

let env: TestWorkflowEnvironment
beforeAll(async () => {
  env = await timeSkippingEnvironment()
  await migrate(ch)
  const seen = new Set<string>()
  const events: RawEvent[] = []
  let mgr3: Record<string, unknown> | undefined
  for (const event of generateOrg({ org, managers: 3, repsPerManager: 3, weeks: 6, seed: 5, start: '2026-01-19' })) {
    if (seen.has(event.event_id)) continue
    seen.add(event.event_id)
    const raw = event as unknown as RawEvent
    events.push(raw)
    if (raw.type === 'user.upserted' && raw.payload.user_id === 'mgr-3' && raw.occurred_at <= '2026-02-22T23:59:59Z')
      mgr3 = raw.payload
  }
  // mgr-3's latest upsert of the week has no email: nobody to send their week to.
  const { email: _email, ...noEmail } = mgr3!
  events.push({
    event_id: 'mgr-3-no-email',
    org_id: org,
    type: 'user.upserted',
    payload: noEmail,
    occurred_at: '2026-02-22T12:00:00Z',
  })
  for (let i = 0; i < events.length; i += 20_000) await insertRawEvents(ch, events.slice(i, i + 20_000))
  const projections = createProjectionActivities({ ch })
  const days = await projections.listEventDays({ org })
  for (let i = 0; i < days.length; i += 31) await projections.recomputeDays({ org, days: days.slice(i, i + 31) })
}, 600_000)
afterAll(async () => {
  await env?.teardown()
  await ch.close()
})

/** The real insight activities over this file's org and the counting Mailer. */
const fanOutActivities = (extra: Partial<InsightActivityDeps> = {}) =>
  createInsightActivities({
    ch,
    mailer,
    clock: () => new Date('2026-02-23T07:00:00Z'),
    publicUrl: 'http://dugout.test',
    thresholds: InsightThresholds.parse({}),
    optOutSecret: 'fan-out-test-secret-of-32-characters',
    ...extra,
  })

describe('weeklyInsightsFanOutWorkflow', () => {
  it('sends each manager with an email once, however often the week is fanned out', async () => {
    const taskQueue = uniqueName('insights')
    const activities = fanOutActivities()
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: WORKFLOWS_PATH,
      activities,
    })
    await worker.runUntil(async () => {
      // Two runs of the fan-out, as a Schedule's catch-up and a start by hand would be: two ids.
      const run = () =>
        env.client.workflow.execute(weeklyInsightsFanOutWorkflow, {
          taskQueue,
          workflowId: uniqueName('insights-fan-out'),
          args: [{ org, week }],
        })
      const first = await run()
      expect(first).toEqual({
        week,
        started: ['mgr-1', 'mgr-2'],
        alreadyStarted: [],
        withoutEmail: ['mgr-3'],
        optedOut: [],
      })
      const second = await run()
      expect(second).toEqual({
        week,
        started: [],
        alreadyStarted: ['mgr-1', 'mgr-2'],
        withoutEmail: ['mgr-3'],
        optedOut: [],
      })

      expect(sent.map((m) => m.messageId).sort()).toEqual([
        `<insights.${org}.mgr-1.${week}@dugout>`,
        `<insights.${org}.mgr-2.${week}@dugout>`,
      ])
      for (const manager of ['mgr-1', 'mgr-2']) {
        const id = weeklyInsightWorkflowId({ org, manager, week })
        expect(id).toBe(`insights:${org}:${manager}:${week}`)
        const child = env.client.workflow.getHandle(id)
        expect((await child.describe()).status.name).toBe('COMPLETED')
        expect(await child.result()).toMatchObject({ status: 'sent' } satisfies Partial<WeeklyInsightResult>)
      }
      await expect(
        env.client.workflow.getHandle(weeklyInsightWorkflowId({ org, manager: 'mgr-3', week })).describe(),
      ).rejects.toThrow()
    })
  }, 120_000)

  it('waits for the metrics to catch up before it starts a manager, checking every minute', async () => {
    const taskQueue = uniqueName('insights')
    const checks: string[] = []
    const activities = fanOutActivities({
      async metricsSettled(o) {
        checks.push(o)
        // Sent mail before the metrics settle would be a send that skipped the wait.
        expect(sent.filter((m) => m.messageId.includes('.2026-02-09@'))).toEqual([])
        return checks.length < 3 ? { settled: false, waitingFor: 'ingest: 1 partition behind' } : { settled: true }
      },
    })
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: WORKFLOWS_PATH,
      activities,
    })
    const workflowId = uniqueName('insights-fan-out')
    const result = await worker.runUntil(
      env.client.workflow.execute(weeklyInsightsFanOutWorkflow, {
        taskQueue,
        workflowId,
        args: [{ org, week: '2026-02-09' }],
      }),
    )
    expect(checks).toEqual([org, org, org])
    expect(result.started).toEqual(['mgr-1', 'mgr-2', 'mgr-3'])
    expect(sent.filter((m) => m.messageId.includes('.2026-02-09@'))).toHaveLength(3)
    // A durable timer of a minute between the checks: two of them, both before the first child.
    const events = (await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? []
    const timers = events.filter((e) => e.timerStartedEventAttributes)
    expect(timers.map((e) => Number(e.timerStartedEventAttributes!.startToFireTimeout!.seconds))).toEqual([60, 60])
    const firstChild = events.findIndex((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)
    expect(events.indexOf(timers[1]!)).toBeLessThan(firstChild)
  }, 120_000)
})
