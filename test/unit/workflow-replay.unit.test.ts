// Replays recorded histories against today's workflow code: a change that would break workflows
// already running (non-determinism) fails here. Histories: test/support/record-histories.ts.
import fs from 'node:fs'
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js'
import { Worker } from '@temporalio/worker'
import { describe, expect, it } from 'vitest'
import { WORKFLOWS_PATH } from '../../services/worker/worker-service.ts'

const dir = new URL('../fixtures/histories/', import.meta.url)
const histories = fs.readdirSync(dir).filter((f) => f.endsWith('.json'))

describe('workflow replay', () => {
  it('has recorded histories of every workflow', () => {
    expect(histories.sort()).toEqual([
      'insight-schedules-workflow.json',
      'metrics-shard-workflow.json',
      'org-metrics-workflow.fewer-round-trips.json',
      'org-metrics-workflow.json',
      'org-metrics-workflow.prune-in-background.json',
      'org-metrics-workflow.retire-to-metrics-shards.json',
      'rebuild-workflow.json',
      'rebuild-workflow.set-based-rebuild.json',
      'weekly-insight-workflow.json',
      'weekly-insights-fan-out-workflow.already-started.json',
      'weekly-insights-fan-out-workflow.json',
      'weekly-insights-fan-out-workflow.wait-for-metrics.json',
    ])
  })

  it.each(histories)(
    'replays %s deterministically',
    async (file) => {
      const history = historyFromJSON(JSON.parse(fs.readFileSync(new URL(file, dir), 'utf8')))
      await Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH, replayName: file }, history)
    },
    60_000,
  )
})
