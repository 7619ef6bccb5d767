// The JavaScript heap's growth between full collections (DUGOUT_HEAP_GROWTH_PERCENT,
// services/runtime/heap-growth.ts), in processes of their own: a heap holding about 40 MB that
// promotes garbage as fast as it can, as a backfill's ingest does, and the most it reached.
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { PROJECT_ROOT } from '../../schemas/config.schema.ts'

/** Peak old-space size over what a full collection keeps, with the growth set to `percent`. */
function peakOverLive(percent: number): number {
  const script = `
    import v8 from 'node:v8'
    import { limitHeapGrowth } from './services/runtime/heap-growth.ts'
    limitHeapGrowth(${percent})
    const oldSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')
    const kept = Array.from({ length: 400_000 }, (_, i) => ({ i, text: 'kept ' + i }))
    // Each object outlives two scavenges (a ring larger than the young generation), so it is
    // promoted, and dies in the old generation: garbage only a full collection frees.
    const ring = new Array(600_000)
    let peak = 0
    for (let n = 0; n < 6_000_000; n++) {
      ring[n % ring.length] = { n, text: 'passing ' + n }
      if (n % 20_000 === 0) peak = Math.max(peak, oldSpace().space_size)
    }
    globalThis.gc()
    process.stdout.write(JSON.stringify({ peak, live: oldSpace().space_used_size, kept: kept.length + ring.length }))`
  const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: PROJECT_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  })
  expect(child.stderr).toBe('')
  const { peak, live } = JSON.parse(child.stdout) as { peak: number; live: number }
  return peak / live
}

describe('the heap growth of a service process', () => {
  it('keeps the old generation within the growth asked of what a collection keeps', () => {
    expect(peakOverLive(20)).toBeLessThan(1.6)
  })

  it("is V8's own with 0, which lets a busy heap grow further", () => {
    expect(peakOverLive(0)).toBeGreaterThan(1.6)
  })
})
