import { readFileSync } from 'node:fs'
import { describe, it, expect } from 'vitest'
import { EVENT_TYPES } from '../../schemas/events.schema.ts'
import { EVENTS_JSON_SCHEMA_PATH, renderEventsJsonSchema } from '../../schemas/json-schema.ts'

describe('events JSON Schema', () => {
  it('is committed up to date with the zod schema', () => {
    const committed = readFileSync(EVENTS_JSON_SCHEMA_PATH, 'utf8')
    expect(committed, 'schemas/events.schema.json is stale: run `npx tsx schemas/json-schema.ts` and commit it').toBe(
      renderEventsJsonSchema(),
    )
  })

  it('is draft 2020-12 with one strict branch per event type', () => {
    const schema = JSON.parse(renderEventsJsonSchema()) as {
      $schema: string
      oneOf: { properties: { type: { const: string } }; additionalProperties: boolean }[]
    }
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema')
    expect(schema.oneOf.map((branch) => branch.properties.type.const)).toEqual([...EVENT_TYPES])
    expect(schema.oneOf.every((branch) => branch.additionalProperties === false)).toBe(true)
  })
})
