/**
 * What every route of Dugout's HTTP API gets from the server, so that no route can forget it:
 *
 * - **Auth.** A route under `/v1/orgs/:org/` must declare the right it needs,
 *   `config: { scope: 'read' | 'write' | 'admin' }`, or registering it throws (`RouteScopeError`).
 *   The declared scope installs the API key check (services/collector/api-keys.ts) as the route's
 *   first `onRequest` hook: it runs before the body is read, so an unauthenticated client never
 *   makes the server read, parse or answer about megabytes. There is no open mode. The one other
 *   credential is the report page's session cookie (ui-sessions.ts): without an `Authorization`
 *   header, it grants `read` on GET routes of its own org, and nothing else.
 * - **Validation.** Route schemas are zod schemas, checked with `parseParams`, the function the
 *   CLI uses, before the handler runs: a bad parameter is a 400 problem naming it and its rule,
 *   and no query runs.
 * - **Errors** are RFC 9457 problems (`application/problem+json`), whatever raised them.
 * - **The contract**: an OpenAPI 3.1 document generated from the same zod schemas, with every
 *   route, at `GET /openapi.json`.
 *
 * Install it on a fresh fastify instance, before any route (`startHttpServer` does).
 */
import { STATUS_CODES } from 'node:http'
import swagger from '@fastify/swagger'
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifySchemaCompiler,
  onRequestHookHandler,
} from 'fastify'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'
import { z } from 'zod'
import {
  invalidParametersProblem,
  paramIssue,
  Problem,
  problem,
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPES,
} from '../../schemas/api-problem.schema.ts'
import { API_SCOPES, type ApiKeyHash, type ApiScope } from '../../schemas/collector-config.schema.ts'
import { OrgId, parseParams } from '../../schemas/report-params.schema.ts'
import { ParamsError } from '../errors.ts'
import { checkApiKey, type ApiKeyCheck } from './api-keys.ts'
import { sessionIdOf, UiSessions } from './ui-sessions.ts'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The right a route under `/v1/orgs/:org/` needs; required there (see `installHttpApi`). */
    scope?: ApiScope
    /** Path parameters whose bad value means "there is no such thing": 404, not 400. */
    notFoundParams?: readonly string[]
  }
  interface FastifyRequest {
    /** Why the API key check refused the request (a telemetry label), when it did. */
    authRefusal: string | null
  }
}

/** The routes that belong to one org; each declares a scope. */
export const ORG_ROUTES_PREFIX = '/v1/orgs/:org/'
export const OPENAPI_PATH = '/openapi.json'
/** The name of the bearer security scheme in the OpenAPI document. */
export const BEARER_SCHEME = 'bearer'
const REALM = 'Bearer realm="dugout"'

/** A route under `/v1/orgs/:org/` registered without a scope: a programming error, at boot. */
export class RouteScopeError extends Error {
  readonly code = 'ROUTE_SCOPE_MISSING'
}

/** The API plumbing is not installed on the instance a service registers org routes on. */
export class HttpApiMissingError extends Error {
  readonly code = 'HTTP_API_MISSING'
}

export interface HttpApiOptions {
  /** The accepted keys: `DUGOUT_API_KEYS`, and under `dugout run` the local key. */
  apiKeys: readonly ApiKeyHash[]
  /** The API's version in the OpenAPI document. */
  version?: string
  /** The report page's sessions (default: a new, empty store). */
  sessions?: UiSessions
}

/** A registered route, as the OpenAPI document must list it. */
export interface RegisteredRoute {
  method: string
  url: string
  scope?: ApiScope
}

const routesOf = new WeakMap<FastifyInstance, RegisteredRoute[]>()
const credentialsOf = new WeakMap<FastifyInstance, { apiKeys: readonly ApiKeyHash[]; sessions: UiSessions }>()

const SCOPE_SENTENCE: Record<ApiScope, string> = {
  read: 'an API key of the org with the `read` right (or `admin`)',
  write: 'an API key of the org with the `write` right',
  admin: 'an API key of the org with the `admin` right',
}

/**
 * Installs the auth, validation, error and OpenAPI plumbing on `app`. Must run before any route
 * is registered: the scope check and the document see only routes registered after it.
 */
export async function installHttpApi(app: FastifyInstance, options: HttpApiOptions): Promise<void> {
  const routes: RegisteredRoute[] = []
  routesOf.set(app, routes)
  const sessions = options.sessions ?? new UiSessions()
  credentialsOf.set(app, { apiKeys: options.apiKeys, sessions })
  app.decorateRequest('authRefusal', null)

  app.setValidatorCompiler(zodValidatorCompiler)
  // Response schemas document the answers; they are not enforced on the way out.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data))

  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat()
    if (methods.every((m) => m === 'HEAD')) return
    const scope = route.config?.scope
    routes.push({ method: methods.join(','), url: route.url, ...(scope ? { scope } : {}) })
    if (!route.url.startsWith('/v1/orgs/')) return
    if (!route.url.startsWith(ORG_ROUTES_PREFIX) || scope === undefined || !API_SCOPES.includes(scope)) {
      throw new RouteScopeError(
        `${methods.join(',')} ${route.url}: every route under ${ORG_ROUTES_PREFIX} declares the right it needs, ` +
          `config: { scope: ${API_SCOPES.map((s) => `'${s}'`).join(' | ')} } (services/runtime/http-api.ts)`,
      )
    }
    route.onRequest = [authenticate(scope, options.apiKeys, sessions), ...[route.onRequest ?? []].flat()]
    const schema = route.schema ?? {}
    route.schema = {
      ...schema,
      security: [{ [BEARER_SCHEME]: [] }],
      description: [schema.description, `Needs ${SCOPE_SENTENCE[scope]}.`].filter(Boolean).join('\n\n'),
      response: {
        401: problemResponse('No API key, or an Authorization header that is not Bearer <key>'),
        403: problemResponse('A key of another org, an unknown key, or a key without the right'),
        ...(schema.response as object | undefined),
      },
    }
  })

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Dugout HTTP API',
        version: options.version ?? '0',
        description:
          'Events in, reports out. Routes under /v1/orgs/{org}/ need an API key of the org with a right: ' +
          '`write` (events), `read` (reports), `admin` (settings, rebuild; also reads). Errors are RFC 9457 ' +
          'problems (application/problem+json).',
      },
      components: {
        securitySchemes: {
          [BEARER_SCHEME]: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key configured in DUGOUT_API_KEYS as its SHA-256, or the local key of dugout run.',
          },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const answer = problemOf(error, request)
    if (answer.status >= 500) request.log.error({ err: error }, 'request failed')
    return sendProblem(reply, answer)
  })
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problem(PROBLEM_TYPES.notFound, 404, `no route ${request.method} ${request.url.split('?')[0]}`)),
  )

  app.get(
    OPENAPI_PATH,
    {
      schema: {
        summary: 'This OpenAPI 3.1 document',
        response: { 200: z.looseObject({ openapi: z.string() }) },
      },
    },
    async () => app.swagger(),
  )
}

/**
 * Checks a request part with its zod schema through `parseParams`, the CLI's function, so that a
 * refusal names the parameter and its rule in the same words; a `ParamsError` becomes a 400 problem.
 */
export const zodValidatorCompiler: FastifySchemaCompiler<unknown> = ({ schema, method, url, httpPart }) => {
  if (!(schema instanceof z.ZodType)) {
    throw new TypeError(`${method} ${url}: the ${httpPart ?? 'request'} schema must be a zod schema`)
  }
  return (data: unknown) => {
    // fastify hands a missing body over as null; every body of the API is an object.
    const input = httpPart === 'body' && data == null ? {} : data
    const parsed = parseParams(schema, input)
    return parsed.ok ? { value: parsed.value } : { error: new ParamsError(parsed.issues) }
  }
}

/** The OpenAPI response of a problem: `application/problem+json`, an RFC 9457 body. */
export function problemResponse(description: string) {
  return { description, content: { [PROBLEM_CONTENT_TYPE]: { schema: Problem } } }
}

/** Throws unless `installHttpApi` ran on `app`: an org route registered without it would be open. */
export function requireHttpApi(app: FastifyInstance): void {
  if (!routesOf.has(app)) {
    throw new HttpApiMissingError(
      'the HTTP API plumbing is not installed on this server: call installHttpApi(app, { apiKeys }) first',
    )
  }
}

/**
 * What the report page needs of the server's credentials: the check of a key, the API's own
 * (`checkApiKey` against the configured keys), and the session store the auth hook reads.
 */
export function uiCredentials(app: FastifyInstance): {
  checkKey(key: string, org: string, scope: ApiScope): ApiKeyCheck
  sessions: UiSessions
} {
  requireHttpApi(app)
  const { apiKeys, sessions } = credentialsOf.get(app)!
  return { checkKey: (key, org, scope) => checkApiKey(`Bearer ${key}`, org, scope, apiKeys), sessions }
}

/** Every route registered since `installHttpApi`, HEAD routes aside. */
export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  requireHttpApi(app)
  return routesOf.get(app)!
}

/** Sends `answer` as `application/problem+json`; a 401 also says how to authenticate. */
export function sendProblem(reply: FastifyReply, answer: Problem): FastifyReply {
  if (answer.status === 401) void reply.header('www-authenticate', REALM)
  return reply.code(answer.status).type(PROBLEM_CONTENT_TYPE).send(answer)
}

function authenticate(scope: ApiScope, keys: readonly ApiKeyHash[], sessions: UiSessions): onRequestHookHandler {
  return (request, reply, done) => {
    const org = (request.params as { org?: string }).org ?? ''
    const check =
      sessionCheck(request, org, scope, sessions) ?? checkApiKey(request.headers.authorization, org, scope, keys)
    if (check.ok) return done()
    request.authRefusal = check.reason
    if (check.status === 401) {
      const detail =
        check.reason === 'missing'
          ? 'an API key is required: Authorization: Bearer <key>'
          : 'the Authorization header must be Bearer <key>'
      void sendProblem(
        reply,
        problem(PROBLEM_TYPES.unauthorized, 401, detail, [paramIssue('Authorization', 'must be Bearer <key>')]),
      )
      return
    }
    // With a key, an org id that no key can name is the caller's typo: say which rule it breaks.
    const orgCheck = parseParams(z.object({ org: OrgId }), { org })
    if (!orgCheck.ok) {
      void sendProblem(reply, invalidParametersProblem(orgCheck.issues))
      return
    }
    const rule = `must be a key of org "${org}" with the ${scope} right${scope === 'read' ? ' (or admin)' : ''}`
    const detail =
      check.reason === 'insufficient_scope'
        ? `this API key does not grant ${scope} on org "${org}"`
        : `this API key is not valid for org "${org}"`
    if (check.reason === 'insufficient_scope') {
      void reply.header('www-authenticate', `${REALM}, error="insufficient_scope", scope="${scope}"`)
    }
    void sendProblem(reply, problem(PROBLEM_TYPES.forbidden, 403, detail, [paramIssue('Authorization', rule)]))
  }
}

/**
 * The report page's session as a credential, or null when it does not apply: a request with an
 * `Authorization` header is judged by its key alone, and a session only ever reads (GET) its org.
 */
function sessionCheck(request: FastifyRequest, org: string, scope: ApiScope, sessions: UiSessions): ApiKeyCheck | null {
  if (request.headers.authorization !== undefined) return null
  if (scope !== 'read' || (request.method !== 'GET' && request.method !== 'HEAD')) return null
  const sessionOrg = sessions.orgOf(sessionIdOf(request.headers.cookie))
  if (sessionOrg === null) return null
  return sessionOrg === org ? { ok: true } : { ok: false, status: 403, reason: 'other_org' }
}

/** The problem of an error raised while answering (by fastify, a hook, the validator or a handler). */
function problemOf(error: FastifyError, request: FastifyRequest): Problem {
  if (error instanceof ParamsError) {
    const notFound = request.routeOptions.config.notFoundParams ?? []
    // fastify names the part that failed on the error it is given (`params`, `querystring`, `body`).
    const part = (error as ParamsError & { validationContext?: string }).validationContext
    const missing = part === 'params' && error.issues.every((i) => notFound.includes(i.parameter))
    if (missing) return problem(PROBLEM_TYPES.notFound, 404, error.message, error.issues)
    return invalidParametersProblem(error.issues)
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem(PROBLEM_TYPES.payloadTooLarge, 413, error.message, [
        paramIssue('body', `must be at most ${request.routeOptions.bodyLimit ?? '?'} bytes`),
      ])
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem(PROBLEM_TYPES.unsupportedMediaType, 415, error.message, [
        paramIssue('Content-Type', 'must be application/json'),
      ])
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return invalidParametersProblem([paramIssue('body', 'must be a JSON object')])
  }
  const status = error.statusCode ?? 500
  if (status >= 400 && status < 500) {
    return { type: 'about:blank', title: STATUS_CODES[status] ?? 'Client error', status, detail: error.message }
  }
  return problem(PROBLEM_TYPES.internal, 500, 'the request failed on the server; its log says why')
}
