import { createHash } from 'node:crypto'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { beforeAll, describe, expect, it } from 'vitest'
import { CrmEvent, EVENT_TYPES, type EventOf } from '../../schemas/events.schema.ts'
import {
  GenerateOptionsError,
  MANAGER_STYLE_NAMES,
  MANAGER_STYLES,
  estimateEventCount,
  generateOrg,
  habitOfRep,
  styleOfManager,
  type GenerateOptions,
} from '../../services/demo/org-generator.ts'

const DEMO: GenerateOptions = { org: 'acme', managers: 4, repsPerManager: 6, weeks: 12, seed: 42, start: '2026-01-05' }
const SMALL: GenerateOptions = { org: 'tiny', managers: 4, repsPerManager: 2, weeks: 3, seed: 7, start: '2026-03-02' }

function* take<T>(items: Iterable<T>, n: number): Generator<T> {
  if (n <= 0) return
  let i = 0
  for (const item of items) {
    yield item
    if (++i >= n) return
  }
}

function digest(events: Iterable<CrmEvent>): { count: number; sha: string } {
  const hash = createHash('sha256')
  let count = 0
  for (const e of events) {
    hash.update(JSON.stringify(e))
    hash.update('\n')
    count++
  }
  return { count, sha: hash.digest('hex') }
}

/** Everything the tests read from the default demo, gathered in one pass (200k events). */
interface DemoStats {
  total: number
  byType: Map<string, number>
  duplicates: number
  nonIdenticalDuplicates: number
  idsSeenThrice: number
  outOfOrder: number
  maxLatenessHours: number
  weekendEvents: number
  invalid: { event_id: string; error: string }[]
  validated: number
  wrongEnvelope: number
  users: Map<string, EventOf<'user.upserted'>['payload'][]>
  /** manager id → [deals of their initial team, of which the manager stepped into]. */
  interventions: Map<string, { deals: Set<string>; intervened: Set<string> }>
  /** manager id → rep messages to the manager, those answered in-thread within 24 hours, answer delays (≤ 168 h). */
  replies: Map<string, { messages: number; within24h: number; delays: number[] }>
  oneOnOnes: Map<string, Set<string>>
  recognitions: Map<string, number>
  outcomes: { won: number; lost: number }
  currencies: Set<string>
  /** deal → distinct contacts over its activities, and the habit of its creator. */
  dealContacts: Map<string, { habit: string; contacts: Set<string> }>
}

function collect(options: GenerateOptions, validateEvery: number): DemoStats {
  const s: DemoStats = {
    total: 0,
    byType: new Map(),
    duplicates: 0,
    nonIdenticalDuplicates: 0,
    idsSeenThrice: 0,
    outOfOrder: 0,
    maxLatenessHours: 0,
    weekendEvents: 0,
    invalid: [],
    validated: 0,
    wrongEnvelope: 0,
    users: new Map(),
    interventions: new Map(),
    replies: new Map(),
    oneOnOnes: new Map(),
    recognitions: new Map(),
    outcomes: { won: 0, lost: 0 },
    currencies: new Set(),
    dealContacts: new Map(),
  }
  // The duplicate is the same object again: keep the serialised first sighting to prove it.
  const seen = new Map<string, string | number>()
  const initialManager = new Map<string, string>()
  const repPosition = new Map<string, number>()
  const dealManager = new Map<string, string>()
  const pendingReplies = new Map<string, number[]>()
  let latest = Number.NEGATIVE_INFINITY
  let raw = 0
  for (const e of generateOrg(options)) {
    raw++
    const json = JSON.stringify(e)
    const before = seen.get(e.event_id)
    if (before !== undefined) {
      s.duplicates++
      if (before === 1) s.idsSeenThrice++
      else if (before !== json) s.nonIdenticalDuplicates++
      seen.set(e.event_id, 1)
      continue
    }
    seen.set(e.event_id, json)
    s.total++
    s.byType.set(e.type, (s.byType.get(e.type) ?? 0) + 1)
    if (raw % validateEvery === 0 || e.type === 'user.upserted') {
      s.validated++
      const parsed = CrmEvent.safeParse(e)
      if (!parsed.success) s.invalid.push({ event_id: e.event_id, error: parsed.error.message })
    }
    if (
      e.org_id !== options.org ||
      e.schema_version !== 1 ||
      e.source.system !== 'demo' ||
      !e.occurred_at.endsWith('Z')
    ) {
      s.wrongEnvelope++
    }
    const t = Date.parse(e.occurred_at)
    if (t < latest) {
      s.outOfOrder++
      s.maxLatenessHours = Math.max(s.maxLatenessHours, (latest - t) / 3_600_000)
    } else {
      latest = t
    }
    const dow = new Date(t).getUTCDay()
    if (dow === 0 || dow === 6) s.weekendEvents++

    const isManager = (id: string): boolean => s.users.get(id)?.[0]?.role === 'manager'
    switch (e.type) {
      case 'user.upserted': {
        const p = e.payload
        const history = s.users.get(p.user_id) ?? []
        history.push(p)
        s.users.set(p.user_id, history)
        // The initial teams only (dated before the start): the hire is not in the habit table.
        if (history.length === 1 && p.role === 'rep' && p.manager_id !== null && e.occurred_at < options.start) {
          initialManager.set(p.user_id, p.manager_id)
          const position = [...initialManager.values()].filter((m) => m === p.manager_id).length - 1
          repPosition.set(p.user_id, position)
        }
        break
      }
      case 'opportunity.created': {
        const p = e.payload
        const manager = initialManager.get(p.owner_id)
        if (manager !== undefined) {
          dealManager.set(p.opportunity_id, manager)
          const entry = s.interventions.get(manager) ?? { deals: new Set(), intervened: new Set() }
          entry.deals.add(p.opportunity_id)
          s.interventions.set(manager, entry)
          s.dealContacts.set(p.opportunity_id, {
            habit: habitOfRep(repPosition.get(p.owner_id) ?? 0),
            contacts: new Set(),
          })
        }
        if (p.currency !== undefined) s.currencies.add(p.currency)
        break
      }
      case 'opportunity.stage_changed':
      case 'opportunity.updated':
      case 'opportunity.owner_changed':
      case 'opportunity.closed': {
        const p = e.payload
        const by = 'closed_by' in p ? p.closed_by : p.changed_by
        const manager = dealManager.get(p.opportunity_id)
        if (manager !== undefined && by === manager) s.interventions.get(manager)?.intervened.add(p.opportunity_id)
        if (e.type === 'opportunity.closed') s.outcomes[e.payload.outcome]++
        break
      }
      case 'activity.logged': {
        const p = e.payload
        if (p.opportunity_id === undefined) break
        const manager = dealManager.get(p.opportunity_id)
        if (manager !== undefined && (p.owner_id === manager || p.participant_ids.includes(manager))) {
          s.interventions.get(manager)?.intervened.add(p.opportunity_id)
        }
        const deal = s.dealContacts.get(p.opportunity_id)
        for (const c of p.contact_ids) deal?.contacts.add(c)
        break
      }
      case 'message.sent': {
        const p = e.payload
        const sender = s.users.get(p.sender_id)?.at(-1)
        const recipient = p.recipient_ids[0] ?? ''
        if (sender?.role === 'rep' && sender.manager_id === recipient && isManager(recipient)) {
          const key = `${p.thread_id}|${recipient}`
          pendingReplies.set(key, [...(pendingReplies.get(key) ?? []), t])
          const r = s.replies.get(recipient) ?? { messages: 0, within24h: 0, delays: [] }
          r.messages++
          s.replies.set(recipient, r)
        } else if (isManager(p.sender_id)) {
          const key = `${p.thread_id}|${p.sender_id}`
          const waiting = pendingReplies.get(key)
          if (waiting !== undefined) {
            const r = s.replies.get(p.sender_id)
            for (const asked of waiting) {
              if (r === undefined || t <= asked || t - asked > 168 * 3_600_000) continue
              r.delays.push(t - asked)
              if (t - asked <= 24 * 3_600_000) r.within24h++
            }
            pendingReplies.delete(key)
          }
        }
        break
      }
      case 'meeting.held': {
        const p = e.payload
        if (p.kind === 'one_on_one' && isManager(p.organizer_id)) {
          const met = s.oneOnOnes.get(p.organizer_id) ?? new Set()
          for (const a of p.attendee_ids) met.add(a)
          s.oneOnOnes.set(p.organizer_id, met)
        }
        break
      }
      case 'recognition.given': {
        const p = e.payload
        if (isManager(p.from_id)) s.recognitions.set(p.from_id, (s.recognitions.get(p.from_id) ?? 0) + 1)
        break
      }
      default:
        break
    }
  }
  return s
}

/** `mgr-1` is manager index 0, and so on. */
const managerOfStyle = (style: string): string => `mgr-${MANAGER_STYLE_NAMES.indexOf(style as never) + 1}`
const rate = (x: { deals: Set<string>; intervened: Set<string> } | undefined): number =>
  x === undefined ? Number.NaN : x.intervened.size / x.deals.size

describe('generateOrg: the default demo (4 managers × 6 reps × 12 weeks)', () => {
  let s: DemoStats

  beforeAll(() => {
    s = collect(DEMO, 10)
  })

  it('lands near 200,000 events and close to estimateEventCount', () => {
    expect(s.total).toBeGreaterThan(180_000)
    expect(s.total).toBeLessThan(220_000)
    const delivered = s.total + s.duplicates
    expect(Math.abs(estimateEventCount(DEMO) - delivered) / delivered).toBeLessThan(0.05)
  })

  it('emits every event type of docs/events.md', () => {
    expect([...s.byType.keys()].sort()).toEqual([...EVENT_TYPES].sort())
  })

  it('passes CrmEvent.safeParse (every tenth event and every user.upserted)', () => {
    expect(s.validated).toBeGreaterThan(s.total / 11)
    expect(s.invalid.slice(0, 3)).toEqual([])
    expect(s.wrongEnvelope).toBe(0)
  })

  it('delivers about 1% of the events twice, identical, with no id reused by another event', () => {
    expect(s.duplicates / s.total).toBeGreaterThan(0.005)
    expect(s.duplicates / s.total).toBeLessThan(0.015)
    expect(s.nonIdenticalDuplicates).toBe(0)
    expect(s.idsSeenThrice).toBe(0)
  })

  it('delivers about 2% of the events late, at most three days, and keeps weekends quiet', () => {
    // Each late event puts itself (and nothing else) behind the stream.
    expect(s.outOfOrder / s.total).toBeGreaterThan(0.01)
    expect(s.outOfOrder / s.total).toBeLessThan(0.03)
    expect(s.maxLatenessHours).toBeLessThanOrEqual(72)
    expect(s.weekendEvents / s.total).toBeLessThan(0.01)
  })

  it('has one executive, the managers with e-mail and timezone, and the org-chart moves of the README', () => {
    const latest = [...s.users.values()].map((h) => h.at(-1) as EventOf<'user.upserted'>['payload'])
    expect(latest.filter((u) => u.role === 'executive')).toHaveLength(1)
    const managers = latest.filter((u) => u.role === 'manager')
    expect(managers).toHaveLength(4)
    for (const m of managers) {
      expect(m.email).toMatch(/^[a-z]+\.[a-z]+@acme\.test$/)
      expect(m.timezone).toBeTruthy()
      expect(m.manager_id).toBe('exec-1')
    }
    const histories = [...s.users.values()].filter((h) => h[0]?.role === 'rep')
    expect(histories).toHaveLength(4 * 6 + 1)
    const moved = histories.filter((h) => new Set(h.map((u) => u.manager_id)).size > 1)
    expect(moved.map((h) => [h[0]?.manager_id, h.at(-1)?.manager_id])).toEqual([
      ['mgr-1', 'mgr-2'],
      ['mgr-3', 'mgr-4'],
    ])
    expect(histories.filter((h) => h.at(-1)?.active === false)).toHaveLength(1)
  })

  it('gives all four styles to four managers', () => {
    expect(new Set([0, 1, 2, 3].map(styleOfManager))).toEqual(new Set(MANAGER_STYLE_NAMES))
    expect(styleOfManager(4)).toBe(styleOfManager(0))
    expect(Object.keys(MANAGER_STYLES).sort()).toEqual([...MANAGER_STYLE_NAMES].sort())
  })

  it('makes the micromanager step into far more of his team deals than the coach', () => {
    const micro = rate(s.interventions.get(managerOfStyle('micromanager')))
    const coach = rate(s.interventions.get(managerOfStyle('coach')))
    const absent = rate(s.interventions.get(managerOfStyle('absent')))
    const balanced = rate(s.interventions.get(managerOfStyle('balanced')))
    expect(micro).toBeGreaterThan(0.6)
    expect(coach).toBeLessThan(0.05)
    expect(micro).toBeGreaterThan(10 * coach)
    expect(Math.max(micro, coach, absent, balanced)).toBe(micro)
    expect(Math.min(micro, coach, absent, balanced)).toBe(coach)
  })

  it('makes the absent manager the slowest to answer and the coach the most present', () => {
    const within24h = (style: string): number => {
      const r = s.replies.get(managerOfStyle(style))
      return r === undefined ? Number.NaN : r.within24h / r.messages
    }
    const shares = MANAGER_STYLE_NAMES.map(within24h)
    expect(Math.min(...shares)).toBe(within24h('absent'))
    const median = (style: string): number => {
      const delays = [...(s.replies.get(managerOfStyle(style))?.delays ?? [])].sort((a, b) => a - b)
      return delays[Math.floor(delays.length / 2)] ?? Number.NaN
    }
    expect(Math.max(...MANAGER_STYLE_NAMES.map(median))).toBe(median('absent'))
    expect(median('absent')).toBeGreaterThan(24 * 3_600_000)
    expect(within24h('absent')).toBeLessThan(0.3)
    expect(within24h('coach')).toBeGreaterThan(0.9)
    const met = (style: string): number => s.oneOnOnes.get(managerOfStyle(style))?.size ?? 0
    expect(Math.max(...MANAGER_STYLE_NAMES.map(met))).toBe(met('coach'))
    expect(Math.min(...MANAGER_STYLE_NAMES.map(met))).toBe(met('absent'))
    const praised = (style: string): number => s.recognitions.get(managerOfStyle(style)) ?? 0
    for (const other of MANAGER_STYLE_NAMES.filter((n) => n !== 'coach'))
      expect(praised('coach')).toBeGreaterThan(2 * praised(other))
  })

  it('closes deals with a realistic win rate, in USD and EUR', () => {
    expect(s.outcomes.won / (s.outcomes.won + s.outcomes.lost)).toBeGreaterThan(0.2)
    expect(s.outcomes.won / (s.outcomes.won + s.outcomes.lost)).toBeLessThan(0.32)
    expect(s.currencies).toEqual(new Set(['USD', 'EUR']))
  })

  it('makes farmers multi-thread their deals and hunters not', () => {
    const share = (habit: string): number => {
      const deals = [...s.dealContacts.values()].filter((d) => d.habit === habit && d.contacts.size > 0)
      return deals.filter((d) => d.contacts.size >= 3).length / deals.length
    }
    expect(share('farmer')).toBeGreaterThan(0.8)
    expect(share('hunter')).toBe(0)
    expect(share('average')).toBeGreaterThan(0.1)
    expect(share('average')).toBeLessThan(0.6)
  })
})

describe('generateOrg: determinism and validity', () => {
  it('gives identical output for the same options, and different output for another seed', () => {
    const a = digest(generateOrg(SMALL))
    const b = digest(generateOrg(SMALL))
    expect(b).toEqual(a)
    const first = digest(take(generateOrg(DEMO), 20_000))
    expect(digest(take(generateOrg({ ...DEMO }), 20_000))).toEqual(first)
    expect(digest(take(generateOrg({ ...DEMO, seed: 43 }), 20_000)).sha).not.toBe(first.sha)
  })

  it('changes only the delivery, not the organisation, when lateShare and duplicateShare change', () => {
    const ids = (o: GenerateOptions): string[] => [...new Set([...generateOrg(o)].map((e) => JSON.stringify(e)))].sort()
    expect(ids({ ...SMALL, lateShare: 0, duplicateShare: 0 })).toEqual(ids(SMALL))
  })

  it('validates every event of a small org, with unique event_ids once perfectly delivered', () => {
    const events = [...generateOrg({ ...SMALL, lateShare: 0, duplicateShare: 0 })]
    const failures = events.map((e) => CrmEvent.safeParse(e)).filter((r) => !r.success)
    expect(failures.slice(0, 3).map((f) => f.error?.message)).toEqual([])
    expect(new Set(events.map((e) => e.event_id)).size).toBe(events.length)
    const times = events.map((e) => e.occurred_at)
    expect(times).toEqual([...times].sort())
  })

  it('covers every style from four managers on, even with one rep each', () => {
    const managers = [...generateOrg({ ...SMALL, managers: 5, repsPerManager: 1, weeks: 1 })].filter(
      (e): e is EventOf<'user.upserted'> => e.type === 'user.upserted' && e.payload.role === 'manager',
    )
    expect(managers).toHaveLength(5)
    expect(new Set([0, 1, 2, 3, 4].map(styleOfManager)).size).toBe(4)
  })

  it('refuses options out of bounds, naming the option', () => {
    const bad: [Partial<GenerateOptions>, keyof GenerateOptions][] = [
      [{ start: '2026-01-06' }, 'start'],
      [{ start: '2026-02-30' }, 'start'],
      [{ org: 'Acme Inc' }, 'org'],
      [{ managers: 0 }, 'managers'],
      [{ weeks: 1.5 }, 'weeks'],
      [{ lateShare: 2 }, 'lateShare'],
    ]
    for (const [override, option] of bad) {
      const run = (): unknown => generateOrg({ ...SMALL, ...override }).next()
      expect(run).toThrow(GenerateOptionsError)
      expect(run).toThrow(new RegExp(`option ${option}:`))
    }
  })
})

describe('generateOrg: memory', () => {
  it('streams a million events of a small org over many years with bounded heap growth', () => {
    // A forced collection makes the two measures comparable; without it they include garbage.
    let gc: (() => void) | undefined
    try {
      setFlagsFromString('--expose-gc')
      gc = runInNewContext('gc') as () => void
    } catch {
      gc = undefined
    }
    let n = 0
    let at100k = 0
    let growth = Number.NaN
    for (const _ of generateOrg({
      org: 'mem',
      managers: 1,
      repsPerManager: 3,
      weeks: 2_000,
      seed: 1,
      start: '2026-01-05',
    })) {
      n++
      if (n === 100_000 || n === 1_000_000) {
        gc?.()
        const heap = process.memoryUsage().heapUsed
        if (n === 100_000) at100k = heap
        else growth = heap - at100k
      }
      if (n === 1_000_000) break
    }
    expect(n).toBe(1_000_000)
    expect(growth).toBeLessThan(50 * 1024 * 1024)
  })
})
