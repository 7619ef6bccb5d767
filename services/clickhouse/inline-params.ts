/**
 * Query parameters bound in the SQL text, for the embedded engine.
 *
 * chdb-node runs every query that carries parameters through one queue for the whole process
 * (its parameter binding is not safe across connections), so on chDB a parameterized query waits
 * for every other parameterized query of the process, on any connection: a two-statement read
 * behind a 700 ms recomputation takes 700 ms. Queries without parameters run side by side. So, on
 * chDB only, Dugout binds the parameters itself before the query leaves the process:
 * - `{name:Identifier}` becomes a backquoted identifier;
 * - `{name:String}` and `{name:Array(String)}` become a string (array) literal;
 * - any other `{name:Type}` becomes `CAST(<literal> AS Type)`, which the engine folds to the
 *   same constant a bound parameter is.
 * Literals are escaped the way ClickHouse reads them (`\` and `'` inside strings), so a value can
 * never end its literal: https://clickhouse.com/docs/sql-reference/syntax#string
 */

/** A value a query parameter may hold. */
type ParamValue = string | number | bigint | boolean | null | undefined | readonly ParamValue[]

// A quoted string or identifier, or a comment (left as they are), or a placeholder
// `{name:Type}` whose type may hold quoted text (`DateTime64(3, 'UTC')`).
const TOKENS =
  /'(?:\\[\s\S]|[^'\\])*'|`(?:\\[\s\S]|[^`\\])*`|--[^\n]*|\/\*[\s\S]*?\*\/|\{([A-Za-z_]\w*):\s*((?:[^{}'"]|'(?:\\.|[^'\\])*')+?)\s*\}/g

export class QueryParamError extends Error {
  override name = 'QueryParamError'
}

/** `query` with each `{name:Type}` placeholder replaced by its value from `params`. */
export function inlineQueryParams(query: string, params: Record<string, unknown>): string {
  return query.replace(TOKENS, (token, name: string | undefined, type: string | undefined) => {
    if (name === undefined || type === undefined) return token
    if (!Object.hasOwn(params, name)) throw new QueryParamError(`query parameter {${name}:${type}} has no value`)
    const value = params[name]
    if (type === 'Identifier') {
      if (typeof value !== 'string' || value === '')
        throw new QueryParamError(`query parameter {${name}:Identifier} must be a non-empty string`)
      return '`' + value.replace(/[\\`]/g, (c) => '\\' + c) + '`'
    }
    const literal = sqlLiteral(value as ParamValue, name)
    return type === 'String' || type === 'Array(String)' ? literal : `CAST(${literal} AS ${type})`
  })
}

function sqlLiteral(value: ParamValue, name: string): string {
  if (value === null || value === undefined) return 'NULL'
  if (typeof value === 'string') return `'${value.replace(/[\\']/g, (c) => '\\' + c)}'`
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new QueryParamError(`query parameter ${name} is not a finite number: ${value}`)
    return String(value)
  }
  if (Array.isArray(value)) return `[${value.map((v) => sqlLiteral(v, name)).join(',')}]`
  throw new QueryParamError(`query parameter ${name} has a value of an unsupported kind (${typeof value})`)
}
