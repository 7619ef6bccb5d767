// The folder tree is the architecture: imports run one way, from a floor to the floors below it,
// never up. A module that needs something from above is in the wrong place (or the thing is).
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { PROJECT_ROOT } from '../../schemas/config.schema.ts'

/** Floors, lowest first; the first matching prefix of a file's path decides its floor. */
const FLOORS: readonly (readonly string[])[] = [
  // The contract: types and schemas, and the topic settings they describe.
  ['schemas/', 'infra/kafka/'],
  // Adapters and what every service shares: errors, logging, ClickHouse, Kafka.
  ['services/errors.ts', 'services/runtime/logger.ts', 'services/clickhouse/', 'services/kafka/'],
  // The host that runs services: HTTP server, auth, service lifecycle.
  ['services/runtime/'],
  // Where events enter, the write side (facts, projections), the demo generator.
  ['services/collector/', 'services/projections/', 'services/demo/'],
  // Temporal workflow code (deterministic; activity types from the write side).
  ['workflows/'],
  // Ingest (stores, then signals the workflows) and the read side (views, queries, routes).
  ['services/ingest/', 'services/reports/'],
  // The worker (hosts workflows and activities) and the weekly emails.
  ['services/worker/', 'services/insights/'],
  // Composition roots: the CLI and what it composes, the local stack, the benchmarks.
  ['services/cli/', 'infra/stack/', 'bench/'],
]

function floorOf(file: string): number {
  for (const [i, prefixes] of FLOORS.entries()) if (prefixes.some((p) => file.startsWith(p))) return i
  throw new Error(`${file} is on no floor: add its folder to FLOORS`)
}

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(PROJECT_ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.posix.join(dir, entry.name)
    if (entry.isDirectory()) return sources(rel)
    return entry.name.endsWith('.ts') ? [rel] : []
  })
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/g

describe('imports', () => {
  const files = ['schemas', 'services', 'workflows', 'infra', 'bench'].flatMap(sources)

  it('cover every source folder', () => {
    for (const file of files) expect(() => floorOf(file)).not.toThrow()
  })

  it('never reach a floor above the importing module', () => {
    const upward: string[] = []
    for (const file of files) {
      const text = fs.readFileSync(path.join(PROJECT_ROOT, file), 'utf8')
      for (const match of text.matchAll(IMPORT)) {
        const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), match[1]!))
        if (floorOf(target) > floorOf(file)) upward.push(`${file} → ${target}`)
      }
    }
    expect(upward).toEqual([])
  })
})
