/**
 * One workflow per metrics shard keeps the metrics of its orgs fresh, set-based: ingest signals it
 * once per batch with the days the batch touched, per org; it debounces (a burst of batches from
 * any number of orgs leads to one round), and each round widens and recomputes the touched
 * (org, day) pairs of every org at once (`recomputeTouched`, then `recomputePairs` for the rest of
 * a long backfill), so that the statements of a round do not grow with the orgs or the days
 * (services/projections/projection-activities.ts). Orgs are partitioned into shards by a hash of
 * their id (`metricsShardOf`): each shard's rounds run on whichever worker takes them, so several
 * workers (and a ClickHouse cluster) share the orgs. Each org's status stays queryable
 * (`shardOrgStatusQuery`): what `dugout import --wait` and the Temporal UI read. It continues as
 * new before its history grows large; late events simply touch their days again.
 *
 * It replaces the per-org `orgMetricsWorkflow` (org-metrics-workflow.ts), which recomputed each
 * org in rounds of its own: workflows of that type still running finish their pending days and
 * then end (`patched('retire-to-metrics-shards')` there).
 */
import {
  type ActivityOptions,
  ActivityFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow'
import type { OrgDays, ProjectionActivities } from '../services/projections/projection-activities.ts'
import { orgMetricsActivityOptions, type OrgMetricsStatus } from './org-metrics-workflow.ts'

export interface OrgsTouched {
  /** Days (YYYY-MM-DD in each org's timezone) that a batch touched, per org. */
  orgs: Record<string, string[]>
}

export interface MetricsShardInput {
  shard: number
  /** Quiet time after the last signal before computing. */
  debounceMs?: number
  /** Longest a signal waits for its round under a continuous stream of signals. */
  maxDelayMs?: number
  /** Rounds between two prunes of superseded fact generations (default 50). */
  pruneEvery?: number
  /** State carried across continue-as-new. */
  carried?: { orgs: Record<string, OrgState>; rounds: number; unpruned: string[] }
}

/** What the shard knows of an org. */
export interface OrgState {
  pending: string[]
  signalsReceived: number
  /** Signals whose days have all been recomputed: fresh when equal to `signalsReceived`. */
  signalsComputed: number
  recomputations: number
  lastComputedDays: number
  /** Workflow time of the org's latest signal or computation (ms). */
  lastActiveAt: number
  /** The latest round failed for this org (bad input, or a fault past every retry); its next events try again. */
  failure?: { type: string; message: string }
}

/** An org's status in its shard: `OrgMetricsStatus` of the per-org workflow, and a failure if any. */
export interface ShardOrgStatus extends OrgMetricsStatus {
  failure?: { type: string; message: string }
}

export interface MetricsShardStatus {
  shard: number
  orgs: number
  pendingOrgs: number
  computing: boolean
  rounds: number
  lastRound?: { orgs: number; days: number; windows: number; rows: number }
}

export const orgsTouchedSignal = defineSignal<[OrgsTouched]>('orgsTouched')
/** One org's status; null when the shard knows nothing of it (never signalled, or idle for long). */
export const shardOrgStatusQuery = defineQuery<ShardOrgStatus | null, [string]>('orgStatus')
export const metricsShardStatusQuery = defineQuery<MetricsShardStatus>('status')

/**
 * Shards of a deployment unless it says otherwise: one per worker process. On one worker a second
 * shard only runs a second round at once on the same cores, each round paying its dozen
 * planning-heavy statements (alone, one round of 100 orgs costs 0.77 s, two of 50 orgs 1.04 s),
 * and ingest signals one more workflow per batch: with 100 orgs, both shards ran rounds back to
 * back on saturated cores. A deployment of several workers raises it, so that they run rounds at once.
 */
export const DEFAULT_METRICS_SHARDS = 1

/**
 * Shard counts of earlier versions (2, until the default became 1). After an upgrade, an org's
 * shard under an earlier count may still hold its pending days for a round or two: whoever asks
 * whether an org's metrics are fresh asks those shards too (`metricsShardsHolding`).
 */
export const EARLIER_METRICS_SHARDS: readonly number[] = [2]

/** The shard workflows of a task queue: one deployment's shards never meet another's. */
export const metricsShardWorkflowId = (taskQueue: string, shard: number) => `metrics-shard:${taskQueue}:${shard}`

/** The shard of an org: FNV-1a of its id, modulo the shards. */
export function metricsShardOf(org: string, shards: number = DEFAULT_METRICS_SHARDS): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < org.length; i++) {
    hash ^= org.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash % shards
}

/**
 * The shards that may hold an org's days, its shard under `shards` first: the same workflow ids
 * under the earlier counts too (`EARLIER_METRICS_SHARDS`), as shard ids do not name the count.
 */
export function metricsShardsHolding(org: string, shards: number = DEFAULT_METRICS_SHARDS): number[] {
  return [...new Set([shards, ...EARLIER_METRICS_SHARDS].map((count) => metricsShardOf(org, count)))]
}

/**
 * Retries are for faults (ClickHouse restarting, a connection lost), those of the per-org workflow:
 * about a quarter of an hour. Bad input of one org (a day that is no calendar date, settings
 * ClickHouse cannot use) never fails a round: the activity leaves that org out and names it, and
 * its status carries the failure. A round whose activity fails past every retry marks its orgs
 * failed and the shard goes on: their next events start again.
 */
export const metricsShardActivityOptions: ActivityOptions = orgMetricsActivityOptions

const { recomputeTouched, recomputePairs, pruneSupersededOf } =
  proxyActivities<ProjectionActivities>(metricsShardActivityOptions)

const PRUNE_EVERY = 50
/** Pairs per `recomputePairs` of a round's rest: about two windows of a backfill of 50 orgs. */
const PAIRS_PER_ACTIVITY = 3000
/** An org idle for this long is not carried across continue-as-new (an unknown org is idle). */
const FORGET_IDLE_MS = 60 * 60_000

export async function metricsShardWorkflow(input: MetricsShardInput): Promise<void> {
  const debounceMs = input.debounceMs ?? 150
  const maxDelayMs = input.maxDelayMs ?? 1000
  const orgs = new Map<string, OrgState>(Object.entries(input.carried?.orgs ?? {}))
  const pending = new Set([...orgs].filter(([, s]) => s.pending.length > 0).map(([org]) => org))
  const unpruned = new Set(input.carried?.unpruned ?? [])
  let rounds = input.carried?.rounds ?? 0
  let computing: Set<string> = new Set()
  let lastRound: MetricsShardStatus['lastRound']
  let pruning: Promise<unknown> | undefined
  /** The latest round left its rest to the next one (`restJoinsNextRound`): the next round does not. */
  let deferredLastRound = false

  let firstPendingAt = Date.now()
  let lastSignalAt = Date.now()
  setHandler(orgsTouchedSignal, ({ orgs: touched }) => {
    if (pending.size === 0) firstPendingAt = Date.now()
    lastSignalAt = Date.now()
    for (const [org, days] of Object.entries(touched)) {
      const state = orgs.get(org) ?? {
        pending: [],
        signalsReceived: 0,
        signalsComputed: 0,
        recomputations: 0,
        lastComputedDays: 0,
        lastActiveAt: 0,
      }
      state.pending = [...new Set([...state.pending, ...days])]
      state.signalsReceived++
      state.lastActiveAt = Date.now()
      orgs.set(org, state)
      pending.add(org)
    }
  })
  setHandler(shardOrgStatusQuery, (org) => {
    const state = orgs.get(org)
    if (!state) return null
    return {
      org,
      pendingDays: state.pending.length,
      computing: computing.has(org),
      signalsReceived: state.signalsReceived,
      signalsComputed: state.signalsComputed,
      recomputations: state.recomputations,
      lastComputedDays: state.lastComputedDays,
      ...(state.failure ? { failure: state.failure } : {}),
    }
  })
  setHandler(metricsShardStatusQuery, () => ({
    shard: input.shard,
    orgs: orgs.size,
    pendingOrgs: pending.size,
    computing: computing.size > 0,
    rounds,
    ...(lastRound ? { lastRound } : {}),
  }))

  /** Whether days still pending (signalled while the round ran) fall on days of the rest. */
  const restJoinsNextRound = (left: OrgDays[]): boolean => {
    if (pending.size === 0) return false
    const days = new Set(left.flatMap((part) => part.days))
    return [...pending].some((org) => orgs.get(org)!.pending.some((day) => days.has(day)))
  }

  while (!workflowInfo().continueAsNewSuggested && workflowInfo().historyLength < 2000) {
    await condition(() => pending.size > 0)
    // Debounce: until debounceMs after the latest signal, never past maxDelayMs after the first.
    for (;;) {
      const wait = Math.min(debounceMs - (Date.now() - lastSignalAt), maxDelayMs - (Date.now() - firstPendingAt))
      if (wait <= 0) break
      await sleep(wait)
    }
    const touched = [...pending].sort().map((org) => ({ org, days: [...orgs.get(org)!.pending].sort() }))
    const upTo = new Map(touched.map(({ org }) => [org, orgs.get(org)!.signalsReceived]))
    for (const { org } of touched) orgs.get(org)!.pending = []
    pending.clear()
    computing = new Set(upTo.keys())
    const failures = new Map<string, { type: string; message: string }>()
    const affected: Record<string, number> = {}
    const round = { orgs: touched.length, days: 0, windows: 0, rows: 0 }
    /** Orgs whose rest of this round joined the next one: their signals are not all computed yet. */
    const deferred = new Set<string>()
    try {
      const first = await recomputeTouched({ touched })
      Object.assign(affected, first.affected)
      for (const r of first.rejected) failures.set(r.org, { type: r.type, message: r.message })
      addRound(round, first)
      const rest = chunks(first.rest)
      for (const [k, chunk] of rest.entries()) {
        // A backfill's events came on while this round ran, to the days its rest still has: they
        // join the next round, which recomputes each day once for all of them (its windows are
        // days, whatever the orgs), instead of a round for these and then one for those. Never
        // twice running, so a steady stream cannot hold a rest back.
        const left = rest.slice(k).flat()
        if (!deferredLastRound && restJoinsNextRound(left) && patched('rest-joins-next-round')) {
          for (const { org, days } of left) {
            const state = orgs.get(org)!
            state.pending = [...new Set([...state.pending, ...days])]
            pending.add(org)
            deferred.add(org)
          }
          break
        }
        const next = await recomputePairs({ touched: chunk })
        for (const r of next.rejected) failures.set(r.org, { type: r.type, message: r.message })
        addRound(round, next)
      }
    } catch (error) {
      // Past every retry: the round's orgs are failed, the others' rounds go on.
      const cause = error instanceof ActivityFailure && error.cause ? error.cause : error
      const failure = { type: (cause as Error).name ?? 'Error', message: (cause as Error).message ?? String(cause) }
      log.warn('metrics round failed', { shard: input.shard, orgs: touched.length, failure })
      for (const { org } of touched) failures.set(org, failure)
    }
    computing = new Set()
    rounds++
    lastRound = round
    deferredLastRound = deferred.size > 0
    for (const [org, computed] of upTo) {
      const state = orgs.get(org)!
      if (!deferred.has(org)) state.signalsComputed = computed
      state.recomputations++
      state.lastComputedDays = affected[org] ?? 0
      state.lastActiveAt = Date.now()
      const failure = failures.get(org)
      if (failure) state.failure = failure
      else delete state.failure
      unpruned.add(org)
    }
    // Each round leaves the generations it replaced behind (invisible to readers): reclaim them
    // now and then, beside the next rounds (a prune never deletes a day's visible generation nor
    // one still being written). A failed prune leaves rows for the next one.
    if (rounds % (input.pruneEvery ?? PRUNE_EVERY) === 0 && pruning === undefined) {
      const these = [...unpruned].sort()
      unpruned.clear()
      pruning = pruneSupersededOf({ orgs: these })
        .catch((error: unknown) => {
          log.warn('pruning superseded facts failed', { shard: input.shard, error })
          for (const org of these) unpruned.add(org)
        })
        .finally(() => (pruning = undefined))
    }
  }
  await pruning
  // Signal handlers are synchronous, so nothing is in flight: pending days travel in the input.
  const carried: Record<string, OrgState> = {}
  for (const [org, state] of orgs) {
    const idle = state.pending.length === 0 && state.signalsComputed === state.signalsReceived && !state.failure
    if (!idle || Date.now() - state.lastActiveAt < FORGET_IDLE_MS) carried[org] = state
  }
  await continueAsNew<typeof metricsShardWorkflow>({
    ...input,
    carried: { orgs: carried, rounds, unpruned: [...unpruned] },
  })
}

function addRound(
  round: { days: number; windows: number; rows: number },
  done: { days: number; windows: number; rows: number },
): void {
  round.days += done.days
  round.windows += done.windows
  round.rows += done.rows
}

/** The rest of a round in activities of about PAIRS_PER_ACTIVITY pairs, in day order. */
function chunks(rest: { org: string; days: string[] }[]): { org: string; days: string[] }[][] {
  const out: { org: string; days: string[] }[][] = []
  let chunk: { org: string; days: string[] }[] = []
  let size = 0
  for (const part of rest) {
    if (size > 0 && size + part.days.length > PAIRS_PER_ACTIVITY) {
      out.push(chunk)
      chunk = []
      size = 0
    }
    chunk.push(part)
    size += part.days.length
  }
  if (chunk.length > 0) out.push(chunk)
  return out
}
