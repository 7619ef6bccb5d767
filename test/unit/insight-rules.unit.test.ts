// The rules of the weekly insight emails (docs/insights.md): each rule at its threshold's edges,
// the ranking, a quiet week, a new manager, an empty team, a rep who moved team mid-week, names
// and tone; the thresholds' schema and its table in docs/insights.md.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig, type ConfigError } from '../../schemas/config.schema.ts'
import { PROJECT_ROOT } from '../../schemas/config.schema.ts'
import {
  FINDING_KINDS,
  InsightInput as InsightInputSchema,
  InsightThresholds,
  type Finding,
  type InsightInput,
  type ManagerWeek,
  type RepFacts,
  type RepWeek,
} from '../../schemas/insights.schema.ts'
import { findInsights, orgMedians, weekSummary } from '../../services/insights/insight-rules.ts'

const DEFAULTS = InsightThresholds.parse({})
const WEEK = { from: '2026-03-02', to: '2026-03-08' }
const PAST_MONDAYS = ['2026-02-23', '2026-02-16', '2026-02-09', '2026-02-02']

function managerRow(overrides: Partial<ManagerWeek> = {}, id = 'mgr-alex'): ManagerWeek {
  return {
    manager_id: id,
    deals_active: 20,
    deals_intervened: 2,
    intervention_rate: 0.1,
    takeovers: 0,
    team_wins: 3,
    rep_closed_wins: 3,
    rep_led_win_share: 1,
    team_size: 3,
    reps_with_quota: 3,
    quota_coverage: 1,
    goals_set: 1,
    reps_with_goals: 3,
    goal_coverage: 1,
    rep_messages: 10,
    replied_within_24h: 9,
    reply_within_24h_share: 0.9,
    unanswered: 0,
    median_reply_minutes: 30,
    p90_reply_minutes: 300,
    one_on_ones: 3,
    reps_with_one_on_one: 3,
    one_on_one_coverage: 1,
    lunches: 0,
    recognitions: 2,
    ...overrides,
  }
}

const NAMES: Record<string, string> = { 'rep-001': 'Dana Ruiz', 'rep-002': 'Lee Okafor', 'rep-003': 'Sam Berg' }

function repRow(id: string, overrides: Partial<RepWeek> = {}, manager = 'mgr-alex'): RepWeek {
  return {
    rep_id: id,
    rep_name: NAMES[id] ?? `Name of ${id.replace('rep-', 'R')}`,
    manager_id: manager,
    opportunities_created: 5,
    wins: 1,
    losses: 1,
    activities: 20,
    deals_worked: 4,
    multithreaded_deals: 3,
    ...overrides,
  }
}

const calmFacts = (id: string, overrides: Partial<RepFacts> = {}): RepFacts => ({
  rep_id: id,
  days_since_one_on_one: 3,
  unanswered_over_week: 0,
  ...overrides,
})

const REPS = ['rep-001', 'rep-002', 'rep-003']

/** A week where nothing is notable: every number at the team's usual and the org's median. */
function calmInput(): InsightInput {
  return {
    manager: { id: 'mgr-alex', name: 'Alex Kim' },
    week: WEEK,
    current: managerRow(),
    reps: REPS.map((id) => repRow(id)),
    history: PAST_MONDAYS.map((from) => ({
      week: { from, to: addDays(from, 6) },
      manager: managerRow(),
      reps: REPS.map((id) => repRow(id)),
    })),
    medians: {
      intervention_rate: 0.1,
      rep_led_win_share: 1,
      quota_coverage: 1,
      goal_coverage: 1,
      reply_within_24h_share: 0.9,
      unanswered: 0,
      one_on_one_coverage: 1,
      recognitions: 2,
    },
    repFacts: REPS.map((id) => calmFacts(id)),
  }
}

function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10)
}

/** The calm week with rep `id`'s row this week changed. */
function withRep(input: InsightInput, id: string, overrides: Partial<RepWeek>): InsightInput {
  return { ...input, reps: input.reps.map((r) => (r.rep_id === id ? { ...r, ...overrides } : r)) }
}

/** The calm week with rep `id`'s row of every previous week changed (or of the first `weeks`, dropping the rest). */
function withRepHistory(input: InsightInput, id: string, overrides: Partial<RepWeek>, weeks = 4): InsightInput {
  return {
    ...input,
    history: input.history.map((w, i) => ({
      ...w,
      reps: w.reps.flatMap((r) => (r.rep_id !== id ? [r] : i < weeks ? [{ ...r, ...overrides }] : [])),
    })),
  }
}

function withFacts(input: InsightInput, id: string, overrides: Partial<RepFacts>): InsightInput {
  return { ...input, repFacts: input.repFacts.map((f) => (f.rep_id === id ? { ...f, ...overrides } : f)) }
}

const kinds = (findings: readonly Finding[]) => findings.map((f) => f.kind)
const only = (input: InsightInput, kind: Finding['kind'], t = DEFAULTS) =>
  findInsights(input, { ...t, maxFindings: 99 }).filter((f) => f.kind === kind)

describe('the calm week', () => {
  it('is a valid InsightInput and has nothing notable', () => {
    expect(InsightInputSchema.safeParse(calmInput()).success).toBe(true)
    expect(findInsights(calmInput(), DEFAULTS)).toEqual([])
  })

  it('says so in one neutral line', () => {
    expect(weekSummary(calmInput(), [])).toBe(
      "Nothing stood out this week (2026-03-02 to 2026-03-08): your team's numbers are close to their usual and to the org's.",
    )
  })
})

describe('high intervention rate against the org median', () => {
  const at = (active: number, intervened: number, median: number | null = 0.1) => {
    const input = calmInput()
    return {
      ...input,
      current: managerRow({ deals_active: active, deals_intervened: intervened }),
      medians: { ...input.medians, intervention_rate: median },
    }
  }

  it('fires at the margin over the median, not below it', () => {
    expect(only(at(10, 3), 'high_intervention')).toHaveLength(1) // 30% = 10% + 20 points
    expect(only(at(100, 29), 'high_intervention')).toEqual([]) // 29%
  })

  it('needs enough active deals', () => {
    expect(only(at(5, 5), 'high_intervention')).toHaveLength(1)
    expect(only(at(4, 4), 'high_intervention')).toEqual([])
  })

  it('needs an org median', () => {
    expect(only(at(10, 10, null), 'high_intervention')).toEqual([])
  })

  it('gives the numbers: the rate, the median and the own four-week average, and links deals_intervened', () => {
    const [f] = only(at(26, 20, 0.13), 'high_intervention')
    expect(f).toMatchObject({
      severity: 'attention',
      title: "You stepped into 77% of your team's active deals",
      detail: '20 of 26 active deals this week, against an org median of 13% and your own four-week average of 10%.',
      reps: [],
      explain: { metric: 'deals_intervened', manager: 'mgr-alex', from: '2026-03-02', to: '2026-03-08' },
    })
    expect(f!.magnitude).toBeCloseTo((20 / 26 - 0.13) / 0.2)
  })
})

describe('rep messages unanswered for over a week', () => {
  it('fires from one message, naming the rep, linking last week’s unanswered', () => {
    const [f] = only(withFacts(calmInput(), 'rep-002', { unanswered_over_week: 1 }), 'unanswered_messages')
    expect(f).toMatchObject({
      title: 'A message from Lee Okafor has waited over a week for a reply',
      reps: [{ id: 'rep-002', name: 'Lee Okafor' }],
      explain: { metric: 'unanswered', manager: 'mgr-alex', from: '2026-02-23', to: '2026-03-01' },
    })
    expect(f!.detail).toContain('Lee Okafor (1)')
  })

  it('does not fire below its minimum', () => {
    expect(only(calmInput(), 'unanswered_messages')).toEqual([])
    const t = { ...DEFAULTS, unansweredMin: 2 }
    expect(only(withFacts(calmInput(), 'rep-002', { unanswered_over_week: 1 }), 'unanswered_messages', t)).toEqual([])
    expect(only(withFacts(calmInput(), 'rep-002', { unanswered_over_week: 2 }), 'unanswered_messages', t)).toHaveLength(
      1,
    )
  })

  it('names every rep waiting, most messages first', () => {
    let input = withFacts(calmInput(), 'rep-001', { unanswered_over_week: 1 })
    input = withFacts(input, 'rep-003', { unanswered_over_week: 3 })
    const [f] = only(input, 'unanswered_messages')
    expect(f!.title).toBe('4 messages from Sam Berg and Dana Ruiz have waited over a week for a reply')
    expect(f!.reps.map((r) => r.id)).toEqual(['rep-003', 'rep-001'])
  })
})

describe('a rep with no one-on-one in 14 days', () => {
  it('fires at 14 days and for none in the look-back, not at 13', () => {
    expect(only(withFacts(calmInput(), 'rep-001', { days_since_one_on_one: 13 }), 'no_one_on_one')).toEqual([])
    const [f] = only(withFacts(calmInput(), 'rep-001', { days_since_one_on_one: 14 }), 'no_one_on_one')
    expect(f).toMatchObject({
      title: 'No one-on-one with Dana Ruiz in the last 14 days',
      detail: 'Dana Ruiz: last one 14 days ago.',
      reps: [{ id: 'rep-001', name: 'Dana Ruiz' }],
      explain: { metric: 'reps_with_one_on_one', manager: 'mgr-alex', from: '2026-02-23', to: '2026-03-08' },
    })
    const [none] = only(withFacts(calmInput(), 'rep-001', { days_since_one_on_one: null }), 'no_one_on_one')
    expect(none!.detail).toBe('Dana Ruiz: none in the last 28 days.')
    expect(none!.magnitude).toBe(2)
  })

  it('says nothing about a rep whose facts were not given', () => {
    const input = { ...calmInput(), repFacts: [] }
    expect(only(input, 'no_one_on_one')).toEqual([])
  })
})

describe('no recognition this week', () => {
  it('fires at zero, not at one', () => {
    const none = { ...calmInput(), current: managerRow({ recognitions: 0 }) }
    const [f] = only(none, 'no_recognition')
    expect(f).toMatchObject({
      title: 'No recognition for your team this week',
      explain: { metric: 'recognitions', manager: 'mgr-alex', from: '2026-03-02', to: '2026-03-08' },
    })
    expect(f!.detail).toBe(
      "You gave 0 recognitions to your team of 3 this week; 8 recognitions in the previous 4 weeks; the org's median manager gave 2.",
    )
    expect(f!.magnitude).toBe(1)
    expect(only({ ...calmInput(), current: managerRow({ recognitions: 1 }) }, 'no_recognition')).toEqual([])
  })

  it('suggests thanking a rep who won, by name', () => {
    const input = withRep({ ...calmInput(), current: managerRow({ recognitions: 0 }) }, 'rep-003', { wins: 4 })
    const [f] = only(input, 'no_recognition')
    expect(f!.reps).toEqual([{ id: 'rep-003', name: 'Sam Berg' }])
    expect(f!.action).toBe('Sam Berg won 4 deals this week: a word of thanks by name is a good place to start.')
  })

  it('grows with the weeks in a row without one', () => {
    const input = calmInput()
    const quiet = {
      ...input,
      current: managerRow({ recognitions: 0 }),
      history: input.history.map((w, i) => ({ ...w, manager: managerRow({ recognitions: i < 2 ? 0 : 3 }) })),
    }
    expect(only(quiet, 'no_recognition')[0]!.magnitude).toBe(1.5)
  })
})

describe("a rep's new opportunities down sharply against their four-week average", () => {
  const dana = (now: number, before: number, weeks = 4) =>
    withRepHistory(
      withRep(calmInput(), 'rep-001', { opportunities_created: now }),
      'rep-001',
      {
        opportunities_created: before,
      },
      weeks,
    )

  it('fires at half the average, not above it', () => {
    const [f] = only(dana(3, 6), 'opportunities_down')
    expect(f).toMatchObject({
      title: "Dana Ruiz's new opportunities dipped to 3 this week",
      detail:
        'New opportunities this week: Dana Ruiz created 3 against an average of 6 a week over the previous 4 weeks.',
      reps: [{ id: 'rep-001', name: 'Dana Ruiz' }],
      explain: { metric: 'opportunities_created', rep: 'rep-001', from: '2026-03-02', to: '2026-03-08' },
    })
    expect(f!.magnitude).toBe(1)
    expect(only(dana(4, 6), 'opportunities_down')).toEqual([])
  })

  it('needs an average of at least 3 a week, so that 1 → 0 is no sharp drop', () => {
    expect(only(dana(1, 3), 'opportunities_down')).toHaveLength(1)
    expect(only(dana(0, 2), 'opportunities_down')).toEqual([])
    expect(only(dana(0, 1), 'opportunities_down')).toEqual([])
  })

  it('needs two weeks of history', () => {
    expect(only(dana(0, 6, 1), 'opportunities_down')).toEqual([])
    expect(only(dana(0, 6, 2), 'opportunities_down')[0]!.detail).toContain('over the previous 2 weeks')
  })
})

describe('a rep single-threaded on most deals', () => {
  it('fires below half of the deals multithreaded, not at half', () => {
    const [f] = only(withRep(calmInput(), 'rep-002', { deals_worked: 4, multithreaded_deals: 1 }), 'single_threaded')
    expect(f).toMatchObject({
      title: 'Lee Okafor is working most deals through fewer than three contacts',
      detail: 'This week, Lee Okafor: 1 of 4 deals worked reached three or more contacts (25%).',
      explain: { metric: 'deals_worked', rep: 'rep-002' },
    })
    expect(
      only(withRep(calmInput(), 'rep-002', { deals_worked: 4, multithreaded_deals: 2 }), 'single_threaded'),
    ).toEqual([])
  })

  it('needs at least 4 deals worked', () => {
    expect(
      only(withRep(calmInput(), 'rep-002', { deals_worked: 3, multithreaded_deals: 0 }), 'single_threaded'),
    ).toEqual([])
  })
})

describe('praise: win rate or activity up against the four-week average', () => {
  it('fires for a win rate 20 points up, not less', () => {
    // The four weeks: 4 wins of 8 closed, 50%.
    const [f] = only(withRep(calmInput(), 'rep-003', { wins: 7, losses: 3 }), 'win_rate_up')
    expect(f).toMatchObject({
      severity: 'praise',
      title: "Sam Berg's win rate is up to 70%",
      detail: 'This week Sam Berg won 7 of 10 closed deals (70%) against 50% over the previous 4 weeks.',
      explain: { metric: 'wins', rep: 'rep-003' },
    })
    expect(only(withRep(calmInput(), 'rep-003', { wins: 2, losses: 1 }), 'win_rate_up')).toEqual([]) // 67%
  })

  it('needs 3 closed deals this week and in the four weeks', () => {
    expect(only(withRep(calmInput(), 'rep-003', { wins: 2, losses: 0 }), 'win_rate_up')).toEqual([])
    expect(only(withRep(calmInput(), 'rep-003', { wins: 3, losses: 0 }), 'win_rate_up')).toHaveLength(1)
    const fewBefore = withRepHistory(
      withRep(calmInput(), 'rep-003', { wins: 3, losses: 0 }),
      'rep-003',
      {
        wins: 0,
        losses: 1,
      },
      2,
    )
    expect(only(fewBefore, 'win_rate_up')).toEqual([])
  })

  it('fires for activity 30% up, not less, from an average of 10 a week', () => {
    const [f] = only(withRep(calmInput(), 'rep-001', { activities: 26 }), 'activity_up')
    expect(f).toMatchObject({
      severity: 'praise',
      title: "Dana Ruiz's activity is up to 26 this week",
      explain: { metric: 'activities', rep: 'rep-001' },
    })
    expect(only(withRep(calmInput(), 'rep-001', { activities: 25 }), 'activity_up')).toEqual([])
    const small = withRepHistory(withRep(calmInput(), 'rep-001', { activities: 30 }), 'rep-001', { activities: 9 })
    expect(only(small, 'activity_up')).toEqual([])
  })
})

/** A week where every rule fires. */
function busyInput(): InsightInput {
  let input: InsightInput = {
    ...calmInput(),
    current: managerRow({ deals_active: 26, deals_intervened: 20, recognitions: 0 }),
    medians: { ...calmInput().medians, intervention_rate: 0.13 },
  }
  input = withFacts(input, 'rep-001', { unanswered_over_week: 2 })
  input = withFacts(input, 'rep-002', { days_since_one_on_one: 20 })
  input = withRep(input, 'rep-001', { opportunities_created: 0, activities: 40 })
  input = withRep(input, 'rep-002', { deals_worked: 6, multithreaded_deals: 0 })
  input = withRep(input, 'rep-003', { wins: 4, losses: 0 })
  return input
}

describe('ranking', () => {
  it('puts the biggest moves first, praise included, at most maxFindings', () => {
    const all = findInsights(busyInput(), { ...DEFAULTS, maxFindings: 99 })
    expect(new Set(kinds(all))).toEqual(new Set(FINDING_KINDS))
    const magnitudes = all.map((f) => f.magnitude)
    expect(magnitudes).toEqual([...magnitudes].sort((a, b) => b - a))
    expect(all.every((f) => f.magnitude >= 1)).toBe(true)
    // win rate 100% against 50% (2.5), activity +100% (3.3), intervention 64 points over (3.2)…
    expect(kinds(all).slice(0, 3)).toEqual(['activity_up', 'high_intervention', 'win_rate_up'])
    expect(findInsights(busyInput(), DEFAULTS)).toEqual(all.slice(0, 4))
  })

  it('keeps the biggest good news when the cut would leave none', () => {
    let input = withRep(busyInput(), 'rep-001', { activities: 20 })
    input = withRep(input, 'rep-003', { wins: 3, losses: 1 }) // 75% against 50%: 1.25
    const all = findInsights(input, { ...DEFAULTS, maxFindings: 99 })
    const praise = all.filter((f) => f.severity === 'praise')
    expect(kinds(praise)).toEqual(['win_rate_up'])
    expect(all.slice(0, 2).some((f) => f.severity === 'praise')).toBe(false)
    const two = findInsights(input, { ...DEFAULTS, maxFindings: 2 })
    expect(two).toEqual([all[0], praise[0]])
  })

  it('summarises the findings in one line', () => {
    const findings = findInsights(busyInput(), DEFAULTS)
    expect(weekSummary(busyInput(), findings)).toBe(
      '4 things stood out this week (2026-03-02 to 2026-03-08), 2 of them good news.',
    )
  })
})

describe('a new manager with no history', () => {
  it('gets the rules that need no history, not those that do', () => {
    const input = { ...busyInput(), history: [] }
    const all = findInsights(input, { ...DEFAULTS, maxFindings: 99 })
    expect(new Set(kinds(all))).toEqual(
      new Set(['high_intervention', 'unanswered_messages', 'no_one_on_one', 'no_recognition', 'single_threaded']),
    )
    const intervention = all.find((f) => f.kind === 'high_intervention')!
    expect(intervention.detail).toBe('20 of 26 active deals this week, against an org median of 13%.')
    expect(all.find((f) => f.kind === 'no_recognition')!.detail).toBe(
      "You gave 0 recognitions to your team of 3 this week; the org's median manager gave 2.",
    )
  })
})

describe('a manager whose team is empty', () => {
  it('gets no rep findings and no nudge about recognition', () => {
    const input: InsightInput = {
      ...busyInput(),
      current: managerRow({ deals_active: 0, deals_intervened: 0, team_size: 0, recognitions: 0 }),
      reps: [],
      history: [],
      repFacts: [],
    }
    expect(findInsights(input, DEFAULTS)).toEqual([])
    expect(weekSummary(input, [])).toBe(
      'Your team had no reps at the end of the week (2026-03-02 to 2026-03-08), so there is no team news this time.',
    )
  })

  it('still hears about its own deals when facts of former reps are given', () => {
    // Reps who left still count in the manager's metrics by the team at the event.
    const input: InsightInput = {
      ...calmInput(),
      current: managerRow({ deals_active: 10, deals_intervened: 8, recognitions: 0 }),
      reps: [],
      repFacts: REPS.map((id) => calmFacts(id, { unanswered_over_week: 3, days_since_one_on_one: null })),
    }
    expect(kinds(findInsights(input, DEFAULTS))).toEqual(['high_intervention'])
  })
})

describe('a rep who moved team mid-week', () => {
  // rep-009 (Noa Levi) was on Alex's team Monday to Wednesday and on Bea's from Thursday; the
  // reports list them on Bea's team at the end of the week.
  const moved = (manager: string) => repRow('rep-009', { rep_name: 'Noa Levi', opportunities_created: 0 }, manager)
  const movedHistory = (input: InsightInput): InsightInput => ({
    ...input,
    history: input.history.map((w) => ({
      ...w,
      reps: [...w.reps, repRow('rep-009', { rep_name: 'Noa Levi', opportunities_created: 8 }, 'mgr-alex')],
    })),
  })

  it("appears in the new manager's findings, with their own history", () => {
    const base = calmInput()
    const bea: InsightInput = movedHistory({
      ...base,
      manager: { id: 'mgr-bea', name: 'Bea Cho' },
      current: managerRow({ recognitions: 0 }, 'mgr-bea'),
      reps: [moved('mgr-bea')],
      history: base.history.map((w) => ({ ...w, manager: managerRow({}, 'mgr-bea'), reps: [] })),
      repFacts: [calmFacts('rep-009', { unanswered_over_week: 1 })],
    })
    const findings = findInsights(bea, { ...DEFAULTS, maxFindings: 99 })
    expect(kinds(findings)).toContain('opportunities_down')
    expect(findings.find((f) => f.kind === 'opportunities_down')!.reps).toEqual([{ id: 'rep-009', name: 'Noa Levi' }])
  })

  it("is absent from the old manager's, even when a fact or a row of theirs is passed", () => {
    let alex = movedHistory(busyInput())
    alex = {
      ...alex,
      reps: [...alex.reps, moved('mgr-bea')],
      repFacts: [...alex.repFacts, calmFacts('rep-009', { unanswered_over_week: 5, days_since_one_on_one: null })],
    }
    const findings = findInsights(alex, { ...DEFAULTS, maxFindings: 99 })
    expect(findings.length).toBeGreaterThan(0)
    for (const f of findings) {
      expect(f.reps.map((r) => r.id)).not.toContain('rep-009')
      expect(`${f.title} ${f.detail} ${f.action}`).not.toContain('Noa Levi')
      if (f.explain.rep !== undefined) expect(REPS).toContain(f.explain.rep)
    }
  })
})

describe('names and tone', () => {
  const all = findInsights(busyInput(), { ...DEFAULTS, maxFindings: 99 })
  const texts = all.flatMap((f) => [f.title, f.detail, f.action])

  it('names reps by name, never by id, and only reps of the team', () => {
    expect(all.length).toBe(FINDING_KINDS.length)
    for (const text of texts) expect(text).not.toMatch(/rep-\d+|mgr-\w+/)
    for (const f of all) {
      for (const rep of f.reps) {
        expect(REPS).toContain(rep.id)
        expect(`${f.title} ${f.detail} ${f.action}`).toContain(rep.name)
      }
    }
  })

  it('sounds like a helpful colleague, never a scold', () => {
    const scolding = /\b(fail\w*|poor\w*|bad|worst|lazy|neglect\w*|must|should have|shame\w*|blame\w*|unacceptable)\b/i
    for (const text of texts) expect(text).not.toMatch(scolding)
    for (const f of all) expect(f.action.length).toBeGreaterThan(20)
  })
})

describe('orgMedians', () => {
  it('is the value at index floor(0.5·n) of the sorted non-null values', () => {
    const rows = [0.3, 0.1, null, 0.2].map((rate, i) => managerRow({ intervention_rate: rate, recognitions: i }))
    const m = orgMedians(rows)
    expect(m.intervention_rate).toBe(0.2) // [0.1, 0.2, 0.3][1]
    expect(m.recognitions).toBe(2) // [0, 1, 2, 3][2]
  })

  it('is null where no manager has a value, and for no managers', () => {
    expect(
      orgMedians([managerRow({ median_reply_minutes: null, reply_within_24h_share: null })]).reply_within_24h_share,
    ).toBe(null)
    expect(Object.values(orgMedians([])).every((v) => v === null)).toBe(true)
  })
})

describe('DUGOUT_INSIGHT_THRESHOLDS', () => {
  it('sets thresholds over the defaults', () => {
    const env = { DUGOUT_INSIGHT_THRESHOLDS: ' oneOnOneMaxDays=21, maxFindings = 3 ' }
    expect(loadConfig(env).DUGOUT_INSIGHT_THRESHOLDS).toEqual({ ...DEFAULTS, oneOnOneMaxDays: 21, maxFindings: 3 })
    expect(loadConfig({}).DUGOUT_INSIGHT_THRESHOLDS).toEqual(DEFAULTS)
  })

  it('names an unknown threshold, a pair without =, and a value outside its rule', () => {
    const issues = (text: string) => {
      try {
        loadConfig({ DUGOUT_INSIGHT_THRESHOLDS: text })
      } catch (error) {
        return (error as ConfigError).issues
      }
      return []
    }
    expect(issues('oneOnOneMaxDay=21')[0]).toMatch(
      /^DUGOUT_INSIGHT_THRESHOLDS: oneOnOneMaxDay is not a threshold \(one of maxFindings, /,
    )
    expect(issues('maxFindings')[0]).toMatch(/"maxFindings" must be name=value/)
    expect(issues('oneOnOneLookbackDays=7')[0]).toMatch(/oneOnOneLookbackDays: must be at least oneOnOneMaxDays/)
  })
})

describe('InsightThresholds', () => {
  it('has a default for every threshold, and coerces text from settings', () => {
    expect(DEFAULTS.maxFindings).toBe(4)
    expect(DEFAULTS.oneOnOneMaxDays).toBe(14)
    expect(InsightThresholds.parse({ oneOnOneMaxDays: '21' }).oneOnOneMaxDays).toBe(21)
  })

  it('refuses a bad value, naming the threshold', () => {
    const zero = InsightThresholds.safeParse({ maxFindings: 0 })
    expect(zero.success).toBe(false)
    expect(zero.error?.issues[0]?.path).toEqual(['maxFindings'])
    const shortLookback = InsightThresholds.safeParse({ oneOnOneLookbackDays: 7 })
    expect(shortLookback.error?.issues[0]?.path).toEqual(['oneOnOneLookbackDays'])
    expect(InsightThresholds.safeParse({ opportunitiesDropShare: 1.5 }).success).toBe(false)
  })

  it('is documented in docs/insights.md, each with its default', () => {
    const doc = fs.readFileSync(path.join(PROJECT_ROOT, 'docs/insights.md'), 'utf8')
    const rows = new Map([...doc.matchAll(/^\| `(\w+)` \| ([^|]+) \|/gm)].map((m) => [m[1], m[2]!.trim()] as const))
    for (const [key, value] of Object.entries(DEFAULTS)) expect(rows.get(key), key).toBe(String(value))
    expect(fs.readFileSync(path.join(PROJECT_ROOT, 'docs/metrics.md'), 'utf8')).toContain('(insights.md)')
  })
})
