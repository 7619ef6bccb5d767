// The read views state the visibility rule with the facts' definition version as a literal: a
// change of the definitions must come with a migration that replaces the views.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { MIGRATIONS_DIR, readMigrations } from '../../services/clickhouse/migrations.ts'
import { METRICS_DEFINITION_VERSION } from '../../services/projections/metric-facts.ts'

describe('the read views', () => {
  it('show the generations of the current definition version', () => {
    const latest = readMigrations()
      .filter((m) => m.statements.some((s) => /VIEW \{db:Identifier\}\.visible_generations/.test(s)))
      .at(-1)
    expect(latest).toBeDefined()
    const text = fs.readFileSync(path.join(MIGRATIONS_DIR, `${latest!.name}.sql`), 'utf8')
    expect(text).toMatch(new RegExp(`m\\.latest\\.3 = ${METRICS_DEFINITION_VERSION};`))
  })
})
