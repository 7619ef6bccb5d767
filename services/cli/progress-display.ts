/**
 * Progress on long work: a bar on a terminal, a plain line every two seconds elsewhere (CI, a
 * pipe), both on stderr so that stdout stays the command's output.
 */
import { SingleBar } from 'cli-progress'

export interface ProgressDisplay {
  /** `done` moves the bar (out of `total`); `count` is what the rate is of (events). */
  update(done: number, count: number, extra?: Record<string, number>): void
  stop(): void
}

export interface ProgressOptions {
  total: number | undefined
  enabled?: boolean
  /** cli-progress format; `{rate}` (count per second) and the `extra` fields are available. */
  barFormat: string
  /** The `extra` fields before the first update, so that the first frame shows numbers. */
  initial?: Record<string, number>
  /** The line printed when stderr is not a terminal. */
  line: (count: number, rate: number, percent: number | undefined, extra: Record<string, number>) => string
}

export function createProgress(options: ProgressOptions): ProgressDisplay {
  const started = performance.now()
  const rateOf = (count: number) => Math.round(count / Math.max(0.001, (performance.now() - started) / 1000))
  if (options.enabled === false) return { update() {}, stop() {} }
  if (process.stderr.isTTY && options.total) {
    const bar = new SingleBar({ format: options.barFormat, stream: process.stderr, hideCursor: true })
    bar.start(options.total, 0, { rate: 0, ...options.initial })
    let stopped = false
    return {
      update: (done, count, extra = {}) => bar.update(done, { rate: rateOf(count), ...extra }),
      stop: () => {
        if (!stopped) bar.stop()
        stopped = true
      },
    }
  }
  let last = 0
  return {
    update(done, count, extra = {}) {
      const now = performance.now()
      if (now - last < 2000) return
      last = now
      const percent = options.total ? Math.min(100, Math.round((done / options.total) * 100)) : undefined
      process.stderr.write(`${options.line(count, rateOf(count), percent, extra)}\n`)
    },
    stop() {},
  }
}
