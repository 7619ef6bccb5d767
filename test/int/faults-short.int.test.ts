// The short fault-injection run of `npm test` (test/faults/): `dugout run` ingesting two demo orgs
// while it is SIGKILLed (once between insert and offset commit, once at random), its data folder is
// made read-only, and its own Kafka broker and Temporal server are SIGKILLed and restarted. The
// ledger of every event Kafka acknowledged must match the event store (nothing lost, duplicated,
// unseen or conflicting) and every report must equal its rebuild from the events. The full run,
// with more faults and events, is `npm run test:faults`.
import { describe, expect, it } from 'vitest'
import { formatFaultTable, invariantsHeld, runFaults } from '../faults/fault-run.ts'
import { SHORT_RUN } from '../faults/main.ts'

describe('the short fault run', () => {
  it('loses, doubles, invents and changes no event, and every report equals its rebuild', async () => {
    const lines: string[] = []
    const result = await runFaults({ ...SHORT_RUN, say: (line) => lines.push(line) })
    const table = formatFaultTable(result)
    process.stdout.write(`${table}\n`)
    expect(result.faults.length, lines.join('\n')).toBeGreaterThanOrEqual(5)
    expect(result.faults.filter((f) => f.kind.startsWith('dugout-kill')).length).toBeGreaterThanOrEqual(2)
    expect(result.store.counts, table).toEqual({ lost: 0, duplicated: 0, unseen: 0, conflicting: 0 })
    expect(result.store.stored).toBe(result.store.acknowledged)
    expect(result.metricMismatches, table).toEqual([])
    expect(result.reportRows).toBeGreaterThan(0)
    expect(invariantsHeld(result)).toBe(true)
  }, 400_000)
})
