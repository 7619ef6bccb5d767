// Proves the local Temporal server is real: a workflow started through the client runs its
// activity on a @temporalio/worker polling a task queue of its own.
import { Client, Connection } from '@temporalio/client'
import { NativeConnection, Worker } from '@temporalio/worker'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { config, uniqueName } from '../support/env.ts'
import { createGreetingActivities } from '../support/workflows/greeting-activities.ts'

describe('local Temporal server', () => {
  it('runs a workflow with an activity on a real worker', async () => {
    const taskQueue = uniqueName('test-greeting')
    const nativeConnection = await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS })
    const worker = await Worker.create({
      connection: nativeConnection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue,
      workflowsPath: fileURLToPath(new URL('../support/workflows/greeting-workflow.ts', import.meta.url)),
      activities: createGreetingActivities({ prefix: 'Hello' }),
    })
    const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS })
    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE })
    try {
      const result = await worker.runUntil(
        client.workflow.execute('greetingWorkflow', {
          taskQueue,
          workflowId: uniqueName('greeting'),
          args: ['Dugout'],
        }),
      )
      expect(result).toBe('Hello, Dugout')
    } finally {
      await connection.close()
      await nativeConnection.close()
    }
  })
})
