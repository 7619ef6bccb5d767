/**
 * Configuration of the collector (HTTP in → Kafka): the environment part `CollectorConfig`,
 * composed into `DugoutEnv`, and the per-org CRM mapping file `CrmMappings` that
 * `DUGOUT_CRM_MAPPINGS` points to. Both are parsed once at boot; a bad value names the variable
 * (or the JSON path in the file) and the rule.
 */
import { z } from 'zod'
import { Currency, Id, OpportunityOutcome, OrgId, StageCategory, UserRole } from './events.schema.ts'

// ---- Environment ----------------------------------------------------------------------------

/**
 * The rights an API key grants on its org (docs: README "Sending events"): `write` sends events,
 * `read` reads reports, explain and the report page, `admin` changes settings and starts rebuilds
 * and can also read. `admin` does not imply `write`: sending events is a machine's job, not a
 * person's, and a leaked admin key must not let anyone forge events.
 */
export const API_SCOPES = ['read', 'write', 'admin'] as const
export const ApiScope = z.enum(API_SCOPES)
export type ApiScope = z.infer<typeof ApiScope>

/** The org of a key valid for every org: only the local key of `dugout run`, never configurable. */
export const ANY_ORG = '*'

/** One accepted API key of an org, stored as the SHA-256 of the key (hex), never the key. */
export interface ApiKeyHash {
  /** An org id, or `ANY_ORG` (the local key only: `DUGOUT_API_KEYS` cannot name it). */
  org: string
  scope: ApiScope
  sha256: string
}

/**
 * Per-org secrets (HubSpot client secrets, Salesforce bridge secrets). `toJSON` names the orgs
 * and hides the values, so `dugout config` and structured logs never print a secret.
 */
export class OrgSecrets extends Map<string, string> {
  toJSON(): Record<string, string> {
    return Object.fromEntries([...this.keys()].map((org) => [org, '(set)']))
  }
}

const API_KEYS_RULE =
  'must be a comma-separated list of org:<read|write|admin>:sha256:<64 hex digits>, or org:sha256:<64 hex digits> for write (see apiKeyEntry)'
// The scope is optional for the entries written before scopes existed: those only ever sent events.
const apiKeyEntry = /^([a-z0-9_-]{1,64}):(?:(read|write|admin):)?sha256:([0-9a-fA-F]{64})$/

const apiKeys = z
  .string()
  .refine((list) => splitList(list).every((entry) => apiKeyEntry.test(entry)), API_KEYS_RULE)
  .transform((list): ApiKeyHash[] =>
    splitList(list).map((entry) => {
      const [, org, scope, hex] = apiKeyEntry.exec(entry)!
      return { org: org!, scope: (scope ?? 'write') as ApiScope, sha256: hex!.toLowerCase() }
    }),
  )

/**
 * The shortest secret accepted: 32 bytes, the length of the HMAC-SHA256 digest it keys. A shorter
 * secret can be guessed from captured deliveries faster than the digest can be forged.
 */
export const MIN_SECRET_BYTES = 32

const SECRETS_RULE = 'must be a comma-separated list of org:secret (org of [a-z0-9_-], secret without commas)'
const SHORT_SECRET_RULE = `each secret must be at least ${MIN_SECRET_BYTES} bytes`
const secretEntry = /^([a-z0-9_-]{1,64}):(\S+)$/

// The rules name the orgs, never a secret: `loadConfig` does not echo these variables either.
const orgSecrets = z
  .string()
  .refine((list) => {
    const entries = splitList(list)
    const orgs = entries.map((entry) => secretEntry.exec(entry)?.[1])
    return orgs.every((org) => org !== undefined) && new Set(orgs).size === orgs.length
  }, `${SECRETS_RULE}, one secret per org`)
  .superRefine((list, context) => {
    const short = splitList(list)
      .map((entry) => secretEntry.exec(entry))
      .filter((match) => match !== null && Buffer.byteLength(match[2]!, 'utf8') < MIN_SECRET_BYTES)
      .map((match) => match![1]!)
    if (short.length > 0) {
      context.addIssue({ code: 'custom', message: `${SHORT_SECRET_RULE} (too short for ${short.join(', ')})` })
    }
  })
  .transform(
    (list) =>
      new OrgSecrets(
        splitList(list).map((entry) => {
          const [, org, secret] = secretEntry.exec(entry)!
          return [org!, secret!] as const
        }),
      ),
  )

/** Variables whose values are secrets: a config error names them and the rule, never the value. */
export const SECRET_VARIABLES: ReadonlySet<string> = new Set(['DUGOUT_HUBSPOT_SECRETS', 'DUGOUT_SALESFORCE_SECRETS'])

const wholeNumber = (rule: string, min: number, max: number, fallback: number) =>
  z.coerce.number({ error: rule }).int(rule).min(min, rule).max(max, rule).default(fallback)

const MAX_EVENTS_RULE = 'must be a whole number of events from 1 to 100000'
const RATE_RULE = 'must be a whole number of events per second from 1 to 10000000'

const BODY_RULE = 'must be a whole number of bytes from 1024 to 1073741824'

/** The collector's part of the process configuration. */
export const CollectorConfig = z.object({
  DUGOUT_API_KEYS: apiKeys.default(() => []),
  DUGOUT_COLLECTOR_MAX_BODY_BYTES: z.coerce
    .number({ error: BODY_RULE })
    .int(BODY_RULE)
    .min(1024, BODY_RULE)
    .max(1024 * 1024 * 1024, BODY_RULE)
    .default(10 * 1024 * 1024),
  DUGOUT_COLLECTOR_MAX_EVENTS: wholeNumber(MAX_EVENTS_RULE, 1, 100_000, 10_000),
  DUGOUT_COLLECTOR_RATE_LIMIT: wholeNumber(RATE_RULE, 1, 10_000_000, 5_000),
  DUGOUT_CRM_MAPPINGS: z.string().trim().min(1).optional(),
  DUGOUT_HUBSPOT_SECRETS: orgSecrets.default(() => new OrgSecrets()),
  DUGOUT_SALESFORCE_SECRETS: orgSecrets.default(() => new OrgSecrets()),
  DUGOUT_PUBLIC_URL: z
    .string()
    .regex(
      /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/,
      'must be an http(s):// base URL without query, such as https://dugout.example.com',
    )
    .transform((url) => url.replace(/\/+$/, ''))
    .optional(),
})
export type CollectorConfig = z.infer<typeof CollectorConfig>

function splitList(list: string): string[] {
  return list
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
}

// ---- CRM mapping file -----------------------------------------------------------------------

/**
 * What a CRM stage means to Dugout: an open stage with its category, or a closing stage with its
 * outcome (a move into it becomes `opportunity.closed`). `stage` is the name stored in events;
 * it defaults to the CRM's key.
 */
export const StageMapping = z.union(
  [
    z.strictObject({ stage: z.string().min(1).optional(), category: StageCategory }),
    z.strictObject({ stage: z.string().min(1).optional(), outcome: OpportunityOutcome }),
  ],
  {
    error: `must be { "stage"?, "category" } with a category of ${StageCategory.options.join(', ')}, or { "stage"?, "outcome" } with an outcome of ${OpportunityOutcome.options.join(', ')}`,
  },
)
export type StageMapping = z.infer<typeof StageMapping>

const userIdMap = (what: string) => z.record(z.string().min(1), Id).describe(`${what} → Dugout user id`)

// A default stage must be an open one: it becomes the stage of an `opportunity.created`.
const openDefault =
  (key: 'defaultStageId' | 'defaultStage') => (m: { stages: Record<string, StageMapping>; [k: string]: unknown }) => {
    const id = m[key]
    return id === undefined || (typeof id === 'string' && m.stages[id] !== undefined && 'category' in m.stages[id]!)
  }

/** HubSpot settings of one org; ids are HubSpot's, values are Dugout's. */
export const HubSpotMapping = z
  .strictObject({
    /** When set, items of another portal are dead-lettered (`org_mismatch`). */
    portalId: z.number().int().positive().optional(),
    /** Pipeline stage id (`dealstage` value) → stage name and category, or outcome. */
    stages: z.record(z.string().min(1), StageMapping),
    /** HubSpot owner id (`hubspot_owner_id` value) → Dugout user id. */
    owners: userIdMap('HubSpot owner id'),
    /** HubSpot user id (the N of `sourceId: "userId:N"`) → Dugout user id, for `changed_by`. */
    users: userIdMap('HubSpot user id').default({}),
    defaultCurrency: Currency,
    /** Stage of a deal created without a `dealstage` in the same delivery (or created closed). */
    defaultStageId: z.string().min(1).optional(),
    /** Owner of a deal or activity created without a `hubspot_owner_id` in the same delivery. */
    defaultOwnerId: Id.optional(),
    /** `changed_by`/`closed_by` when HubSpot does not name a mapped user. */
    integrationUserId: Id.optional(),
    /** `account_id` of deals: HubSpot's deal webhooks carry no company association. */
    unassignedAccountId: Id.default('unassigned'),
  })
  .refine(openDefault('defaultStageId'), {
    path: ['defaultStageId'],
    message: 'must be a key of stages that maps to a category',
  })
export type HubSpotMapping = z.infer<typeof HubSpotMapping>

const salesforceId = z.string().regex(/^[a-zA-Z0-9]{18}$/, 'must be an 18-character Salesforce id')

/** Salesforce settings of one org; ids are Salesforce's (18 characters), values are Dugout's. */
export const SalesforceMapping = z
  .strictObject({
    /** `StageName` value → stage name and category, or outcome. */
    stages: z.record(z.string().min(1), StageMapping),
    /** Salesforce User id (`005…`) → Dugout user id. */
    users: z.record(salesforceId, Id),
    /** `UserRoleId` (`00E…`) → Dugout role, for `user.upserted`. */
    roles: z.record(salesforceId, UserRole).default({}),
    /** Role of a user without a `UserRoleId`. */
    defaultRole: UserRole.default('other'),
    defaultCurrency: Currency,
    /** Stage of an opportunity created directly in a closed stage. */
    defaultStage: z.string().min(1).optional(),
    /** `changed_by`/`closed_by` when `commitUser` is not mapped (automation users). */
    integrationUserId: Id.optional(),
    /** `account_id` of an opportunity without `AccountId`. */
    unassignedAccountId: Id.default('unassigned'),
  })
  .refine(openDefault('defaultStage'), {
    path: ['defaultStage'],
    message: 'must be a key of stages that maps to a category',
  })
export type SalesforceMapping = z.infer<typeof SalesforceMapping>

/** The CRM settings of one org. */
export const OrgMapping = z.strictObject({
  hubspot: HubSpotMapping.optional(),
  salesforce: SalesforceMapping.optional(),
})
export type OrgMapping = z.infer<typeof OrgMapping>

/** The file of `DUGOUT_CRM_MAPPINGS`: `{ "orgs": { "<org_id>": { "hubspot": …, "salesforce": … } } }`. */
export const CrmMappings = z.strictObject({
  orgs: z.record(OrgId, OrgMapping),
})
export type CrmMappings = z.infer<typeof CrmMappings>
