/** Every workflow the Dugout worker runs (the bundle entry point of `workflowsPath`). */
export { metricsShardWorkflow } from './metrics-shard-workflow.ts'
export { orgMetricsWorkflow } from './org-metrics-workflow.ts'
export { rebuildWorkflow } from './rebuild-workflow.ts'
export { insightSchedulesWorkflow, weeklyInsightWorkflow, weeklyInsightsFanOutWorkflow } from './weekly-insights-workflow.ts'
