/**
 * The ledger of a fault run: an independent record of every event Kafka acknowledged (org, id,
 * hash of the body), kept by the producer of the run, and the checker that compares it with what
 * the pipeline stored and reported. Jepsen's vocabulary: an acknowledged event that is not stored
 * is *lost*; one stored twice (physical rows) is *duplicated*; one stored that nobody sent is
 * *unseen* (an event attempted but never acknowledged may be stored: that is allowed); one stored
 * with another body than the first acknowledged is *conflicting*. Pure, unit-tested functions; the
 * run (fault-run.ts) feeds them.
 */
import { CrmEvent } from '../../schemas/events.schema.ts'
import type { EventProducer } from '../../services/kafka/event-producer.ts'
import { bodyHash } from '../../services/ingest/event-rows.ts'

const keyOf = (org: string, id: string) => `${org}\u0000${id}`

/** What the producer knows: acknowledged events with their hashes, and ids only attempted. */
export interface Ledger {
  /** key → body hash of the first acknowledged body of the event. */
  readonly acknowledged: Map<string, string>
  /** Keys of events sent whose send failed (Kafka may still have them). */
  readonly attempted: Set<string>
  /** Acknowledged sends (an event sent twice counts twice). */
  sends: number
}

export function createLedger(): Ledger {
  return { acknowledged: new Map(), attempted: new Set(), sends: 0 }
}

/** Records a send of `events`: `acknowledged` when Kafka said so, else only attempted. */
export function record(ledger: Ledger, events: readonly CrmEvent[], acknowledged: boolean): void {
  for (const event of events) {
    const key = keyOf(event.org_id, event.event_id)
    if (!acknowledged) {
      ledger.attempted.add(key)
      continue
    }
    ledger.sends++
    // The hash of the event as ingest stores it: parsed by the contract, whose key order it keeps.
    if (!ledger.acknowledged.has(key)) ledger.acknowledged.set(key, bodyHash(CrmEvent.parse(event)))
  }
}

/**
 * A producer of canonical events that writes each acknowledged event into the ledger, and retries
 * a failed send (broker down) until it is acknowledged: the same events, so the stream holds
 * duplicates, as a client retrying after a 503 would make.
 */
export function ledgerProducer(
  producer: EventProducer,
  ledger: Ledger,
  options: { retryMs?: number; onRetry?: (error: Error) => void } = {},
): { send(events: readonly CrmEvent[]): Promise<void> } {
  return {
    async send(events) {
      const messages = events.map((e) => ({ orgId: e.org_id, value: JSON.stringify(e) }))
      for (;;) {
        try {
          await producer.send(messages)
          record(ledger, events, true)
          return
        } catch (error) {
          record(ledger, events, false)
          options.onRetry?.(error as Error)
          await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 500))
        }
      }
    },
  }
}

/** One (org, event id) of the event store: its physical rows and their body hashes. */
export interface StoredEvent {
  org: string
  id: string
  rows: number
  hashes: string[]
}

export type Anomaly = 'lost' | 'duplicated' | 'unseen' | 'conflicting'
export const ANOMALIES: readonly Anomaly[] = ['lost', 'duplicated', 'unseen', 'conflicting']

export interface StoreCheck {
  /** Distinct events Kafka acknowledged. */
  acknowledged: number
  /** Distinct events in the store. */
  stored: number
  counts: Record<Anomaly, number>
  /** A few of each, as `org/id (…)`. */
  examples: Record<Anomaly, string[]>
}

/** Compares the ledger with the event store's rows (at most `keep` examples of each anomaly). */
export function checkStore(ledger: Ledger, stored: Iterable<StoredEvent>, keep = 20): StoreCheck {
  const check: StoreCheck = {
    acknowledged: ledger.acknowledged.size,
    stored: 0,
    counts: { lost: 0, duplicated: 0, unseen: 0, conflicting: 0 },
    examples: { lost: [], duplicated: [], unseen: [], conflicting: [] },
  }
  const note = (kind: Anomaly, what: string) => {
    check.counts[kind]++
    if (check.examples[kind].length < keep) check.examples[kind].push(what)
  }
  const seen = new Set<string>()
  for (const row of stored) {
    const key = keyOf(row.org, row.id)
    const name = `${row.org}/${row.id}`
    seen.add(key)
    check.stored++
    if (row.rows > 1) note('duplicated', `${name} (${row.rows} rows)`)
    const expected = ledger.acknowledged.get(key)
    if (expected === undefined) {
      if (!ledger.attempted.has(key)) note('unseen', name)
    } else if (row.hashes.some((hash) => hash !== expected)) {
      note('conflicting', `${name} (stored ${row.hashes.join(',')}, acknowledged ${expected})`)
    }
  }
  for (const key of ledger.acknowledged.keys()) {
    if (!seen.has(key)) note('lost', key.replace('\u0000', '/'))
  }
  return check
}

/**
 * Reports compared cell by cell: `before` as the pipeline computed them while faults happened,
 * `after` as a rebuild from the event store recomputed them. Each differing row is a mismatch,
 * named by report and row.
 */
export function compareReports(
  before: ReadonlyMap<string, readonly Record<string, unknown>[]>,
  after: ReadonlyMap<string, readonly Record<string, unknown>[]>,
): string[] {
  const mismatches: string[] = []
  for (const name of new Set([...before.keys(), ...after.keys()])) {
    const a = (before.get(name) ?? []).map((row) => JSON.stringify(row)).sort()
    const b = (after.get(name) ?? []).map((row) => JSON.stringify(row)).sort()
    const inB = new Set(b)
    const inA = new Set(a)
    for (const row of a) if (!inB.has(row)) mismatches.push(`${name}: before the rebuild ${row}`)
    for (const row of b) if (!inA.has(row)) mismatches.push(`${name}: after the rebuild ${row}`)
  }
  return mismatches
}
