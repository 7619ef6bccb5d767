// The org's weekly insight Schedule on the local Temporal server: created with its calendar, time
// zone and policies, and updated (not doubled) when ensured again with another time zone.
import { Client, Connection, ScheduleOverlapPolicy } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureInsightSchedule, insightScheduleId } from '../../services/insights/insight-schedule.ts'
import { config, uniqueName } from '../support/env.ts'

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
})
