/**
 * explain: the events and deals behind one count of docs/metrics.md: which deals counted as
 * intervened and by which event, which messages went unanswered, which contacts make a deal
 * multithreaded, with the CRM's `source.ref` where the source gave one. Computed from the event
 * store like the reference report (`runReportFromEvents`), from the same facts, optionally as of
 * an instant: the items always number the report's value for that manager or rep.
 */
import { explainGrain, ExplainParams, parseParams, type ExplainMetric } from '../../schemas/report-params.schema.ts'
import type { ClickHouse } from '../clickhouse/clickhouse-client.ts'
import { ReportParamsError } from '../errors.ts'
import { daysBetween, instantBounds } from '../projections/days.ts'
import { asOfParam } from '../projections/metric-facts.ts'
import { getUsableOrgSettings } from '../projections/org-settings.ts'
import { EXPLAIN_ITEMS, explainQuery, SUBJECT_ROLE, type ExplainUnit } from './explain-queries.ts'

export type { ExplainUnit }

/** An event behind an item: what it is, when it occurred, the source's ref, and why it counts. */
export interface ExplainedEvent {
  event_id: string
  type: string
  /** RFC 3339, UTC, milliseconds. */
  occurred_at: string
  /** The source's own id (`source.ref`), `null` when the source gave none. */
  source_ref: string | null
  why: string
}

/** One counted thing: a deal, rep, account or contact id, or for a count of events the event id. */
export interface ExplainedItem {
  id: string
  events: ExplainedEvent[]
}

/** The explanation of one number; as JSON, this object itself. */
export interface Explanation {
  metric: ExplainMetric
  org: string
  manager?: string
  rep?: string
  from: string
  to: string
  /** The instant the store is read as of, as given; absent: everything stored. */
  as_of?: string
  /** The report's value: the number of items. */
  value: number
  unit: ExplainUnit
  items: ExplainedItem[]
}

interface ExplainRow {
  item: string
  event_id: string
  why: string
  type: string
  occurred_at: string
  source_ref: string
}

/**
 * Explains a count metric for one manager or rep over `from`..`to` (parameters as `ExplainParams`,
 * checked: a bad one throws a ReportParamsError naming it, as does a manager (rep) who has no row in
 * the report, not being a manager (rep) at the end of the range).
 */
export async function explainMetric(ch: ClickHouse, params: ExplainParams): Promise<Explanation> {
  const parsed = parseParams(ExplainParams, params)
  if (!parsed.ok) throw new ReportParamsError(parsed.issues)
  const { org, metric, from, to, asOf } = parsed.value
  const grain = explainGrain(metric)
  const subject = (grain === 'manager' ? parsed.value.manager : parsed.value.rep) ?? ''
  const settings = await getUsableOrgSettings(ch, org)
  const days = daysBetween(from, to)
  const queryParams = {
    db: ch.database,
    org,
    tz: settings.timezone,
    currency: settings.defaultCurrency,
    from,
    to,
    days,
    ...instantBounds(days),
    as_of: asOfParam(asOf),
    subject,
  }
  const role = await ch.client.query({ query: SUBJECT_ROLE.text, query_params: queryParams, format: 'JSONEachRow' })
  if ((await role.json<{ role: string }>())[0]?.role !== grain) {
    const rule = `must be a ${grain} at the end of the range (the report has a row for ${grain}s only)`
    throw new ReportParamsError([
      { parameter: grain, rule, message: `${grain}: ${rule} (got ${JSON.stringify(subject)})` },
    ])
  }
  const result = await ch.client.query({
    query: explainQuery(metric).text,
    query_params: queryParams,
    format: 'JSONEachRow',
  })
  const items = groupItems(await result.json<ExplainRow>())
  return {
    metric,
    org,
    [grain]: subject,
    from,
    to,
    ...(asOf === undefined ? {} : { as_of: asOf }),
    value: items.length,
    unit: EXPLAIN_ITEMS[metric].unit,
    items,
  }
}

// Rows come sorted by item, then time; an event listed twice for an item (two reasons) is one
// event with both reasons.
function groupItems(rows: readonly ExplainRow[]): ExplainedItem[] {
  const items: ExplainedItem[] = []
  for (const row of rows) {
    let item = items[items.length - 1]
    if (item?.id !== row.item) items.push((item = { id: row.item, events: [] }))
    const seen = item.events.find((e) => e.event_id === row.event_id)
    if (seen) {
      seen.why = `${seen.why}; ${row.why}`
      continue
    }
    item.events.push({
      event_id: row.event_id,
      type: row.type,
      occurred_at: `${row.occurred_at.replace(' ', 'T')}Z`,
      source_ref: row.source_ref === '' ? null : row.source_ref,
      why: row.why,
    })
  }
  return items
}

/**
 * An explanation for a terminal: a heading with the value, then one line per item and its events
 * indented, each with its time, type, id, `source.ref` and why it counts.
 */
export function formatExplanation(explanation: Explanation): string {
  const who = explanation.manager !== undefined ? `manager ${explanation.manager}` : `rep ${explanation.rep ?? ''}`
  const asOf = explanation.as_of === undefined ? '' : `, as of ${explanation.as_of}`
  const unit = `${explanation.unit}${explanation.value === 1 ? '' : 's'}`
  const lines = [
    `${explanation.metric} = ${explanation.value} for ${who}, ${explanation.from}..${explanation.to}${asOf} (${explanation.value} ${unit}):`,
  ]
  for (const item of explanation.items) {
    lines.push(`  ${explanation.unit} ${item.id}`)
    for (const e of item.events) {
      const ref = e.source_ref === null ? '' : ` ref ${e.source_ref}`
      lines.push(`    ${e.occurred_at}  ${e.type}  ${e.event_id}${ref}  — ${e.why}`)
    }
  }
  return `${lines.join('\n')}\n`
}
