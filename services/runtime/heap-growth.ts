/**
 * How far a process's JavaScript heap may grow between two full garbage collections
 * (`DUGOUT_HEAP_GROWTH_PERCENT`). V8 sizes the next collection's threshold from how fast the last
 * ones ran: a busy ingest process's heap grows to about 2.5 times what a collection keeps before
 * the next one (measured with --trace-gc, 60 MiB kept, 146 reached). A fixed 50 % keeps it about
 * 90 MiB smaller at the same throughput (docs/scaling.md, "Memory").
 *
 * V8 reads the flag at each collection, so it takes effect when it is set, after the process
 * started: NODE_OPTIONS accepts no V8 heap flag but the sizes, and `node` is started by users and
 * supervisors we do not control.
 */
import v8 from 'node:v8'

/** The V8 flag for a growth in percent; none for 0 (V8's own sizing). */
export function heapGrowthFlag(percent: number): string | undefined {
  return percent > 0 ? `--heap-growing-percent=${percent}` : undefined
}

/** Sets the heap growth of this process (see the module's comment). */
export function limitHeapGrowth(percent: number): void {
  const flag = heapGrowthFlag(percent)
  if (flag) v8.setFlagsFromString(flag)
}
