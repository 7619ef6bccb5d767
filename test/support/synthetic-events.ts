/** Small deterministic event sets for ingest tests (the demo generator makes realistic orgs). */
import type { CrmEvent } from '../../schemas/events.schema.ts'

/** A seeded PRNG (mulberry32): tests are reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function activityEvent(org: string, i: number, random: () => number): CrmEvent {
  const day = 1 + Math.floor(random() * 28)
  return {
    event_id: `${org}-e${i}`,
    org_id: org,
    type: 'activity.logged',
    schema_version: 1,
    occurred_at: `2026-03-${String(day).padStart(2, '0')}T${String(8 + Math.floor(random() * 10)).padStart(2, '0')}:00:00Z`,
    source: { system: 'import', ref: `row-${i}` },
    payload: {
      activity_id: `a${i}`,
      kind: 'call',
      owner_id: `r${i % 17}`,
      participant_ids: [],
      contact_ids: [`c${i % 101}`],
      account_id: `acc${i % 31}`,
      duration_seconds: Math.floor(random() * 600),
    },
  }
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[items[i], items[j]] = [items[j]!, items[i]!]
  }
  return items
}
