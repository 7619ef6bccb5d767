// The fault run's checker: lost, duplicated, unseen and conflicting events found by comparing the
// ledger of acknowledged events with the event store, and reports compared with their rebuild.
import { describe, expect, it } from 'vitest'
import { bodyHash } from '../../services/ingest/event-rows.ts'
import { checkStore, compareReports, createLedger, ledgerProducer, record, type StoredEvent } from '../faults/ledger.ts'
import { activityEvent, prng } from '../support/synthetic-events.ts'

const random = prng(7)
const events = Array.from({ length: 6 }, (_, i) => activityEvent('acme', i, random))
const stored = (i: number, rows = 1, hash = bodyHash(events[i]!)): StoredEvent => ({
  org: 'acme',
  id: events[i]!.event_id,
  rows,
  hashes: Array.from({ length: rows }, () => hash),
})

describe('checkStore', () => {
  it('finds nothing wrong when the store holds each acknowledged event once', () => {
    const ledger = createLedger()
    record(ledger, events, true)
    record(ledger, events.slice(0, 2), true)
    const check = checkStore(
      ledger,
      events.map((_, i) => stored(i)),
    )
    expect(check).toMatchObject({
      acknowledged: 6,
      stored: 6,
      counts: { lost: 0, duplicated: 0, unseen: 0, conflicting: 0 },
    })
    expect(ledger.sends).toBe(8)
  })

  it('names the lost, duplicated, unseen and conflicting events', () => {
    const ledger = createLedger()
    record(ledger, events.slice(0, 4), true)
    // Attempted only: may be stored or not, both are fine.
    record(ledger, [events[4]!], false)
    const check = checkStore(ledger, [stored(0, 2), stored(1, 1, '42'), stored(2), stored(4), stored(5)])
    expect(check.counts).toEqual({ lost: 1, duplicated: 1, unseen: 1, conflicting: 1 })
    expect(check.examples.lost).toEqual([`acme/${events[3]!.event_id}`])
    expect(check.examples.duplicated).toEqual([`acme/${events[0]!.event_id} (2 rows)`])
    expect(check.examples.unseen).toEqual([`acme/${events[5]!.event_id}`])
    expect(check.examples.conflicting[0]).toContain(`acme/${events[1]!.event_id} (stored 42`)
  })
})

describe('ledgerProducer', () => {
  it('records only what Kafka acknowledged, and sends again until it does', async () => {
    const ledger = createLedger()
    let calls = 0
    const producer = ledgerProducer(
      {
        async send() {
          if (++calls === 1) throw new Error('broker down')
        },
        async sendDeadLetters() {},
        async disconnect() {},
      },
      ledger,
      { retryMs: 1 },
    )
    await producer.send(events.slice(0, 3))
    expect(calls).toBe(2)
    expect(ledger.acknowledged.size).toBe(3)
    expect(ledger.attempted.size).toBe(3)
  })
})

describe('compareReports', () => {
  it('matches rows whatever their order, and names each row that differs', () => {
    const a = new Map([
      [
        'acme/rep-volume',
        [
          { rep: 'r1', calls: 2 },
          { rep: 'r2', calls: 1 },
        ],
      ],
    ])
    const same = new Map([
      [
        'acme/rep-volume',
        [
          { rep: 'r2', calls: 1 },
          { rep: 'r1', calls: 2 },
        ],
      ],
    ])
    expect(compareReports(a, same)).toEqual([])
    const other = new Map([
      [
        'acme/rep-volume',
        [
          { rep: 'r2', calls: 1 },
          { rep: 'r1', calls: 3 },
        ],
      ],
    ])
    expect(compareReports(a, other)).toEqual([
      'acme/rep-volume: before the rebuild {"rep":"r1","calls":2}',
      'acme/rep-volume: after the rebuild {"rep":"r1","calls":3}',
    ])
  })
})
