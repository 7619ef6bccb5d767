/**
 * Ingest's hand-off to Temporal: once per batch per org, signal (starting it if needed) the
 * org's metrics workflow with the days the batch touched.
 */
import type { Client } from '@temporalio/client'
import { eventsIngestedSignal, orgMetricsWorkflow, orgMetricsWorkflowId } from '../../workflows/org-metrics-workflow.ts'

export interface MetricsNotifier {
  daysTouched(org: string, days: string[]): Promise<void>
}

export function createTemporalNotifier(client: Client, taskQueue: string): MetricsNotifier {
  return {
    async daysTouched(org, days) {
      await client.workflow.signalWithStart(orgMetricsWorkflow, {
        workflowId: orgMetricsWorkflowId(org),
        taskQueue,
        args: [{ org }],
        signal: eventsIngestedSignal,
        signalArgs: [{ days }],
      })
    },
  }
}
