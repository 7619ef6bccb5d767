/**
 * The collector's telemetry (Prometheus), registered in the registry it is given: under
 * `dugout run`, the host's, which serves them at `GET /metrics`.
 */
import { Counter, Histogram, Registry } from 'prom-client'

/** Where events come from, as the `source` label. */
export type CollectorSource = 'api' | 'hubspot' | 'salesforce'

export interface CollectorTelemetry {
  registry: Registry
  /** Events received, by outcome: accepted (produced) or rejected (dead-lettered). */
  events: Counter<'outcome' | 'source'>
  /** Rejected events by rule; an event breaking two rules counts once under each. */
  rejections: Counter<'rule'>
  /** Salesforce changes lost upstream (GAP_*), whose records must be read again. */
  resyncs: Counter<'source' | 'entity'>
  /** Requests refused before their content was looked at: bad key, signature or timestamp. */
  authFailures: Counter<'source' | 'reason'>
  /** Requests refused with 429: the org's events per second were spent. */
  rateLimited: Counter<'source'>
  requestDuration: Histogram<'route' | 'method' | 'status_code'>
}

export function createCollectorTelemetry(registry: Registry = new Registry()): CollectorTelemetry {
  const registers = [registry]
  return {
    registry,
    events: new Counter({
      name: 'dugout_collector_events_total',
      help: 'Events received by the collector, by outcome (accepted: produced to Kafka; rejected: dead-lettered) and source.',
      labelNames: ['outcome', 'source'],
      registers,
    }),
    rejections: new Counter({
      name: 'dugout_collector_rejections_total',
      help: 'Rejected events by the rule they broke (field validation rules, org_mismatch, unmapped_*, not_mapped, resync_required, ...).',
      labelNames: ['rule'],
      registers,
    }),
    resyncs: new Counter({
      name: 'dugout_collector_resync_required_total',
      help: 'CRM change notifications whose change was lost upstream (Salesforce GAP_* events): the records must be read again.',
      labelNames: ['source', 'entity'],
      registers,
    }),
    authFailures: new Counter({
      name: 'dugout_collector_auth_failures_total',
      help: 'Requests refused for their credentials (API key, webhook signature or timestamp), by source and reason.',
      labelNames: ['source', 'reason'],
      registers,
    }),
    rateLimited: new Counter({
      name: 'dugout_collector_rate_limited_total',
      help: "Requests refused with 429 because the org's events per second (DUGOUT_COLLECTOR_RATE_LIMIT) were spent, by source.",
      labelNames: ['source'],
      registers,
    }),
    requestDuration: new Histogram({
      name: 'dugout_collector_request_duration_seconds',
      help: 'Latency of collector HTTP requests, including the Kafka acknowledgement, by route, method and status code.',
      labelNames: ['route', 'method', 'status_code'],
      // Webhook senders time out at 5 s (HubSpot) to 10 s; the buckets resolve both sides of it.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
  }
}
