// The event store's lookup of stored ids (services/ingest/event-store.ts) on the real engine: the
// ids travel as one JSON string, so an id holding what JSON or SQL escape (quotes, backslashes,
// commas, brackets, control characters, any Unicode) must still find exactly its own row.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defaultLimits, validateEvent } from '../../schemas/event-validation.ts'
import { EVENT_TYPES } from '../../schemas/events.schema.ts'
import type { ClickHouse } from '../../services/clickhouse/clickhouse-client.ts'
import { migrate, MIGRATIONS_DIR } from '../../services/clickhouse/migrations.ts'
import { generateOrg } from '../../services/demo/org-generator.ts'
import { bodyOf, eventKey, judgeMessages, validIndices } from '../../services/ingest/batch-classifier.ts'
import { encodeEvent, encodeEventRows, toEventRow, type EventRow } from '../../services/ingest/event-rows.ts'
import { createClickHouseEventStore, type EventStore } from '../../services/ingest/event-store.ts'
import { testClickHouse, uniqueName } from '../support/env.ts'

let ch: ClickHouse
let store: EventStore

beforeAll(async () => {
  ch = testClickHouse('event_store')
  await migrate(ch)
  store = createClickHouseEventStore(ch)
})

afterAll(async () => {
  await ch?.close()
})

const AWKWARD_IDS = [
  "it's",
  'back\\slash',
  'a "quoted" id',
  'comma,separated',
  '["not", "an array"]',
  "'); DROP TABLE events; --",
  'tab\there',
  'ünïcødé ☃ 😀',
  'x'.repeat(128),
]

function row(org: string, eventId: string, n: number): EventRow {
  return toEventRow(activity(org, eventId, n))
}

function activity(org: string, eventId: string, n: number, ids = ['r1']) {
  const result = validateEvent(
    {
      event_id: eventId,
      org_id: org,
      type: 'activity.logged',
      schema_version: 1,
      occurred_at: '2026-03-02T11:00:00Z',
      source: { system: 'api' },
      payload: { activity_id: `act-${n}`, kind: 'call', owner_id: ids[0], participant_ids: ids, contact_ids: ['c1'] },
    },
    defaultLimits(new Date('2026-03-03T00:00:00Z')),
  )
  if (!result.ok) throw new Error(`test event ${eventId} is invalid: ${JSON.stringify(result.issues)}`)
  return result.event
}

describe('the stored-ids lookup', () => {
  it('finds each stored id, however awkward, with its hash, and nothing else', async () => {
    const org = uniqueName('org')
    const other = uniqueName('org')
    const rows = AWKWARD_IDS.map((id, n) => row(org, id, n))
    await store.insert(encodeEventRows(rows), uniqueName('batch'))
    // The same ids stored under another org must not answer for this one.
    await store.insert(encodeEventRows([row(other, 'only-in-other', 99), row(other, "it's", 98)]), uniqueName('batch'))

    const asked = [...AWKWARD_IDS, 'never-stored', 'only-in-other', "it'", 'comma'].map((eventId) => ({
      orgId: org,
      eventId,
    }))
    const found = await store.storedHashes(asked)

    expect(new Map([...found].sort())).toEqual(
      new Map(rows.map((r) => [eventKey(org, r.event_id), r.body_hash] as const).sort()),
    )
  })

  it('answers for several orgs at once, each id under its own org', async () => {
    const a = uniqueName('org')
    const b = uniqueName('org')
    const stored = [row(a, 'shared-id', 1), row(b, 'shared-id', 2), row(b, 'b-only', 3)]
    await store.insert(encodeEventRows(stored), uniqueName('batch'))

    const found = await store.storedHashes([
      { orgId: a, eventId: 'shared-id' },
      { orgId: b, eventId: 'shared-id' },
      { orgId: b, eventId: 'b-only' },
      { orgId: a, eventId: 'missing' },
    ])

    expect(found.size).toBe(3)
    for (const r of stored) expect(found.get(eventKey(r.org_id, r.event_id))).toBe(r.body_hash)
  })
})

describe('the rows of ingest (encodeEvent)', () => {
  it('store the payload written as its JSON object as the same text as the escaped string, and alike', async () => {
    const org = uniqueName('org')
    const events = AWKWARD_IDS.map((id, n) => activity(org, `ev-${n}`, n, [id, 'r\u2028 2']))
    // As ingest stores them: judged as messages, the chunk's lines one body.
    const verdicts = judgeMessages(
      events.map((e, n) => ({ value: Buffer.from(JSON.stringify(e)), offset: String(n) })),
      defaultLimits(new Date()),
    )
    expect(validIndices(verdicts)).toHaveLength(events.length)
    await store.insert(bodyOf(verdicts, validIndices(verdicts), events.length), uniqueName('batch'))
    // The same events again through encodeEventRows, under other ids: every column must match.
    const again = events.map((e) => ({ ...toEventRow(e), event_id: `${e.event_id}-again` }))
    await store.insert(encodeEventRows(again), uniqueName('batch'))

    const result = await ch.client.query({
      query: `SELECT event_id, type, occurred_at, source_system, source_ref, payload, toString(body_hash) AS body_hash,
                     owner_id, participant_ids
              FROM ${ch.database}.events WHERE org_id = {org:String} ORDER BY event_id`,
      query_params: { org },
      format: 'JSONEachRow',
    })
    const stored = await result.json<Record<string, unknown>>()
    const byId = new Map(stored.map((r) => [r['event_id'], r]))
    expect(stored).toHaveLength(events.length * 2)
    for (const e of events) {
      const row = byId.get(e.event_id)!
      expect(row['payload']).toBe(JSON.stringify(e.payload))
      expect(row['body_hash']).toBe(encodeEvent(e).bodyHash)
      expect(row['participant_ids']).toEqual((e.payload as { participant_ids: string[] }).participant_ids)
      expect({ ...byId.get(`${e.event_id}-again`), event_id: e.event_id }).toEqual(row)
    }
  })
})

describe('the event store merges', () => {
  it('one column at a time at every size (0007), and a merge keeps one row per event, its columns intact', async () => {
    const tables = await ch.client.query({
      query: 'SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = {table:String}',
      query_params: { db: ch.database, table: 'events' },
      format: 'JSONEachRow',
    })
    const [{ engine_full }] = (await tables.json<{ engine_full: string }>()) as [{ engine_full: string }]
    expect(engine_full).toContain('vertical_merge_algorithm_min_rows_to_activate = 1')
    expect(engine_full).toContain('vertical_merge_algorithm_min_columns_to_activate = 1')

    // Three parts, each event in two of them: the merge must leave each event once.
    const org = uniqueName('org')
    const parts = [
      [0, 1, 2, 3],
      [2, 3, 4, 5],
      [4, 5, 0, 1],
    ]
    for (const ids of parts) {
      await store.insert(encodeEventRows(ids.map((n) => row(org, `ev-${n}`, n))), uniqueName('batch'))
    }
    await ch.client.command({ query: `OPTIMIZE TABLE ${ch.database}.events FINAL` })

    const result = await ch.client.query({
      query: `SELECT event_id, JSONExtractString(payload, 'activity_id') AS activity_id, owner_id, participant_ids, _part FROM ${ch.database}.events
              WHERE org_id = {org:String} ORDER BY event_id`,
      query_params: { org },
      format: 'JSONEachRow',
    })
    const stored = await result.json<{
      event_id: string
      activity_id: string
      owner_id: string
      participant_ids: string[]
      _part: string
    }>()
    expect(stored.map((r) => [r.event_id, r.activity_id, r.owner_id, r.participant_ids])).toEqual(
      [0, 1, 2, 3, 4, 5].map((n) => [`ev-${n}`, `act-${n}`, 'r1', ['r1']]),
    )
    expect(new Set(stored.map((r) => r._part)).size).toBe(1)
  })
})

/** The typed columns' expressions of 0001, each reading the payload on its own, as 0008 replaced them. */
function typedColumnsOf0001(): { name: string; expression: string }[] {
  const sql = fs.readFileSync(path.join(MIGRATIONS_DIR, '0001_event_store.sql'), 'utf8')
  return [...sql.matchAll(/^\s+(\w+)\s+\S+ MATERIALIZED (.+?),?$/gm)].map((m) => ({ name: m[1]!, expression: m[2]! }))
}

describe('the typed columns (0008)', () => {
  const columns = typedColumnsOf0001()

  it('read the payload once a row: each is an element of one extraction', async () => {
    const result = await ch.client.query({
      query: `SELECT name, default_kind, default_expression FROM system.columns
              WHERE database = {db:String} AND table = 'events' AND default_kind IN ('MATERIALIZED', 'EPHEMERAL')`,
      query_params: { db: ch.database },
      format: 'JSONEachRow',
    })
    const rows = await result.json<{ name: string; default_kind: string; default_expression: string }>()
    expect(columns).toHaveLength(31)
    expect(rows.filter((r) => r.default_kind === 'MATERIALIZED').map((r) => r.name)).toEqual(columns.map((c) => c.name))
    const parses = rows.filter((r) => r.default_expression.includes('JSONExtract'))
    expect(parses.map((r) => [r.name, r.default_kind])).toEqual([['payload_fields', 'EPHEMERAL']])
  })

  it('hold what the expressions of 0001 give, on every type of event and on payloads off the contract', async () => {
    const org = uniqueName('org')
    const perType = new Map<string, number>()
    const ids = new Set<string>()
    // Up to 40 of each type; the generator sends some events twice, as a CRM does.
    const events = [
      ...generateOrg({ org, managers: 2, repsPerManager: 3, weeks: 3, seed: 11, start: '2026-01-05' }),
    ].filter((e) => {
      if (ids.has(e.event_id) || (perType.get(e.type) ?? 0) >= 40) return false
      ids.add(e.event_id)
      perType.set(e.type, (perType.get(e.type) ?? 0) + 1)
      return true
    })
    expect([...perType.keys()].sort()).toEqual([...EVENT_TYPES].sort())
    // What no valid event holds, but a payload stored by hand or a later contract could: each
    // field's every other JSON type, nulls, escapes, text where numbers go, and nothing at all.
    const offContract = [
      '{}',
      '{"user_id":null,"manager_id":null,"active":null,"amount":null,"to_ids":null,"period_start":null}',
      '{"user_id":5,"kind":1.5,"role":true,"email":["a"],"timezone":{"tz":"UTC"},"active":"yes"}',
      '{"amount":"12.5","currency":7,"period_start":"2026-13-40","period_end":"not a date"}',
      '{"amount":1e308,"participant_ids":[1,"a",null,{"x":1}],"contact_ids":"c1","recipient_ids":[]}',
      '{"owner_id":"\\u00e9\\"x\\n\\t\\\\","to_ids":["\\ud83d\\ude00","😀"],"sender_id":"ünïcødé ☃"}',
      '{"active":1,"amount":-0,"stage_category":"","outcome":"won","outcome":"lost"}',
      '{"from_id":{"nested":{"deep":[1,2,3]}},"attendee_ids":[["a"]],"thread_id":""}',
    ]
    const rows: EventRow[] = [
      ...events.map(toEventRow),
      ...offContract.map((payload, n) => ({ ...toEventRow(activity(org, `off-${n}`, n)), payload })),
    ]
    await store.insert(encodeEventRows(rows), uniqueName('batch'))

    const result = await ch.client.query({
      query: `SELECT event_id, ${columns.map((c, i) => `toJSONString(${c.name}) AS s${i}, toJSONString(${c.expression}) AS e${i}`).join(', ')}
              FROM ${ch.database}.events WHERE org_id = {org:String}`,
      query_params: { org },
      format: 'JSONEachRow',
    })
    const stored = await result.json<Record<string, string>>()
    expect(stored).toHaveLength(rows.length)
    const differing = stored.flatMap((r) =>
      columns.flatMap((c, i) =>
        r[`s${i}`] === r[`e${i}`] ? [] : [`${r['event_id']}.${c.name}: ${r[`s${i}`]} ≠ ${r[`e${i}`]}`],
      ),
    )
    expect(differing).toEqual([])
    // There is something to compare: most columns hold a value other than their default somewhere.
    const set = columns.filter((_c, i) => stored.some((r) => !['""', 'null', '[]', '0'].includes(r[`s${i}`]!)))
    expect(set.length).toBeGreaterThan(25)
  })
})
