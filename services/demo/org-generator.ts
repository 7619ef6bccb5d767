/**
 * A deterministic, streaming generator of a realistic synthetic sales organisation: the org chart,
 * quotas and goals, deals, customer activities and team communication of `docs/events.md`, with
 * managers of four documented styles and reps of three habits (`manager-styles.ts`, README).
 *
 * How it works: a discrete-event simulation. Every recurring behaviour (a rep's calls and emails,
 * new deals, a deal's next step, a pending reply, a planned one-on-one) is one task in a priority
 * queue ordered by time. Popping a task emits its events at that time and schedules what follows,
 * so the simulated stream is in time order and the state an event reads (a deal's stage, who
 * manages whom) is always the state at that instant. The queue holds a bounded number of tasks
 * per person and per open deal, so memory depends on the size of the org, never on the number of
 * weeks or events. A delivery stage then re-emits a few events late or twice, as real CRMs do.
 */
import type { CrmEvent, EventType, PayloadOf } from '../../schemas/events.schema.ts'
import {
  ACTIVITY_KINDS,
  MANAGER_STYLES,
  REP_HABITS,
  habitOfRep,
  styleOfManager,
  type ManagerStyle,
  type RepHabit,
  type RepHabitName,
} from './manager-styles.ts'
import { Prng } from './prng.ts'

export {
  MANAGER_STYLES,
  MANAGER_STYLE_NAMES,
  REP_HABITS,
  habitOfRep,
  styleOfManager,
  type ManagerStyle,
  type ManagerStyleName,
  type RepHabit,
  type RepHabitName,
} from './manager-styles.ts'

/** Options of {@link generateOrg}. The same options always give byte-identical output. */
export interface GenerateOptions {
  /** `org_id` of every event, 1–64 chars of `[a-z0-9_-]`; also the e-mail domain `<org>.test`. */
  org: string
  /** Number of managers (≥ 1); styles are assigned round-robin, so 4 or more show every style. */
  managers: number
  /** Reps in each manager's team at the start (≥ 1). */
  repsPerManager: number
  /** Number of simulated weeks (≥ 1), starting on `start`. */
  weeks: number
  /** Seed of the pseudo-random generator (an integer). */
  seed: number
  /** First simulated day, `YYYY-MM-DD`, a Monday. Times are UTC. */
  start: string
  /** Share of events delivered late, up to three days after their time (default 0.02). */
  lateShare?: number
  /** Share of events delivered a second time, identical, shortly after (default 0.01). */
  duplicateShare?: number
}

/** Thrown by {@link generateOrg} and {@link estimateEventCount} for options out of bounds. */
export class GenerateOptionsError extends Error {
  readonly code = 'DEMO_OPTIONS_INVALID'
  constructor(
    readonly option: keyof GenerateOptions,
    rule: string,
    received: unknown,
  ) {
    super(`demo generator option ${option}: ${rule} (got ${JSON.stringify(received)})`)
    this.name = 'GenerateOptionsError'
  }
}

/** Defaults of the delivery imperfections. */
export const DEFAULT_LATE_SHARE = 0.02
export const DEFAULT_DUPLICATE_SHARE = 0.01

/**
 * Most events the delivery stage holds back at once (late ones and pending duplicates). When the
 * buffer is full the earliest is released early: a bound on memory for very large orgs, at the
 * price of a slightly shorter lateness.
 */
export const MAX_HELD_EVENTS = 50_000

/**
 * Streams the events of a synthetic sales organisation, roughly in time order, with about
 * `lateShare` of them delivered late and `duplicateShare` delivered twice. Memory stays flat
 * whatever the number of weeks. Treat the yielded objects as read-only: a duplicate is the same
 * object yielded a second time.
 */
export function* generateOrg(options: GenerateOptions): Generator<CrmEvent> {
  const o = validate(options)
  const simulation = new OrgSimulation(o)
  // Delivery draws from its own stream, so changing lateShare or duplicateShare changes which
  // events arrive late or twice, never what the organisation did.
  yield* deliver(simulation, new Prng(o.seed, 1), o.lateShare, o.duplicateShare)
}

/**
 * The approximate number of events {@link generateOrg} yields for these options, duplicates
 * included, for progress bars: within a few percent from a handful of reps up.
 */
export function estimateEventCount(options: GenerateOptions): number {
  const o = validate(options)
  const weekly = (h: RepHabit): number =>
    5 *
      (h.activitiesPerDay + h.dealsPerDay * EVENTS_PER_DEAL + h.messagesToManagerPerDay * MESSAGES_PER_MANAGER_THREAD) +
    5 * h.peerMessagesPerDay * MESSAGES_PER_PEER_THREAD +
    ROUTINE_EVENTS_PER_REP_WEEK
  let repWeeks = 0
  let opening = 2 + o.managers
  for (let r = 0; r < o.repsPerManager; r++) {
    const h = REP_HABITS[habitOfRep(r)]
    repWeeks += o.managers * weekly(h)
    opening += o.managers * (1 + h.dealsPerDay * h.stepMeanDays * 2.2)
  }
  // The hire works the last two thirds of the range; the leaver is gone for the last quarter.
  repWeeks += (2 / 3) * weekly(REP_HABITS.average)
  if (o.repsPerManager >= 2) repWeeks -= (1 / 4) * weekly(REP_HABITS[habitOfRep(Math.min(2, o.repsPerManager - 1))])
  return Math.round((repWeeks * o.weeks + opening) * (1 + o.duplicateShare))
}

// Fitted on generated orgs from 1 to 160 reps (see the README): events per deal (created, stage
// changes, updates, close), messages per thread with the manager and with a teammate, and the
// management routines (goals, meetings, check-ins, recognition) per rep and week.
const EVENTS_PER_DEAL = 4.5
const MESSAGES_PER_MANAGER_THREAD = 2.3
const MESSAGES_PER_PEER_THREAD = 2.2
const ROUTINE_EVENTS_PER_REP_WEEK = 4

// ---------------------------------------------------------------------------------------------
// Options

interface ResolvedOptions extends Required<GenerateOptions> {
  startMs: number
}

function validate(options: GenerateOptions): ResolvedOptions {
  const { org, managers, repsPerManager, weeks, seed, start } = options
  const lateShare = options.lateShare ?? DEFAULT_LATE_SHARE
  const duplicateShare = options.duplicateShare ?? DEFAULT_DUPLICATE_SHARE
  if (typeof org !== 'string' || !/^[a-z0-9_-]{1,64}$/.test(org)) {
    throw new GenerateOptionsError('org', 'must be 1–64 chars of [a-z0-9_-]', org)
  }
  const positiveInt = (name: keyof GenerateOptions, value: number, max: number): void => {
    if (!Number.isInteger(value) || value < 1 || value > max) {
      throw new GenerateOptionsError(name, `must be an integer from 1 to ${max}`, value)
    }
  }
  positiveInt('managers', managers, 10_000)
  positiveInt('repsPerManager', repsPerManager, 1_000)
  positiveInt('weeks', weeks, 5_200)
  if (!Number.isSafeInteger(seed)) throw new GenerateOptionsError('seed', 'must be an integer', seed)
  const startMs = /^\d{4}-\d{2}-\d{2}$/.test(start) ? Date.parse(`${start}T00:00:00Z`) : Number.NaN
  if (!Number.isFinite(startMs) || new Date(startMs).toISOString().slice(0, 10) !== start) {
    throw new GenerateOptionsError('start', 'must be a date YYYY-MM-DD', start)
  }
  if (new Date(startMs).getUTCDay() !== 1) throw new GenerateOptionsError('start', 'must be a Monday', start)
  const share = (name: keyof GenerateOptions, value: number): void => {
    if (!(value >= 0 && value <= 0.5)) throw new GenerateOptionsError(name, 'must be a number from 0 to 0.5', value)
  }
  share('lateShare', lateShare)
  share('duplicateShare', duplicateShare)
  return { org, managers, repsPerManager, weeks, seed, start, lateShare, duplicateShare, startMs }
}

// ---------------------------------------------------------------------------------------------
// Time: integer milliseconds since the epoch, always whole seconds. Working time is 08:00–18:00
// UTC, Monday to Friday; the recurring behaviours run on working time, so weekends stay quiet.

const SECOND = 1_000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const WORK_START = 8 * HOUR
const WORK_END = 18 * HOUR
const WORKDAY = WORK_END - WORK_START

function isWeekday(dayNumber: number): boolean {
  // Day 0 of the epoch, 1970-01-01, was a Thursday.
  const dow = (dayNumber + 4) % 7
  return dow !== 0 && dow !== 6
}

/** `t` itself when it falls in working time, else the start of the next working window. */
function toWorkTime(t: number): number {
  let day = Math.floor(t / DAY)
  const timeOfDay = t - day * DAY
  if (isWeekday(day)) {
    if (timeOfDay < WORK_START) return day * DAY + WORK_START
    if (timeOfDay < WORK_END) return t
  }
  do day++
  while (!isWeekday(day))
  return day * DAY + WORK_START
}

/** The instant `amount` milliseconds of working time after `t`, rounded to the second. */
function addWork(t: number, amount: number): number {
  let now = toWorkTime(t)
  let left = Math.max(SECOND, Math.round(amount / SECOND) * SECOND)
  for (;;) {
    const end = Math.floor(now / DAY) * DAY + WORK_END
    if (now + left < end) return now + left
    left -= end - now
    now = toWorkTime(end)
  }
}

function dateOf(t: number): string {
  return new Date(t).toISOString().slice(0, 10)
}

// ---------------------------------------------------------------------------------------------
// The organisation

type Role = 'executive' | 'manager' | 'rep' | 'other'

interface Person {
  readonly id: string
  readonly role: Role
  readonly displayName: string
  readonly email: string
  readonly timezone: string
  active: boolean
  /** Open deals this person owns (position kept in `Deal.index` for O(1) removal). */
  readonly deals: Deal[]
}

interface Manager extends Person {
  readonly role: 'manager'
  readonly style: ManagerStyle
  /** Active reps, in arrival order; a rep's `slot` is their position here when they joined. */
  readonly team: Rep[]
}

interface Rep extends Person {
  readonly role: 'rep'
  readonly habit: RepHabit
  manager: Manager
  /** Position in the team when the rep joined it: decides one-on-one reach, forgotten quotas and goal turns (README). */
  slot: number
  readonly accounts: Account[]
}

interface Account {
  readonly id: string
  readonly name: string
  readonly contacts: number
}

interface Deal {
  readonly id: string
  readonly account: Account
  readonly habit: RepHabit
  owner: Person
  /** Position in `owner.deals`. */
  index: number
  /** Index in STAGES. */
  stage: number
  amount: number | undefined
  readonly currency: string
  readonly contacts: readonly string[]
  /** Round-robin position in `contacts`, so that every contact of the deal gets touched. */
  cursor: number
  /** Uniform in [0, 1): the manager steps in when it is below the style's `dealAttention`. */
  readonly attention: number
  takenOver: boolean
  open: boolean
}

/** A conversation between two people; each message may expect an answer from the other side. */
interface Thread {
  readonly id: string
  readonly channel: 'chat' | 'email'
  /** The rep (or the first peer). */
  readonly a: Person
  /** The manager (or the second peer). */
  readonly b: Person
  /** How `b` answers `a`. */
  readonly bReplies: ReplyHabit
  lastMessageId: string
  lastSender: Person
  /** An answer from the other side is already scheduled. */
  replyPending: boolean
  messages: number
  nudged: boolean
}

interface ReplyHabit {
  readonly share: number
  readonly medianWorkMinutes: number
  readonly sigma: number
  readonly offHours: boolean
}

/** How reps answer their manager and each other: nearly always, within minutes. */
const REP_REPLIES: ReplyHabit = { share: 0.92, medianWorkMinutes: 15, sigma: 1, offHours: false }
const PEER_REPLIES: ReplyHabit = { share: 0.85, medianWorkMinutes: 20, sigma: 1.1, offHours: false }

const STAGES = [
  { name: 'Discovery', category: 'prospecting' },
  { name: 'Qualification Complete', category: 'qualified' },
  { name: 'Proposal Sent', category: 'proposal' },
  { name: 'Negotiation/Review', category: 'negotiation' },
] as const
const NEGOTIATION = 3
const MEETING_SECONDS = [1800, 2700, 3600]
/** How the open deals found at the start spread over the stages (weights). */
const OPEN_PIPELINE_STAGES = [45, 27, 17, 11]

const LOSS_REASONS = [
  'No budget',
  'Chose a competitor',
  'No decision',
  'Bad timing',
  'Price too high',
  'Went dark',
  'Not a fit',
]
const UPDATABLE_FIELDS = ['amount', 'close_date', 'next_step', 'forecast_category', 'description', 'probability']
const PRODUCTS = ['Platform', 'Analytics add-on', 'Enterprise plan', 'Renewal', 'Expansion', 'Pilot', 'Services']
const RECOGNITION_NOTES = [
  'Great discovery call, the customer loved the questions you asked.',
  'Thanks for jumping in to help the team this week.',
  'Brilliant multi-threading on that account.',
  'Well done on the close!',
  'Your follow-up discipline is paying off.',
]
const GOALS: readonly { goal: string; target: (h: RepHabit) => number }[] = [
  { goal: 'Book discovery meetings', target: (h) => Math.round(h.dealsPerDay * 4) + 2 },
  { goal: 'Log calls', target: (h) => Math.round(h.activitiesPerDay * 2) },
  { goal: 'Create new pipeline (USD)', target: (h) => Math.round((h.dealsPerDay * 5 * h.medianAmount) / 1000) * 1000 },
  { goal: 'Add contacts at key accounts', target: (h) => h.contactsPerDeal[1] * 2 },
  { goal: 'Move deals to proposal', target: (h) => Math.max(1, Math.round(h.dealsPerDay * 2)) },
]
const QUOTA_PER_PERIOD: Readonly<Record<RepHabitName, number>> = { hunter: 110_000, farmer: 150_000, average: 100_000 }
const TIMEZONES = [
  'America/New_York',
  'Europe/London',
  'America/Chicago',
  'Europe/Berlin',
  'America/Los_Angeles',
  'Europe/Paris',
]
const FIRST_NAMES = [
  'Maya',
  'Liam',
  'Ava',
  'Noah',
  'Zoe',
  'Omar',
  'Ines',
  'Kenji',
  'Priya',
  'Lucas',
  'Chloe',
  'Mateo',
  'Amara',
  'Felix',
  'Sofia',
  'Ravi',
  'Nora',
  'Hugo',
  'Lena',
  'Tariq',
  'Elena',
  'Jonas',
  'Aisha',
  'Diego',
  'Hana',
  'Owen',
  'Leila',
  'Samir',
  'Greta',
  'Yusuf',
  'Clara',
  'Theo',
  'Mina',
  'Pablo',
  'Freya',
  'Idris',
]
const LAST_NAMES = [
  'Walsh',
  'Okafor',
  'Larsen',
  'Moreau',
  'Tanaka',
  'Silva',
  'Novak',
  'Haddad',
  'Kowalski',
  'Nguyen',
  'Fischer',
  'Rossi',
  'Mensah',
  'Ortega',
  'Lindqvist',
  'Sato',
  'Dubois',
  'Kaur',
  'Brennan',
  'Petrov',
  'Alvarez',
  'Schmidt',
  'Costa',
  'Yilmaz',
  'Olsen',
  'Ibrahim',
  'Murphy',
  'Varga',
  'Chen',
  'Adeyemi',
]
const ACCOUNT_WORDS = [
  'Northwind',
  'Blue Harbor',
  'Summit',
  'Evergreen',
  'Ironclad',
  'Brightpath',
  'Redwood',
  'Lumen',
  'Quarry',
  'Atlas',
]
const ACCOUNT_KINDS = ['Logistics', 'Health', 'Foods', 'Systems', 'Energy', 'Retail', 'Labs', 'Capital', 'Media']

/**
 * The display name of the person number `n` (0-based over the whole org). First and last names
 * are paired so that the first |first|·|last| people all get different names; beyond, a number
 * keeps the e-mail addresses unique.
 */
function nameOf(n: number): { displayName: string; local: string } {
  const f = FIRST_NAMES.length
  const l = LAST_NAMES.length
  const first = FIRST_NAMES[n % f] as string
  const last = LAST_NAMES[(n + Math.floor(n / f)) % l] as string
  const round = Math.floor(n / (f * l))
  const local = `${first}.${last}`.toLowerCase() + (round > 0 ? String(round + 1) : '')
  return { displayName: round > 0 ? `${first} ${last} ${round + 1}` : `${first} ${last}`, local }
}

/**
 * Picks `share` of a team by position, spread evenly (0.5 → slots 1, 3, 5…; 0.85 → all but
 * slot 0), so that who is left out does not depend on the seed and the README can say who.
 */
function inShare(slot: number, share: number): boolean {
  return Math.floor((slot + 1) * share + 1e-9) > Math.floor(slot * share + 1e-9)
}

// ---------------------------------------------------------------------------------------------
// The simulation

type Task =
  | { kind: 'week'; week: number }
  | { kind: 'activity'; rep: Rep; recurring: boolean }
  | { kind: 'newDeal'; rep: Rep }
  | { kind: 'dealStep'; deal: Deal }
  | { kind: 'dealUpdate'; deal: Deal }
  | { kind: 'openThread'; rep: Rep; peer: boolean }
  | { kind: 'checkIn'; manager: Manager; rep: Rep }
  | { kind: 'answer'; thread: Thread }
  | { kind: 'nudge'; thread: Thread }
  | { kind: 'meeting'; organizer: Manager; meeting: MeetingKind; rep: Rep | null }
  | { kind: 'goal'; manager: Manager; rep: Rep; periodStart: number; periodEnd: number }
  | { kind: 'quota'; manager: Manager; rep: Rep; periodStart: number; periodEnd: number }
  | { kind: 'recognition'; from: Person; team: Manager }
  | { kind: 'staff'; oneOnOne: Manager | null }
  | { kind: 'hire' }
  | { kind: 'move'; rep: Rep; to: Manager }
  | { kind: 'deactivate'; rep: Rep }

type MeetingKind = 'one_on_one' | 'coaching' | 'team' | 'lunch' | 'deal_review'

const MEETING_MINUTES: Readonly<Record<MeetingKind, number>> = {
  one_on_one: 30,
  coaching: 45,
  team: 60,
  lunch: 60,
  deal_review: 30,
}

/**
 * A binary min-heap on (time, insertion order). The insertion order breaks ties, so that two
 * runs with the same seed pop in the same order and produce the same bytes. Keys live in typed
 * arrays apart from the values: sifting then reads contiguous memory instead of chasing a pointer
 * per comparison, which made the heap the largest cost of the generator for orgs of 1,000 reps.
 */
class TimeQueue<T> {
  private times = new Float64Array(1024)
  private seqs = new Float64Array(1024)
  private values: (T | undefined)[] = []
  private length = 0
  private seq = 0
  /** Time of the entry last popped. */
  poppedTime = 0

  get size(): number {
    return this.length
  }

  /** The time of the earliest entry, or +Infinity when empty. */
  peekTime(): number {
    return this.length > 0 ? (this.times[0] as number) : Number.POSITIVE_INFINITY
  }

  push(t: number, value: T): void {
    if (this.length === this.times.length) {
      const times = new Float64Array(this.length * 2)
      times.set(this.times)
      this.times = times
      const seqs = new Float64Array(this.length * 2)
      seqs.set(this.seqs)
      this.seqs = seqs
    }
    const { times, seqs, values } = this
    const seq = this.seq++
    let i = this.length++
    while (i > 0) {
      const parent = (i - 1) >> 1
      const pt = times[parent] as number
      if (pt < t || (pt === t && (seqs[parent] as number) < seq)) break
      times[i] = pt
      seqs[i] = seqs[parent] as number
      values[i] = values[parent]
      i = parent
    }
    times[i] = t
    seqs[i] = seq
    values[i] = value
  }

  /** Removes and returns the earliest value (its time in `poppedTime`), or undefined when empty. */
  pop(): T | undefined {
    if (this.length === 0) return undefined
    const { times, seqs, values } = this
    const top = values[0]
    this.poppedTime = times[0] as number
    const n = --this.length
    const t = times[n] as number
    const seq = seqs[n] as number
    const value = values[n]
    values[n] = undefined
    if (n > 0) {
      let i = 0
      for (;;) {
        let c = 2 * i + 1
        if (c >= n) break
        const r = c + 1
        if (
          r < n &&
          ((times[r] as number) < (times[c] as number) ||
            (times[r] === times[c] && (seqs[r] as number) < (seqs[c] as number)))
        )
          c = r
        const ct = times[c] as number
        if (t < ct || (t === ct && seq < (seqs[c] as number))) break
        times[i] = ct
        seqs[i] = seqs[c] as number
        values[i] = values[c]
        i = c
      }
      times[i] = t
      seqs[i] = seq
      values[i] = value
    }
    return top
  }
}

const SOURCE = Object.freeze({ system: 'demo' as const })

/**
 * The simulated organisation. `next()` returns its events in time order; `now` is the time of the
 * event last returned, so that the delivery stage need not parse timestamps back.
 */
class OrgSimulation {
  /** Time of the event last returned, in ms. */
  now = 0
  private started = false
  private outIndex = 0

  private readonly rng: Prng
  private readonly queue = new TimeQueue<Task>()
  private readonly out: CrmEvent[] = []
  private readonly endMs: number
  private eventCount = 0
  private entityCount = 0
  private personCount = 0
  private repCount = 0
  private isoAt = -1
  private iso = ''
  private isoDay = -1
  private isoDate = ''

  private readonly executive: Person
  private readonly ops: Person
  private readonly managers: Manager[] = []

  constructor(private readonly o: ResolvedOptions) {
    this.rng = new Prng(o.seed, 0)
    this.endMs = o.startMs + o.weeks * 7 * DAY
    this.executive = this.person('exec-1', 'executive', TIMEZONES[0] as string)
    this.ops = this.person('ops-1', 'other', TIMEZONES[0] as string)
    for (let m = 0; m < o.managers; m++) {
      const manager: Manager = {
        ...this.person(`mgr-${m + 1}`, 'manager', TIMEZONES[m % TIMEZONES.length] as string),
        role: 'manager',
        style: MANAGER_STYLES[styleOfManager(m)],
        team: [],
      }
      this.managers.push(manager)
    }
  }

  /** The next event in time order, or `undefined` after the last one. */
  next(): CrmEvent | undefined {
    // A plain pull method rather than a generator: every event already crosses the delivery
    // generator, and each nested generator layer costs about as much as building the event.
    while (this.outIndex >= this.out.length) {
      this.out.length = 0
      this.outIndex = 0
      if (!this.started) {
        this.started = true
        this.open()
        continue
      }
      const task = this.queue.pop()
      if (task === undefined) return undefined
      this.now = this.queue.poppedTime
      this.run(this.now, task)
    }
    return this.out[this.outIndex++]
  }

  private open(): void {
    const { startMs } = this.o
    // The stream opens with the CRM as found: the org chart and the open pipeline, dated the
    // Sunday before `start` (18:00 UTC, still Sunday from Los Angeles to Berlin) so that the
    // first week already has deals in every stage and no artificial spike of created deals.
    this.now = startMs - 6 * HOUR
    this.seedOrgChart(this.now)
    for (let w = 0; w < this.o.weeks; w++) this.queue.push(startMs + w * 7 * DAY + 7 * HOUR, { kind: 'week', week: w })
    this.scheduleOrgChanges()
  }

  // --- building blocks ------------------------------------------------------------------------

  private person(id: string, role: Role, timezone: string): Person {
    const { displayName, local } = nameOf(this.personCount++)
    return { id, role, displayName, email: `${local}@${this.o.org}.test`, timezone, active: true, deals: [] }
  }

  private newRep(manager: Manager, habitName: RepHabitName): Rep {
    const habit = REP_HABITS[habitName]
    const rep: Rep = {
      ...this.person(`rep-${++this.repCount}`, 'rep', manager.timezone),
      role: 'rep',
      habit,
      manager,
      slot: manager.team.length,
      accounts: [],
    }
    for (let a = 0; a < habit.accounts; a++) {
      const n = ++this.entityCount
      const name = `${ACCOUNT_WORDS[n % ACCOUNT_WORDS.length] as string} ${ACCOUNT_KINDS[Math.floor(n / ACCOUNT_WORDS.length) % ACCOUNT_KINDS.length] as string}`
      const contacts = habit.contactsPerDeal[1] >= 3 ? this.rng.between(6, 15) : this.rng.between(3, 10)
      rep.accounts.push({ id: `acc-${n}`, name, contacts })
    }
    manager.team.push(rep)
    return rep
  }

  private nextId(prefix: string): string {
    return `${prefix}-${++this.entityCount}`
  }

  private emit<T extends EventType>(t: number, type: T, payload: PayloadOf<T>): void {
    if (t !== this.isoAt) this.iso = this.isoOf(t)
    this.out.push({
      event_id: `${this.o.org}-${++this.eventCount}`,
      org_id: this.o.org,
      type,
      schema_version: 1,
      occurred_at: this.iso,
      source: SOURCE,
      payload,
    } as unknown as CrmEvent)
  }

  /** `YYYY-MM-DDTHH:MM:SSZ`; the date part is formatted once a day (Date#toISOString is slow). */
  private isoOf(t: number): string {
    const day = Math.floor(t / DAY)
    if (day !== this.isoDay) {
      this.isoDay = day
      this.isoDate = new Date(day * DAY).toISOString().slice(0, 11)
    }
    const s = Math.floor((t - day * DAY) / SECOND)
    const hh = Math.floor(s / 3600)
    const mm = Math.floor(s / 60) % 60
    const ss = s % 60
    this.isoAt = t
    return `${this.isoDate}${hh < 10 ? '0' : ''}${hh}:${mm < 10 ? '0' : ''}${mm}:${ss < 10 ? '0' : ''}${ss}Z`
  }

  /** Schedules a task; tasks past the end of the simulated range are dropped, which ends every chain. */
  private at(t: number, task: Task): void {
    if (t < this.endMs) this.queue.push(t, task)
  }

  private userUpserted(t: number, p: Person, managerId: string | null, teamId: string | undefined): void {
    this.emit(t, 'user.upserted', {
      user_id: p.id,
      display_name: p.displayName,
      email: p.email,
      role: p.role,
      manager_id: managerId,
      ...(teamId === undefined ? {} : { team_id: teamId }),
      active: p.active,
      timezone: p.timezone,
    })
  }

  private addDeal(owner: Person, deal: Deal): void {
    deal.owner = owner
    deal.index = owner.deals.length
    owner.deals.push(deal)
  }

  private removeDeal(deal: Deal): void {
    const list = deal.owner.deals
    const last = list.pop() as Deal
    if (last !== deal) {
      list[deal.index] = last
      last.index = deal.index
    }
  }

  /** The manager who steps into this deal now, if its owner's manager pays attention to it. */
  private intervener(deal: Deal): Manager | null {
    if (deal.owner.role !== 'rep') return null
    const manager = (deal.owner as Rep).manager
    const style = manager.style
    if (deal.attention >= style.dealAttention) return null
    if (deal.stage < style.interventionFromStage) return null
    return manager
  }

  /**
   * The integer part of `mean`, plus one with the fractional part as chance. Routines use it
   * rather than a Poisson draw so that a style's weekly habit shows every week (a coach who
   * recognises 3.5 times a week on average never has a silent week).
   */
  private countAround(mean: number): number {
    const whole = Math.floor(mean)
    return whole + (this.rng.chance(mean - whole) ? 1 : 0)
  }

  private workTimeInWeek(weekStart: number): number {
    return addWork(weekStart + WORK_START, this.rng.uniform(0, 5 * WORKDAY))
  }

  private startRepRoutines(t: number, rep: Rep): void {
    const h = rep.habit
    this.at(addWork(t, this.rng.exponential(WORKDAY / h.activitiesPerDay)), { kind: 'activity', rep, recurring: true })
    this.at(addWork(t, this.rng.exponential(WORKDAY / h.dealsPerDay)), { kind: 'newDeal', rep })
    this.at(addWork(t, this.rng.exponential(WORKDAY / h.messagesToManagerPerDay)), {
      kind: 'openThread',
      rep,
      peer: false,
    })
    this.at(addWork(t, this.rng.exponential(WORKDAY / h.peerMessagesPerDay)), { kind: 'openThread', rep, peer: true })
  }

  // --- the org chart ----------------------------------------------------------------------------

  private seedOrgChart(t: number): void {
    const o = this.o
    this.userUpserted(t, this.executive, null, undefined)
    this.userUpserted(t, this.ops, this.executive.id, undefined)
    for (const manager of this.managers) this.userUpserted(t, manager, this.executive.id, `team-${manager.id}`)
    for (const manager of this.managers) {
      for (let r = 0; r < o.repsPerManager; r++) {
        const rep = this.newRep(manager, habitOfRep(r))
        this.userUpserted(t, rep, manager.id, `team-${manager.id}`)
        this.startRepRoutines(o.startMs + WORK_START, rep)
      }
    }
    for (const manager of this.managers) {
      for (const rep of manager.team) {
        // About the steady-state number of open deals: creation rate × mean life (≈ 2.2 steps).
        const h = rep.habit
        const open = Math.round(h.dealsPerDay * h.stepMeanDays * 2.2 * this.rng.uniform(0.8, 1.2))
        for (let d = 0; d < open; d++)
          this.createDeal(t, rep, this.rng.weighted(OPEN_PIPELINE_STAGES), o.startMs + WORK_START)
      }
    }
  }

  /** A weekday at `fraction` of the range, at `hour` UTC: when the org-chart moves happen (README). */
  private dayAt(fraction: number, hour: number): number {
    const days = this.o.weeks * 7
    let day = Math.min(days - 1, Math.floor(days * fraction))
    while (!isWeekday(Math.floor(this.o.startMs / DAY) + day) && day > 0) day--
    return this.o.startMs + day * DAY + hour * HOUR
  }

  private scheduleOrgChanges(): void {
    const { managers: m, repsPerManager: n } = this.o
    const team = (i: number): Manager => this.managers[i] as Manager
    this.queue.push(this.dayAt(1 / 3, 9), { kind: 'hire' })
    if (m >= 2 && n >= 2) {
      this.queue.push(this.dayAt(1 / 2, 10), { kind: 'move', rep: team(0).team[n - 1] as Rep, to: team(1) })
    }
    if (m >= 4 && n >= 2) {
      this.queue.push(this.dayAt(1 / 2, 11), { kind: 'move', rep: team(2).team[n - 1] as Rep, to: team(3) })
    }
    if (n >= 2) {
      this.queue.push(this.dayAt(3 / 4, 15), { kind: 'deactivate', rep: team(m - 1).team[Math.min(2, n - 1)] as Rep })
    }
  }

  // --- tasks ------------------------------------------------------------------------------------

  private run(t: number, task: Task): void {
    switch (task.kind) {
      case 'week':
        return this.planWeek(t, task.week)
      case 'activity':
        return this.activity(t, task.rep, task.recurring)
      case 'newDeal':
        return this.newDeal(t, task.rep)
      case 'dealStep':
        return this.dealStep(t, task.deal)
      case 'dealUpdate':
        return this.dealUpdate(t, task.deal)
      case 'openThread':
        return this.openThread(t, task.rep, task.peer)
      case 'checkIn':
        return this.checkIn(t, task.manager, task.rep)
      case 'answer':
        return this.answer(t, task.thread)
      case 'nudge':
        return this.nudge(t, task.thread)
      case 'meeting':
        return this.meeting(t, task.organizer, task.meeting, task.rep)
      case 'goal':
        return this.goal(t, task)
      case 'quota':
        return this.quota(t, task)
      case 'recognition':
        return this.recognition(t, task.from, task.team)
      case 'staff':
        return this.staff(t, task.oneOnOne)
      case 'hire':
        return this.hire(t)
      case 'move':
        return this.move(t, task.rep, task.to)
      case 'deactivate':
        return this.deactivate(t, task.rep)
    }
  }

  /** Monday 07:00: plans the week's management routines, each resolved against the team of its day. */
  private planWeek(t: number, week: number): void {
    const rng = this.rng
    const weekStart = t - 7 * HOUR
    const weekEnd = weekStart + 6 * DAY
    const periodStart = weekStart - (week % 4) * 7 * DAY
    const periodEnd = periodStart + 27 * DAY
    for (const manager of this.managers) {
      const s = manager.style
      let reached = 0
      for (const rep of manager.team) {
        if (week % 4 === 0 && !inShare(rep.slot, s.quotaForgetShare)) {
          const delay = rng.between(s.quotaDelayDays[0], s.quotaDelayDays[1]) * WORKDAY + rng.uniform(0, HOUR)
          this.at(addWork(weekStart + WORK_START, delay), { kind: 'quota', manager, rep, periodStart, periodEnd })
        }
        // Cadences alternate over the team, so that every week sees some of each routine. Goals
        // cover their whole cadence, so they key on the fixed slot: a colleague leaving must not
        // shift anyone's turn and leave a week uncovered. In the first week everyone gets goals
        // up to their first turn, as after a kick-off.
        const turn = (week + rep.slot) % s.goalEveryWeeks
        if ((turn === 0 || week === 0) && !rng.chance(s.goalSkipShare)) {
          const weeksCovered = turn === 0 ? s.goalEveryWeeks : s.goalEveryWeeks - turn
          const periodEnd = weekEnd + (weeksCovered - 1) * 7 * DAY
          for (let g = 0; g < s.goalsPerRep; g++) {
            this.at(this.workTimeInWeek(weekStart), { kind: 'goal', manager, rep, periodStart: weekStart, periodEnd })
          }
        }
        const due = inShare(rep.slot, s.oneOnOneReach) && (week + reached++) % s.oneOnOneEveryWeeks === 0
        if (due && !rng.chance(s.oneOnOneSkipShare)) {
          this.at(this.workTimeInWeek(weekStart), { kind: 'meeting', organizer: manager, meeting: 'one_on_one', rep })
        }
        if (rng.chance(s.coachingPerRepWeek)) {
          this.at(this.workTimeInWeek(weekStart), { kind: 'meeting', organizer: manager, meeting: 'coaching', rep })
        }
        if (rng.chance(s.dealReviewsPerRepWeek)) {
          this.at(this.workTimeInWeek(weekStart), { kind: 'meeting', organizer: manager, meeting: 'deal_review', rep })
        }
        for (let c = rng.poisson(s.checkInsPerRepWeek); c > 0; c--) {
          this.at(this.workTimeInWeek(weekStart), { kind: 'checkIn', manager, rep })
        }
        if (rng.chance(0.1)) this.at(this.workTimeInWeek(weekStart), { kind: 'recognition', from: rep, team: manager })
        // Weekends are quiet, not silent: an occasional e-mail or note.
        if (rng.chance(0.3)) {
          const day = weekStart + (5 + rng.int(2)) * DAY
          this.at(day + rng.between(10 * 3600, 20 * 3600) * SECOND, { kind: 'activity', rep, recurring: false })
        }
      }
      if (rng.chance(s.teamMeetingWeekly)) {
        this.at(addWork(weekStart + WORK_START, rng.uniform(HOUR, 2 * HOUR)), {
          kind: 'meeting',
          organizer: manager,
          meeting: 'team',
          rep: null,
        })
      }
      if (rng.chance(s.teamLunchWeekly)) {
        const lunchDay = weekStart + rng.int(5) * DAY
        this.at(lunchDay + 12 * HOUR + rng.int(30) * MINUTE, {
          kind: 'meeting',
          organizer: manager,
          meeting: 'lunch',
          rep: null,
        })
      }
      for (let r = this.countAround(s.recognitionsPerWeek); r > 0; r--) {
        this.at(this.workTimeInWeek(weekStart), { kind: 'recognition', from: manager, team: manager })
      }
      if (week % 2 === 0) this.at(this.workTimeInWeek(weekStart), { kind: 'staff', oneOnOne: manager })
      if (week % 4 === 0) {
        const amount = manager.team.reduce((sum, rep) => sum + QUOTA_PER_PERIOD[rep.habit.name], 0)
        this.emit(t, 'quota.set', {
          user_id: manager.id,
          period_start: dateOf(periodStart),
          period_end: dateOf(periodEnd),
          amount,
          currency: 'USD',
          set_by: this.executive.id,
        })
      }
    }
    this.at(weekStart + WORK_START + HOUR, { kind: 'staff', oneOnOne: null })
    if (rng.chance(0.3) && this.managers.length > 0) {
      this.at(this.workTimeInWeek(weekStart), {
        kind: 'recognition',
        from: this.executive,
        team: rng.pick(this.managers),
      })
    }
  }

  private activity(t: number, rep: Rep, recurring: boolean): void {
    if (!rep.active) return
    const rng = this.rng
    const h = rep.habit
    if (recurring)
      this.at(addWork(t, rng.exponential(WORKDAY / h.activitiesPerDay)), { kind: 'activity', rep, recurring: true })
    const kind = recurring
      ? (ACTIVITY_KINDS[rng.weighted(h.activityMix)] as (typeof ACTIVITY_KINDS)[number])
      : rng.chance(0.7)
        ? 'email'
        : 'note'
    const live = kind === 'call' || kind === 'meeting'
    let owner: Person = rep
    const participants: string[] = []
    const contacts: string[] = []
    let accountId: string | undefined
    let opportunityId: string | undefined
    if (rep.deals.length > 0 && rng.chance(0.75)) {
      const deal = rng.pick(rep.deals)
      opportunityId = deal.id
      if (rng.chance(0.7)) accountId = deal.account.id
      const count =
        kind === 'meeting' ? rng.between(1, 3) : kind === 'email' ? rng.between(1, 2) : kind === 'note' ? rng.int(2) : 1
      for (let i = 0; i < Math.min(count, deal.contacts.length); i++) {
        contacts.push(deal.contacts[deal.cursor] as string)
        deal.cursor = (deal.cursor + 1) % deal.contacts.length
      }
      const manager = this.intervener(deal)
      if (manager !== null) {
        if (rng.chance(manager.style.ownActivityShare)) {
          owner = manager
          if (live) participants.push(rep.id)
        } else if (live && rng.chance(manager.style.joinCallShare)) {
          participants.push(manager.id)
        }
      }
    } else if (rng.chance(0.85)) {
      const account = rng.pick(rep.accounts)
      accountId = account.id
      const count = kind === 'meeting' ? rng.between(1, 3) : kind === 'note' ? rng.int(2) : 1
      const first = rng.int(account.contacts)
      for (let i = 0; i < Math.min(count, account.contacts); i++)
        contacts.push(`${account.id}-c${((first + i) % account.contacts) + 1}`)
    }
    // A teammate (a solutions engineer, a buddy) sometimes joins a call or a meeting.
    if (live && owner === rep && rng.chance(0.04)) {
      const mate = rng.pick(rep.manager.team)
      if (mate !== rep) participants.push(mate.id)
    }
    const duration =
      kind === 'call'
        ? Math.min(3600, Math.max(15, Math.round(rng.logNormal(240, 1))))
        : kind === 'meeting'
          ? rng.pick(MEETING_SECONDS)
          : undefined
    // Optional fields are assigned rather than spread: this is the hottest path of the generator
    // (three events in four), and the key order stays that of docs/events.md either way.
    const payload: PayloadOf<'activity.logged'> = {
      activity_id: this.nextId('act'),
      kind,
      owner_id: owner.id,
      participant_ids: participants,
      contact_ids: contacts,
    }
    if (accountId !== undefined) payload.account_id = accountId
    if (opportunityId !== undefined) payload.opportunity_id = opportunityId
    if (duration !== undefined) payload.duration_seconds = duration
    this.emit(t, 'activity.logged', payload)
  }

  private newDeal(t: number, rep: Rep): void {
    if (!rep.active) return
    const h = rep.habit
    this.at(addWork(t, this.rng.exponential(WORKDAY / h.dealsPerDay)), { kind: 'newDeal', rep })
    // Inbound leads arrive already qualified.
    this.createDeal(t, rep, this.rng.chance(0.1) ? 1 : 0, t)
  }

  /** Creates a deal at `stage` and schedules its first step from `stepsFrom` on. */
  private createDeal(t: number, rep: Rep, stage: number, stepsFrom: number): void {
    const rng = this.rng
    const h = rep.habit
    const account = rng.pick(rep.accounts)
    const n = Math.min(account.contacts, rng.between(h.contactsPerDeal[0], h.contactsPerDeal[1]))
    const first = rng.int(account.contacts)
    const contacts: string[] = []
    for (let i = 0; i < n; i++) contacts.push(`${account.id}-c${((first + i) % account.contacts) + 1}`)
    const currency = rng.chance(0.15) ? 'EUR' : 'USD'
    const amount = rng.chance(0.03)
      ? undefined
      : Math.max(500, Math.round(rng.logNormal(h.medianAmount, 0.6) / 100) * 100)
    const deal: Deal = {
      id: this.nextId('opp'),
      account,
      habit: h,
      owner: rep,
      index: 0,
      stage,
      amount,
      currency,
      contacts,
      cursor: 0,
      attention: rng.next(),
      takenOver: false,
      open: true,
    }
    this.addDeal(rep, deal)
    const s = STAGES[stage] as (typeof STAGES)[number]
    this.emit(t, 'opportunity.created', {
      opportunity_id: deal.id,
      account_id: account.id,
      owner_id: rep.id,
      name: `${account.name} – ${rng.pick(PRODUCTS)}`,
      ...(amount === undefined ? {} : { amount, currency }),
      stage: s.name,
      stage_category: s.category,
    })
    this.scheduleStep(stepsFrom, deal)
  }

  private scheduleStep(t: number, deal: Deal): void {
    const rng = this.rng
    const work = rng.exponential(deal.habit.stepMeanDays * WORKDAY) + 30 * MINUTE
    this.at(addWork(t, work), { kind: 'dealStep', deal })
    // Half of the steps are prepared by a CRM field update somewhere in between.
    if (rng.chance(0.5)) this.at(addWork(t, work * rng.uniform(0.1, 0.9)), { kind: 'dealUpdate', deal })
  }

  private dealUpdate(t: number, deal: Deal): void {
    if (!deal.open) return
    const rng = this.rng
    const manager = this.intervener(deal)
    const by = manager !== null && rng.chance(manager.style.updateByManager) ? manager : deal.owner
    const first = rng.int(UPDATABLE_FIELDS.length)
    const fields = [UPDATABLE_FIELDS[first] as string]
    if (rng.chance(0.3))
      fields.push(
        UPDATABLE_FIELDS[(first + 1 + rng.int(UPDATABLE_FIELDS.length - 1)) % UPDATABLE_FIELDS.length] as string,
      )
    if (fields.includes('amount') && deal.amount !== undefined) {
      deal.amount = Math.max(500, Math.round((deal.amount * rng.uniform(0.8, 1.2)) / 100) * 100)
    }
    this.emit(t, 'opportunity.updated', { opportunity_id: deal.id, changed_by: by.id, fields })
  }

  private dealStep(t: number, deal: Deal): void {
    if (!deal.open) return
    const rng = this.rng
    const h = deal.habit
    const owner = deal.owner
    const manager = this.intervener(deal)
    if (manager !== null && deal.stage >= 2 && !deal.takenOver && rng.chance(manager.style.takeoverShare)) {
      this.changeOwner(t, deal, manager, manager)
      deal.takenOver = true
      this.scheduleStep(t, deal)
      return
    }
    // Reps hand a deal over to a teammate now and then (territory, workload).
    if (owner.role === 'rep' && rng.chance(0.015)) {
      const mate = rng.pick((owner as Rep).manager.team)
      if (mate !== owner) {
        this.changeOwner(t, deal, mate, owner)
        this.scheduleStep(t, deal)
        return
      }
    }
    const advance = deal.stage < NEGOTIATION && rng.chance(h.advance[deal.stage] as number)
    if (advance) {
      const from = STAGES[deal.stage] as (typeof STAGES)[number]
      deal.stage += deal.stage + 2 <= NEGOTIATION && rng.chance(0.05) ? 2 : 1
      const to = STAGES[deal.stage] as (typeof STAGES)[number]
      const by = manager !== null && rng.chance(manager.style.stageChangeByManager) ? manager : owner
      this.emit(t, 'opportunity.stage_changed', {
        opportunity_id: deal.id,
        from_stage: from.name,
        to_stage: to.name,
        to_category: to.category,
        changed_by: by.id,
      })
      this.scheduleStep(t, deal)
      return
    }
    const won = deal.stage === NEGOTIATION && rng.chance(h.winAtNegotiation)
    const by = manager !== null && rng.chance(manager.style.closeByManager) ? manager : owner
    const reason = won ? undefined : rng.chance(0.9) ? rng.pick(LOSS_REASONS) : undefined
    this.emit(t, 'opportunity.closed', {
      opportunity_id: deal.id,
      outcome: won ? 'won' : 'lost',
      ...(won && deal.amount !== undefined ? { amount: deal.amount, currency: deal.currency } : {}),
      ...(reason === undefined ? {} : { reason }),
      closed_by: by.id,
    })
    deal.open = false
    this.removeDeal(deal)
  }

  private changeOwner(t: number, deal: Deal, to: Person, by: Person): void {
    this.emit(t, 'opportunity.owner_changed', {
      opportunity_id: deal.id,
      from_owner: deal.owner.id,
      to_owner: to.id,
      changed_by: by.id,
    })
    this.removeDeal(deal)
    this.addDeal(to, deal)
  }

  // --- team communication -----------------------------------------------------------------------

  private openThread(t: number, rep: Rep, peer: boolean): void {
    if (!rep.active) return
    const rng = this.rng
    const perDay = peer ? rep.habit.peerMessagesPerDay : rep.habit.messagesToManagerPerDay
    this.at(addWork(t, rng.exponential(WORKDAY / perDay)), { kind: 'openThread', rep, peer })
    let other: Person = rep.manager
    let replies = styleReplies(rep.manager.style)
    if (peer) {
      const mate = rng.pick(rep.manager.team)
      if (mate === rep) return
      other = mate
      replies = PEER_REPLIES
    }
    const thread: Thread = {
      id: this.nextId('thr'),
      channel: rng.chance(0.8) ? 'chat' : 'email',
      a: rep,
      b: other,
      bReplies: replies,
      lastMessageId: '',
      lastSender: rep,
      replyPending: false,
      messages: 0,
      nudged: false,
    }
    this.message(t, thread, rep, false, true)
  }

  /** A manager-initiated thread: the rep answers, and the rep's answer waits for the manager. */
  private checkIn(t: number, manager: Manager, rep: Rep): void {
    if (!rep.active || rep.manager !== manager) return
    const thread: Thread = {
      id: this.nextId('thr'),
      channel: 'chat',
      a: rep,
      b: manager,
      bReplies: styleReplies(manager.style),
      lastMessageId: '',
      lastSender: manager,
      replyPending: false,
      messages: 0,
      nudged: false,
    }
    this.message(t, thread, manager, false, true)
  }

  /**
   * Sends one message of a thread. `asks` forces whether it waits for an answer; by default a
   * rep's message to the manager always does (the care metrics count every one of them, so a
   * thread must end on the manager's side to count as answered), and any other message goes on
   * with the conversation for a few turns at most.
   */
  private message(t: number, thread: Thread, sender: Person, isReply: boolean, asks?: boolean): void {
    const recipient = sender === thread.a ? thread.b : thread.a
    const id = this.nextId('msg')
    this.emit(t, 'message.sent', {
      message_id: id,
      thread_id: thread.id,
      sender_id: sender.id,
      recipient_ids: [recipient.id],
      channel: thread.channel,
      ...(isReply && thread.lastMessageId !== '' ? { in_reply_to: thread.lastMessageId } : {}),
    })
    thread.lastMessageId = id
    thread.lastSender = sender
    thread.messages++
    thread.replyPending = false
    const toManager = sender === thread.a && thread.b.role === 'manager'
    const expectsAnswer = asks ?? (toManager || (thread.messages < 6 && this.rng.chance(0.3)))
    if (expectsAnswer) this.awaitAnswer(t, thread)
  }

  /** Decides whether and when the other side answers the last message of the thread. */
  private awaitAnswer(t: number, thread: Thread): void {
    if (thread.replyPending) return
    const rng = this.rng
    const replier = thread.lastSender === thread.a ? thread.b : thread.a
    const habit =
      replier === thread.b
        ? thread.bReplies
        : thread.a.role === 'rep' && thread.b.role === 'rep'
          ? PEER_REPLIES
          : REP_REPLIES
    if (rng.chance(habit.share)) {
      const delay = rng.logNormal(habit.medianWorkMinutes * MINUTE, habit.sigma)
      const when = habit.offHours ? t + Math.max(SECOND, Math.round(delay / SECOND) * SECOND) : addWork(t, delay)
      thread.replyPending = true
      this.at(when, { kind: 'answer', thread })
    } else if (!thread.nudged && thread.lastSender === thread.a && rng.chance(0.4)) {
      thread.nudged = true
      this.at(addWork(t, rng.uniform(4 * HOUR, 2 * WORKDAY)), { kind: 'nudge', thread })
    }
  }

  private answer(t: number, thread: Thread): void {
    const replier = thread.lastSender === thread.a ? thread.b : thread.a
    if (!replier.active) return
    this.message(t, thread, replier, true)
  }

  /** The rep pings a thread nobody answered: "any thoughts on this?". */
  private nudge(t: number, thread: Thread): void {
    if (!thread.a.active || thread.lastSender !== thread.a || thread.replyPending) return
    this.message(t, thread, thread.a, false, true)
  }

  private meeting(t: number, organizer: Manager, kind: MeetingKind, rep: Rep | null): void {
    let attendees: string[]
    if (rep === null) {
      attendees = organizer.team.map((r) => r.id)
    } else {
      if (!rep.active || rep.manager !== organizer) return
      attendees = [rep.id]
    }
    if (attendees.length === 0) return
    const minutes = MEETING_MINUTES[kind]
    this.emit(t, 'meeting.held', {
      meeting_id: this.nextId('mtg'),
      kind,
      organizer_id: organizer.id,
      attendee_ids: attendees,
      duration_minutes: kind === 'one_on_one' && this.rng.chance(0.2) ? 45 : minutes,
    })
  }

  private goal(t: number, task: Extract<Task, { kind: 'goal' }>): void {
    const { manager, rep } = task
    if (!rep.active || rep.manager !== manager) return
    const g = this.rng.pick(GOALS)
    this.emit(t, 'goal.set', {
      user_id: rep.id,
      goal: g.goal,
      target: g.target(rep.habit),
      period_start: dateOf(task.periodStart),
      period_end: dateOf(task.periodEnd),
      set_by: manager.id,
    })
  }

  private quota(t: number, task: Extract<Task, { kind: 'quota' }>): void {
    const { manager, rep } = task
    if (!rep.active || rep.manager !== manager) return
    this.emit(t, 'quota.set', {
      user_id: rep.id,
      period_start: dateOf(task.periodStart),
      period_end: dateOf(task.periodEnd),
      amount: QUOTA_PER_PERIOD[rep.habit.name],
      currency: 'USD',
      set_by: manager.id,
    })
  }

  /** The executive praises a manager, a rep a teammate, a manager one or two of the team. */
  private recognition(t: number, from: Person, team: Manager): void {
    const rng = this.rng
    let to: string[]
    if (from.role === 'executive') {
      to = [team.id]
    } else if (from.role === 'rep') {
      if (!from.active) return
      const mate = rng.pick((from as Rep).manager.team)
      if (mate === from) return
      to = [mate.id]
    } else {
      if (team.team.length === 0) return
      const first = rng.pick(team.team)
      to = [first.id]
      if (rng.chance(0.2)) {
        const second = rng.pick(team.team)
        if (second !== first) to.push(second.id)
      }
    }
    this.emit(t, 'recognition.given', {
      from_id: from.id,
      to_ids: to,
      ...(rng.chance(0.8) ? { note: rng.pick(RECOGNITION_NOTES) } : {}),
    })
  }

  /** The executive's staff meeting with the managers, or a one-on-one with one manager. */
  private staff(t: number, oneOnOne: Manager | null): void {
    this.emit(t, 'meeting.held', {
      meeting_id: this.nextId('mtg'),
      kind: oneOnOne === null ? 'team' : 'one_on_one',
      organizer_id: this.executive.id,
      attendee_ids: oneOnOne === null ? this.managers.map((m) => m.id) : [oneOnOne.id],
      duration_minutes: oneOnOne === null ? 60 : 30,
    })
  }

  // --- org-chart moves --------------------------------------------------------------------------

  /** A new rep of average habit joins the third team (the coach's when there are 3 managers or more). */
  private hire(t: number): void {
    const manager = this.managers[2 % this.managers.length] as Manager
    const rep = this.newRep(manager, 'average')
    this.userUpserted(t, rep, manager.id, `team-${manager.id}`)
    this.startRepRoutines(t, rep)
    if (!inShare(rep.slot, manager.style.quotaForgetShare)) {
      const week = Math.floor((t - this.o.startMs) / (7 * DAY))
      const periodStart = this.o.startMs + (week - (week % 4)) * 7 * DAY
      this.at(addWork(t, WORKDAY), { kind: 'quota', manager, rep, periodStart, periodEnd: periodStart + 27 * DAY })
    }
  }

  private move(t: number, rep: Rep, to: Manager): void {
    if (!rep.active) return
    const from = rep.manager
    from.team.splice(from.team.indexOf(rep), 1)
    rep.manager = to
    rep.slot = to.team.length
    to.team.push(rep)
    this.userUpserted(t, rep, to.id, `team-${to.id}`)
  }

  /** The rep leaves: sales ops hands their open deals to teammates first, then deactivates them. */
  private deactivate(t: number, rep: Rep): void {
    if (!rep.active) return
    const team = rep.manager.team
    team.splice(team.indexOf(rep), 1)
    let i = 0
    while (rep.deals.length > 0) {
      const deal = rep.deals[rep.deals.length - 1] as Deal
      const heir: Person = team.length > 0 ? (team[i++ % team.length] as Rep) : rep.manager
      this.changeOwner(t, deal, heir, this.ops)
    }
    rep.active = false
    this.userUpserted(t, rep, rep.manager.id, `team-${rep.manager.id}`)
  }
}

function styleReplies(style: ManagerStyle): ReplyHabit {
  return {
    share: style.replyShare,
    medianWorkMinutes: style.replyMedianWorkMinutes,
    sigma: style.replySigma,
    offHours: style.repliesOffHours,
  }
}

// ---------------------------------------------------------------------------------------------
// Delivery: late and duplicate events

/**
 * Re-emits the time-ordered simulation as a CRM would deliver it: `lateShare` of the events held
 * back and released when the stream reaches a later time (minutes to three days), and
 * `duplicateShare` emitted a second time shortly after (a retried webhook). At most
 * MAX_HELD_EVENTS are held at once.
 */
function* deliver(
  simulation: OrgSimulation,
  rng: Prng,
  lateShare: number,
  duplicateShare: number,
): Generator<CrmEvent> {
  const held = new TimeQueue<CrmEvent>()
  for (let event = simulation.next(); event !== undefined; event = simulation.next()) {
    const t = simulation.now
    while (held.peekTime() <= t) yield held.pop() as CrmEvent
    if (rng.chance(lateShare)) {
      // Mostly hours late; a third up to three days (a CRM sync catching up after an outage).
      const delay = rng.chance(0.66) ? rng.uniform(10 * MINUTE, 12 * HOUR) : rng.uniform(12 * HOUR, 72 * HOUR)
      held.push(t + delay, event)
    } else {
      yield event
      if (rng.chance(duplicateShare)) held.push(t + rng.uniform(SECOND, 2 * HOUR), event)
    }
    while (held.size > MAX_HELD_EVENTS) yield held.pop() as CrmEvent
  }
  for (let e = held.pop(); e !== undefined; e = held.pop()) yield e
}
