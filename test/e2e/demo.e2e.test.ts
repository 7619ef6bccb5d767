// The README's main job, on a small org: `dugout demo` runs the whole pipeline and prints the
// story and the four reports. Names isolate it from a developer's own stack.
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { uniqueName } from '../support/env.ts'
import { freePort, spawnDugout } from '../support/processes.ts'

describe('dugout demo', () => {
  it('streams a generated org through the pipeline and prints the story and the reports', async () => {
    const org = uniqueName('demo').toLowerCase().replaceAll('_', '-')
    const demo = spawnDugout(['demo', '--org', org, '--weeks', '2', '--reps-per-manager', '3'], {
      KAFKA_EVENTS_TOPIC: uniqueName('demo.events'),
      KAFKA_DLQ_TOPIC: uniqueName('demo.dlq'),
      KAFKA_CONSUMER_GROUP: uniqueName('demo-group'),
      TEMPORAL_TASK_QUEUE: uniqueName('demo-queue'),
      CHDB_PATH: path.join(os.tmpdir(), uniqueName('demo-chdb')),
      DUGOUT_HTTP_PORT: String(await freePort()),
    })
    expect(await demo.exited).toBe(0)
    const output = demo.output()
    for (const expected of [
      '5/5 the reports for the last full week, 2026-08-10 to 2026-08-16',
      // Names, with the style each manager was generated with.
      ' (mgr-1, micromanager) stepped into',
      'Empower me — ',
      'Care about me',
      'Direct me',
      'Volume — most activities',
      'Team summary',
      'Empower me (manager autonomy)',
      'Direct me (manager direction)',
      'Care about me (manager care)',
      'Rep volume',
      'Where to look next:',
      'running it again is safe',
    ]) {
      expect(output).toContain(expected)
    }
    // No raw log lines (JSON) among what a person reads, and no hint that the demo's own services are down.
    expect(output).not.toMatch(/^\{"level"/m)
    expect(output).not.toContain('is `dugout up` running?')
  })
})
