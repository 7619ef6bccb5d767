import { describe, expect, it } from 'vitest'
import { inlineQueryParams, QueryParamError } from '../../services/clickhouse/inline-params.ts'

describe('query parameters bound in the SQL text (chDB)', () => {
  it('binds each placeholder by its type', () => {
    expect(
      inlineQueryParams(
        `SELECT * FROM {db:Identifier}.events WHERE org_id = {org:String} AND event_id IN {ids:Array(String)}
           AND occurred_at >= {lo:DateTime64(3, 'UTC')} AND has({days:Array(Date)}, day) AND v = {v:UInt16}`,
        { db: 'dugout', org: 'acme', ids: ['e1', 'e2'], lo: '2026-01-01 00:00:00.000', days: ['2026-01-01'], v: 3 },
      ),
    ).toBe(
      `SELECT * FROM \`dugout\`.events WHERE org_id = 'acme' AND event_id IN ['e1','e2']
           AND occurred_at >= CAST('2026-01-01 00:00:00.000' AS DateTime64(3, 'UTC')) AND has(CAST(['2026-01-01'] AS Array(Date)), day) AND v = CAST(3 AS UInt16)`,
    )
  })

  it('escapes a value so that it cannot end its literal', () => {
    expect(inlineQueryParams('SELECT {s:String}', { s: "x' OR 1=1 --" })).toBe("SELECT 'x\\' OR 1=1 --'")
    expect(inlineQueryParams('SELECT {s:String}', { s: 'a\\' })).toBe("SELECT 'a\\\\'")
    expect(inlineQueryParams('SELECT {a:Array(String)}', { a: ["'", '\\'] })).toBe("SELECT ['\\'','\\\\']")
    expect(inlineQueryParams('SELECT 1 FROM {t:Identifier}', { t: 'a`b\\' })).toBe('SELECT 1 FROM `a\\`b\\\\`')
  })

  it('leaves braces inside quoted text and comments alone', () => {
    const query = "SELECT '{x:String}', `{x:String}` -- {x:String}\n/* {x:String} */ , {x:String}"
    expect(inlineQueryParams(query, { x: 'v' })).toBe(
      "SELECT '{x:String}', `{x:String}` -- {x:String}\n/* {x:String} */ , 'v'",
    )
  })

  it('names a placeholder without a value, and a value it cannot bind', () => {
    expect(() => inlineQueryParams('SELECT {org:String}', {})).toThrow(
      new QueryParamError('query parameter {org:String} has no value'),
    )
    expect(() => inlineQueryParams('SELECT {n:Float64}', { n: Number.NaN })).toThrow(
      /parameter n is not a finite number/,
    )
    expect(() => inlineQueryParams('SELECT {d:DateTime}', { d: new Date(0) })).toThrow(/parameter d .*unsupported/)
    expect(() => inlineQueryParams('SELECT 1 FROM {t:Identifier}', { t: '' })).toThrow(/{t:Identifier} must be/)
  })
})
