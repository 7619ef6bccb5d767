/**
 * Path parameters, bodies and answers of the HTTP API, as zod schemas: the server validates
 * requests with them (services/runtime/http-api.ts) and the OpenAPI document at `/openapi.json`
 * is generated from them. Report parameters themselves are in report-params.schema.ts, shared with
 * the CLI.
 */
import { z } from 'zod'
import { Currency, OrgId } from './events.schema.ts'

/** `:org` of every route under `/v1/orgs/:org/`. */
export const OrgPath = z.object({ org: OrgId.meta({ description: 'The org id, as events carry it' }) })
export type OrgPath = z.infer<typeof OrgPath>

/** An org's settings, as stored (defaults for anything never set). */
export const OrgSettingsAnswer = z.object({
  timezone: z.string().meta({ description: 'IANA time zone that cuts days, e.g. Europe/Paris' }),
  defaultCurrency: z.string().meta({ description: 'ISO 4217 currency of amounts sent without one' }),
})

/**
 * The body of `PUT /v1/orgs/:org/settings`: the settings to change, the others kept. Strict: a
 * misspelt `timeZone` must not silently change nothing. The time zone is checked by ClickHouse,
 * whose tz database the metrics use.
 */
export const OrgSettingsBody = z.strictObject({
  timezone: z.string().min(1).optional().meta({ description: 'IANA time zone known to ClickHouse' }),
  defaultCurrency: Currency.optional(),
})
export type OrgSettingsBody = z.infer<typeof OrgSettingsBody>

/** 202 of `POST /v1/orgs/:org/rebuild`. */
export const RebuildStartedAnswer = z.object({
  workflowId: z.string(),
  runId: z.string(),
  url: z.string().meta({ description: 'The rebuild in the Temporal UI' }),
})

/** One refused event of a batch: its field, the rule and a sentence naming both. */
export const EventIssue = z.object({ path: z.string(), rule: z.string(), message: z.string() })

/** The answer of `POST /v1/orgs/:org/events`, 202 and 400 alike: one result per event sent. */
export const BatchAnswer = z.object({
  accepted: z.number().int(),
  rejected: z.number().int(),
  results: z.array(
    z.object({
      index: z.number().int().meta({ description: 'Position of the event in the batch, from 0' }),
      event_id: z.string().optional(),
      status: z.enum(['accepted', 'rejected']),
      issues: z.array(EventIssue).optional(),
    }),
  ),
})

/** The answer of a webhook: what was produced and dead-lettered, and the retries collapsed. */
export const WebhookAnswer = z.object({
  accepted: z.number().int(),
  rejected: z.number().int(),
  duplicates: z.number().int(),
})
