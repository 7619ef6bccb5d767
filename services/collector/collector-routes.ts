/**
 * The collector's HTTP routes: events in, Kafka out. Each request reads
 * authenticate → decode → classify → hand off, and answers only after Kafka acknowledged, so a
 * 2xx means the events (and the dead letters) are durable.
 *
 * | route | success | refusals |
 * |---|---|---|
 * | `POST /v1/orgs/:org/events` | 202 (≥1 accepted) | 400 nothing accepted (the same per-event body), 401 no/malformed key, 403 key not valid for the org or without `write`, 413 bytes or events, 415, 429, 503 Kafka |
 * | `POST /v1/webhooks/hubspot/:org` | 200 | 400 body not a JSON array, 401 signature/timestamp, 413, 415, 429, 503 |
 * | `POST /v1/webhooks/salesforce/:org` | 200 | 400 body not JSON, 401 signature/timestamp, 413, 415, 429, 503 |
 *
 * Limits protect the process (one event loop hosts ingest, the worker and reports too) and the
 * other orgs: a body is refused by its size before it is read, then by its number of events
 * before any is validated (413); each org has a budget of events per second (429, checked after
 * authentication); a large body is validated in slices that yield to the event loop.
 *
 * Every refusal but the events' 400 is an RFC 9457 problem (`application/problem+json`). The API
 * key of the events route is checked by the server (services/runtime/http-api.ts, scope `write`);
 * webhooks are not API-key routes: each CRM signs its deliveries.
 *
 * Bodies are read as raw Buffers (never through fastify's JSON parser) because the API hands them
 * to `decodeBatch`, whose hostile-input guard must see the bytes, and webhook signatures are
 * computed over the exact bytes sent.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifySchemaCompiler } from 'fastify'
import type { Registry } from 'prom-client'
import { z } from 'zod'
import { paramIssue, problem, PROBLEM_CONTENT_TYPE, PROBLEM_TYPES } from '../../schemas/api-problem.schema.ts'
import type { CrmMappings } from '../../schemas/collector-config.schema.ts'
import {
  decodePart,
  defaultLimits,
  splitBatch,
  type BatchFormat,
  type BatchItem,
  type BatchPart,
  type ValidationLimits,
} from '../../schemas/event-validation.ts'
import { CrmEvent } from '../../schemas/events.schema.ts'
import {
  BatchAnswer as BatchAnswerSchema,
  OrgPath,
  WebhookAnswer as WebhookAnswerSchema,
} from '../../schemas/http-api.schema.ts'
import { DEAD_LETTER_HEADERS } from '../kafka/dead-letter-headers.ts'
import type { DeadLetter, EventProducer, OutgoingEvent } from '../kafka/event-producer.ts'
import { problemResponse, requireHttpApi, sendProblem, zodValidatorCompiler } from '../runtime/http-api.ts'
import {
  asCollectorIssues,
  formatReasons,
  issue,
  rulesOf,
  type CollectorIssue,
  type MappedDelivery,
} from './collector-outcomes.ts'
import { createCollectorTelemetry, type CollectorTelemetry, type CollectorSource } from './collector-telemetry.ts'
import { mapHubSpotDelivery } from './hubspot-mapper.ts'
import { handOff as sendToKafka, keptRaw } from './kafka-handoff.ts'
import { createOrgRateLimit } from './org-rate-limit.ts'
import { mapSalesforceDelivery, RESYNC_HEADERS } from './salesforce-mapper.ts'
import {
  BRIDGE_HEADERS,
  hubSpotSignedUri,
  verifyBridgeSignature,
  verifyHubSpotSignature,
} from './webhook-signatures.ts'

/** What the routes need to know, parsed from the configuration once at boot. */
export interface CollectorSettings {
  /** HubSpot app client secret per org. */
  hubspotSecrets: ReadonlyMap<string, string>
  /** Secret of the Salesforce CDC bridge per org. */
  salesforceSecrets: ReadonlyMap<string, string>
  mappings: CrmMappings
  /** Largest accepted body; larger is 413 before it is read. */
  maxBodyBytes: number
  /** Most events (webhook elements) in one request; more is 413 before any is validated. Default 10000. */
  maxEvents?: number
  /** Events per second per org, bursts of ten seconds of them; more is 429. Default 5000. */
  eventsPerSecond?: number
  /** External base URL HubSpot calls (scheme, host, maybe a path prefix); else the request's own. */
  publicUrl?: string
}

export interface CollectorDeps {
  producer: EventProducer
  /** The clock of validation windows and of the HubSpot timestamp check. */
  clock: () => Date
  settings: CollectorSettings
  /** Default: telemetry in a registry of its own (the service passes the host's). */
  telemetry?: CollectorTelemetry
}

/** The defaults of the optional settings, those of `CollectorConfig`. */
export const COLLECTOR_DEFAULTS = { maxEvents: 10_000, eventsPerSecond: 5_000 } as const

/** How long validation runs before it yields to the event loop. */
const SLICE_MS = 10

export const COLLECTOR_ROUTES = {
  events: '/v1/orgs/:org/events',
  hubspot: '/v1/webhooks/hubspot/:org',
  salesforce: '/v1/webhooks/salesforce/:org',
} as const

/** One event of an API batch, in the answer. */
export interface EventResult {
  index: number
  event_id?: string
  status: 'accepted' | 'rejected'
  issues?: CollectorIssue[]
}

/** The answer of `POST /v1/orgs/:org/events` (202 and 400 alike). */
export interface BatchAnswer {
  accepted: number
  rejected: number
  results: EventResult[]
}

/** The answer of a webhook: what was produced and dead-lettered, and the retries collapsed. */
export interface WebhookAnswer {
  accepted: number
  rejected: number
  duplicates: number
}

const JSON_TYPE = 'application/json'
const NDJSON_TYPE = 'application/x-ndjson'

type OrgRequest = FastifyRequest<{ Params: { org: string } }>

/**
 * Registers the collector's routes on `app`, in an encapsulated scope: its buffer body parsers
 * and latency hook apply to these routes only, not to other services' routes on the same server.
 */
export async function registerCollectorRoutes(app: FastifyInstance, deps: CollectorDeps): Promise<CollectorTelemetry> {
  requireHttpApi(app)
  const { producer, clock, settings } = deps
  const telemetry = deps.telemetry ?? createCollectorTelemetry()
  const maxEvents = settings.maxEvents ?? COLLECTOR_DEFAULTS.maxEvents
  const eventsPerSecond = settings.eventsPerSecond ?? COLLECTOR_DEFAULTS.eventsPerSecond
  const rateLimit = createOrgRateLimit({ eventsPerSecond, maxEventsPerRequest: maxEvents })

  /**
   * Sends the events, then the dead letters (kafka-handoff.ts), and waits for Kafka's
   * acknowledgement; false when Kafka did not acknowledge, in which case the caller answers 503
   * and confirms nothing.
   */
  const handOff = async (request: FastifyRequest, events: OutgoingEvent[], letters: DeadLetter[]): Promise<boolean> => {
    try {
      await sendToKafka(producer, events, letters)
      return true
    } catch (error) {
      request.log.error(
        { err: error, events: events.length, deadLetters: letters.length },
        'collector: Kafka did not acknowledge',
      )
      return false
    }
  }

  const unavailable = (reply: FastifyReply) =>
    sendProblem(
      reply,
      problem(
        PROBLEM_TYPES.unavailable,
        503,
        'Kafka did not acknowledge the events; nothing is confirmed. Retry the same request: event ids make it safe.',
      ),
    )

  /**
   * The request's count of events against the cap (413) and the org's budget (429); undefined
   * when it may go on. Counted before any event is validated: refusing must cost nothing.
   */
  const overLimit = (reply: FastifyReply, source: CollectorSource, org: string, count: number) => {
    if (count > maxEvents) {
      const rule = `must hold at most ${maxEvents} events (DUGOUT_COLLECTOR_MAX_EVENTS)`
      return sendProblem(
        reply,
        problem(
          PROBLEM_TYPES.payloadTooLarge,
          413,
          `the body holds ${count} events, more than the limit of ${maxEvents} per request; send them in several requests`,
          [paramIssue('body', rule)],
        ),
      )
    }
    const decision = rateLimit.take(org, count, clock().getTime())
    if (decision.ok) return undefined
    telemetry.rateLimited.inc({ source })
    void reply.header('retry-after', String(decision.retryAfterSeconds))
    return sendProblem(
      reply,
      problem(
        PROBLEM_TYPES.tooManyRequests,
        429,
        `org "${org}" sent more than its ${eventsPerSecond} events per second (DUGOUT_COLLECTOR_RATE_LIMIT); ` +
          `retry in ${decision.retryAfterSeconds} s`,
      ),
    )
  }

  const unsupported = (reply: FastifyReply, rule: string) =>
    sendProblem(
      reply,
      problem(PROBLEM_TYPES.unsupportedMediaType, 415, `Content-Type: ${rule}`, [paramIssue('Content-Type', rule)]),
    )

  const count = (source: CollectorSource, accepted: number, rejected: readonly CollectorIssue[][]) => {
    if (accepted > 0) telemetry.events.inc({ outcome: 'accepted', source }, accepted)
    if (rejected.length > 0) telemetry.events.inc({ outcome: 'rejected', source }, rejected.length)
    for (const issues of rejected) for (const rule of rulesOf(issues)) telemetry.rejections.inc({ rule })
  }

  // A webhook whose signature does not hold. (The events route's key is refused by the server.)
  const refuse = (reply: FastifyReply, source: 'hubspot' | 'salesforce', reason: string, detail: string) => {
    telemetry.authFailures.inc({ source, reason })
    return reply
      .code(401)
      .type(PROBLEM_CONTENT_TYPE)
      .send(problem(PROBLEM_TYPES.unauthorized, 401, detail))
  }

  const deliver = async (
    request: FastifyRequest,
    reply: FastifyReply,
    source: 'hubspot' | 'salesforce',
    org: string,
    mapped: MappedDelivery,
  ) => {
    const events: OutgoingEvent[] = []
    const letters: DeadLetter[] = []
    const rejected: CollectorIssue[][] = []
    for (const outcome of mapped.outcomes) {
      if (outcome.kind === 'event') {
        events.push({ orgId: org, value: JSON.stringify(outcome.event) })
        continue
      }
      rejected.push(outcome.issues)
      letters.push(deadLetter(outcome.raw, outcome.issues, `webhook:${source}`, org, outcome.eventId, outcome.headers))
      const entity = outcome.headers?.[RESYNC_HEADERS.entity]
      if (entity !== undefined) telemetry.resyncs.inc({ source, entity })
    }
    if (!(await handOff(request, events, letters))) return unavailable(reply)
    count(source, events.length, rejected)
    const answer: WebhookAnswer = { accepted: events.length, rejected: letters.length, duplicates: mapped.duplicates }
    return reply.code(200).send(answer)
  }

  // A signed body that is not JSON of the expected shape: kept whole in the dead-letter topic.
  const unreadable = async (
    request: FastifyRequest,
    reply: FastifyReply,
    source: 'hubspot' | 'salesforce',
    org: string,
    found: CollectorIssue,
  ) => {
    if (!(await handOff(request, [], [deadLetter(bodyOf(request), [found], `webhook:${source}`, org)]))) {
      return unavailable(reply)
    }
    count(source, 0, [[found]])
    return sendProblem(reply, problem(PROBLEM_TYPES.invalidParameters, 400, found.message))
  }

  // Documented, not validated: a webhook's body is checked after its signature, by its mapper.
  const webhookOptions = (crm: 'hubspot' | 'salesforce') => ({
    bodyLimit: settings.maxBodyBytes,
    validatorCompiler: paramsOnly,
    schema: {
      summary:
        crm === 'hubspot'
          ? "HubSpot's webhook deliveries (signature v3, timestamp within 5 minutes)"
          : 'Salesforce change data capture through a bridge (X-Dugout-Timestamp, X-Dugout-Signature: sha256=<HMAC of timestamp.org.body>, within 5 minutes)',
      description: 'Not an API-key route: the CRM signs each delivery with the secret of the org.',
      security: [],
      params: z.object({ org: z.string() }),
      body: crm === 'hubspot' ? z.array(z.looseObject({})) : z.union([z.looseObject({}), z.array(z.looseObject({}))]),
      response: {
        200: WebhookAnswerSchema,
        400: problemResponse('Not a delivery of the expected shape (dead-lettered whole)'),
        401: problemResponse('The signature does not hold'),
        413: problemResponse(
          'The body is larger than DUGOUT_COLLECTOR_MAX_BODY_BYTES or holds more than DUGOUT_COLLECTOR_MAX_EVENTS items',
        ),
        415: problemResponse('Not application/json'),
        429: problemResponse(
          "The org's events per second are spent (DUGOUT_COLLECTOR_RATE_LIMIT): retry after Retry-After",
        ),
        503: problemResponse('Kafka did not acknowledge: nothing is confirmed'),
      },
    },
  })

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser([JSON_TYPE, NDJSON_TYPE], { parseAs: 'buffer' }, (_request, body, done) => {
      done(null, body)
    })
    scope.addHook('onResponse', async (request, reply) => {
      if (request.authRefusal !== null) telemetry.authFailures.inc({ source: 'api', reason: request.authRefusal })
      telemetry.requestDuration.observe(
        {
          route: request.routeOptions.url ?? 'unmatched',
          method: request.method,
          status_code: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      )
    })

    scope.post(
      COLLECTOR_ROUTES.events,
      {
        bodyLimit: settings.maxBodyBytes,
        config: { scope: 'write' },
        validatorCompiler: paramsOnly,
        schema: {
          summary: 'Sends canonical events (docs/events.md): application/x-ndjson, or a JSON array',
          description:
            'The body may also be NDJSON (application/x-ndjson), one event a line. Each event is checked on its ' +
            'own: the answer has one result per event, 202 when at least one was accepted, 400 (the same body) ' +
            'when none was; refused events are dead-lettered with their reasons.',
          params: OrgPath,
          body: z.array(CrmEvent),
          response: {
            202: BatchAnswerSchema,
            400: BatchAnswerSchema,
            413: problemResponse(
              'The body is larger than DUGOUT_COLLECTOR_MAX_BODY_BYTES or holds more than DUGOUT_COLLECTOR_MAX_EVENTS events',
            ),
            415: problemResponse('Neither application/json nor application/x-ndjson'),
            429: problemResponse(
              "The org's events per second are spent (DUGOUT_COLLECTOR_RATE_LIMIT): retry after Retry-After",
            ),
            503: problemResponse('Kafka did not acknowledge: nothing is confirmed, retry (event ids dedupe)'),
          },
        },
      },
      async (request: OrgRequest, reply) => {
        const { org } = request.params
        const type = mediaType(request)
        if (type !== JSON_TYPE && type !== NDJSON_TYPE) {
          return unsupported(reply, `must be ${JSON_TYPE} (an array of events) or ${NDJSON_TYPE}`)
        }
        const format: BatchFormat = type === NDJSON_TYPE ? 'ndjson' : 'json-array'
        const split = splitBatch(bodyOf(request), format)
        const refused = overLimit(reply, 'api', org, split.ok ? split.parts.length : 1)
        if (refused !== undefined) return refused
        const items = split.ok ? await decodeInSlices(split.parts, defaultLimits(clock())) : [split.failure]
        const events: OutgoingEvent[] = []
        const letters: DeadLetter[] = []
        const rejected: CollectorIssue[][] = []
        const results: EventResult[] = items.map((item) => {
          const issues = item.ok ? [] : asCollectorIssues(item.issues)
          const claimed = item.ok ? item.event.org_id : item.orgId
          if (claimed !== undefined && claimed !== org) {
            issues.push(
              issue('org_id', 'org_mismatch', `must be "${org}", the org of the URL, got ${JSON.stringify(claimed)}`),
            )
          }
          const eventId = item.ok ? item.event.event_id : item.eventId
          const identified = eventId === undefined ? {} : { event_id: eventId }
          if (item.ok && issues.length === 0) {
            events.push({ orgId: org, value: item.raw })
            return { index: item.index, ...identified, status: 'accepted' }
          }
          rejected.push(issues)
          letters.push(
            deadLetter(item.raw, issues, 'api', org, eventId, { [DEAD_LETTER_HEADERS.index]: String(item.index) }),
          )
          return { index: item.index, ...identified, status: 'rejected', issues }
        })
        if (!(await handOff(request, events, letters))) return unavailable(reply)
        count('api', events.length, rejected)
        const answer: BatchAnswer = { accepted: events.length, rejected: letters.length, results }
        return reply.code(events.length > 0 ? 202 : 400).send(answer)
      },
    )

    scope.post(COLLECTOR_ROUTES.hubspot, webhookOptions('hubspot'), async (request: OrgRequest, reply) => {
      const { org } = request.params
      if (mediaType(request) !== JSON_TYPE) return unsupported(reply, `must be ${JSON_TYPE}`)
      const secret = settings.hubspotSecrets.get(org)
      const body = bodyOf(request)
      const base = settings.publicUrl ?? `${request.protocol}://${request.host}`
      const check =
        secret === undefined
          ? ({ ok: false, reason: 'no_secret' } as const)
          : verifyHubSpotSignature(
              {
                method: request.method,
                uri: hubSpotSignedUri(base, request.url),
                body,
                signature: singleHeader(request, 'x-hubspot-signature-v3'),
                timestamp: singleHeader(request, 'x-hubspot-request-timestamp'),
              },
              secret,
              clock(),
            )
      if (!check.ok) return refuse(reply, 'hubspot', check.reason, `HubSpot signature refused (${shown(check.reason)})`)
      const elements = parseJson(body)
      if (!Array.isArray(elements)) {
        return unreadable(
          request,
          reply,
          'hubspot',
          org,
          issue('(root)', 'type', 'must be the JSON array of a HubSpot delivery'),
        )
      }
      const refused = overLimit(reply, 'hubspot', org, elements.length)
      if (refused !== undefined) return refused
      const mapping = settings.mappings.orgs[org]?.hubspot
      return deliver(
        request,
        reply,
        'hubspot',
        org,
        mapHubSpotDelivery(elements, { org, mapping, limits: defaultLimits(clock()) }),
      )
    })

    scope.post(COLLECTOR_ROUTES.salesforce, webhookOptions('salesforce'), async (request: OrgRequest, reply) => {
      const { org } = request.params
      if (mediaType(request) !== JSON_TYPE) return unsupported(reply, `must be ${JSON_TYPE}`)
      const secret = settings.salesforceSecrets.get(org)
      const body = bodyOf(request)
      const check =
        secret === undefined
          ? ({ ok: false, reason: 'no_secret' } as const)
          : verifyBridgeSignature(
              {
                org,
                body,
                signature: singleHeader(request, BRIDGE_HEADERS.signature),
                timestamp: singleHeader(request, BRIDGE_HEADERS.timestamp),
              },
              secret,
              clock(),
            )
      if (!check.ok) return refuse(reply, 'salesforce', check.reason, `signature refused (${shown(check.reason)})`)
      const parsed = parseJson(body)
      if (typeof parsed !== 'object' || parsed === null) {
        return unreadable(
          request,
          reply,
          'salesforce',
          org,
          issue('(root)', 'type', 'must be a JSON change event or an array of them'),
        )
      }
      const elements: unknown[] = Array.isArray(parsed) ? parsed : [parsed]
      const refused = overLimit(reply, 'salesforce', org, elements.length)
      if (refused !== undefined) return refused
      const mapping = settings.mappings.orgs[org]?.salesforce
      return deliver(
        request,
        reply,
        'salesforce',
        org,
        mapSalesforceDelivery(elements, { org, mapping, limits: defaultLimits(clock()) }),
      )
    })
  })
  return telemetry
}

/**
 * The route schemas' validator for bodies read raw: path and query parameters are checked, the
 * body is left to the route (`decodeBatch` checks each event on its own and answers per event; a
 * webhook's signature is computed over the bytes). Its body schema documents it.
 */
const paramsOnly: FastifySchemaCompiler<unknown> = (route) =>
  route.httpPart === 'body' ? (data: unknown) => ({ value: data }) : zodValidatorCompiler(route)

/**
 * Serves a registry at `GET /metrics` for Prometheus, for a server the host does not run (tests,
 * a collector embedded elsewhere); under `dugout run` the host serves its shared registry.
 */
export function registerMetricsRoute(app: FastifyInstance, registry: Registry): void {
  app.get('/metrics', async (_request, reply) => reply.type(registry.contentType).send(await registry.metrics()))
}

/**
 * Decodes the events of a body in slices of about `SLICE_MS`, yielding to the event loop between
 * them: validating 10,000 events takes about a second of CPU, and the loop also runs ingest's
 * Kafka heartbeats, the worker and the reports.
 */
async function decodeInSlices(parts: readonly BatchPart[], limits: ValidationLimits): Promise<BatchItem[]> {
  const items: BatchItem[] = []
  let sliceStart = performance.now()
  for (const [index, part] of parts.entries()) {
    items.push(decodePart(part, index, limits))
    if (performance.now() - sliceStart >= SLICE_MS) {
      await yieldToLoop()
      sliceStart = performance.now()
    }
  }
  return items
}

function deadLetter(
  raw: string | Buffer,
  issues: readonly CollectorIssue[],
  source: string,
  // Always the org of the URL, which the request authenticated: an event claiming another org
  // must not be filed under that org, not even as a dead letter.
  org: string,
  eventId?: string,
  headers: Record<string, string> = {},
): DeadLetter {
  const kept = keptRaw(raw)
  return {
    raw: kept.raw,
    reason: formatReasons(issues),
    source,
    orgId: org,
    ...(eventId === undefined ? {} : { eventId }),
    rules: rulesOf(issues),
    headers: { ...headers, ...kept.headers },
  }
}

/**
 * The reason a caller is told. An org without a secret reads as a mismatch, so that answers do
 * not reveal which orgs have webhooks configured; metrics keep the difference.
 */
function shown(reason: string): string {
  return reason === 'no_secret' ? 'mismatch' : reason
}

/** The raw body; fastify runs no parser (so leaves no Buffer) when a request has no body. */
function bodyOf(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
}

function mediaType(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
}

/** A header sent once; a repeated signature header is ambiguous and counts as absent. */
function singleHeader(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name]
  return typeof value === 'string' ? value : undefined
}

/** The parsed body, or undefined when it is not JSON (which then fails the shape checks). */
function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
}
