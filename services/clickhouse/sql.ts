/**
 * `sql` tagged templates: SQL text assembled only from other SQL fragments, never from values.
 * Values always travel as ClickHouse query parameters (`{name:Type}`); interpolating anything but
 * a fragment throws, so a value can never be spliced into a query by accident.
 */

/** A piece of SQL text built from constants. */
export class SqlFragment {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text
  }
}

/** Builds a fragment; `${…}` accepts fragments only. */
export function sql(strings: TemplateStringsArray, ...parts: SqlFragment[]): SqlFragment {
  let text = strings[0] ?? ''
  parts.forEach((part, i) => {
    if (!(part instanceof SqlFragment)) {
      throw new TypeError(`sql: interpolation ${i} is not a SqlFragment; pass values as {name:Type} parameters`)
    }
    text += part.text + (strings[i + 1] ?? '')
  })
  return new SqlFragment(text)
}
