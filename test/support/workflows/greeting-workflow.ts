// A minimal workflow for the stack test: proves the local Temporal server runs workflows whose
// activities execute on a real worker.
import { proxyActivities } from '@temporalio/workflow'
import type { createGreetingActivities } from './greeting-activities.ts'

const { greet } = proxyActivities<ReturnType<typeof createGreetingActivities>>({ startToCloseTimeout: '10 seconds' })

export async function greetingWorkflow(name: string): Promise<string> {
  return await greet(name)
}
