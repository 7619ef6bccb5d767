/**
 * The headers of a dead letter, one list for every writer (the collector, `dugout import`, ingest):
 * whoever rejected an event, an operator reading the dead-letter topic finds the same names.
 * README, "Sending events", documents them.
 */
export const DEAD_LETTER_HEADERS = {
  /** Every issue, `path: message (rule)`, joined with `; `. */
  reason: 'dugout-reason',
  /** The first rule broken: one value to group or alert on. */
  rule: 'dugout-rule',
  /** Every rule broken, comma-separated, in the order of the reasons. */
  rules: 'dugout-rules',
  /** Who rejected it: `api`, `webhook:hubspot`, `import:<file>:<line>`, `ingest`, … */
  source: 'dugout-source',
  rejectedAt: 'dugout-rejected-at',
  org: 'dugout-org-id',
  event: 'dugout-event-id',
  /** Ingest only: where on the events topic the message was read. */
  originTopic: 'dugout-origin-topic',
  originPartition: 'dugout-origin-partition',
  originOffset: 'dugout-origin-offset',
  /** API only: the event's position in the request body. */
  index: 'dugout-index',
  /** Collector only: the original size in bytes of a dead letter kept in part. */
  truncatedFrom: 'dugout-truncated-from',
} as const

/** The rule headers of a dead letter that broke `rules` (at least one; `invalid` if none was named). */
export function ruleHeaders(rules: readonly string[]): Record<string, string> {
  const named = rules.length > 0 ? rules : ['invalid']
  return { [DEAD_LETTER_HEADERS.rule]: named[0]!, [DEAD_LETTER_HEADERS.rules]: named.join(',') }
}
