import { compilersFactory } from './schema-compilers.js'
import { STATUS_CODES, type RequestListener } from 'node:http'
import type { Duplex } from 'node:stream'
import swagger from '@fastify/swagger'
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify'
import type { RequestLogMode } from '../config.js'
import type { Listener } from './listener.js'
import './fastify-types.js'
import { registerErrorHandler } from './error-handler.js'
import { logRequests } from './request-log.js'
import { lazyChildLogger } from './request-logger.js'
import { securityHeaders } from './security-headers.js'
import { parseFormBody } from './form-body.js'
import { openApiOptions } from './openapi.js'
import { apiReferenceRoutes } from './routes/api-reference.js'
import { dashboardRoutes } from './routes/dashboard.js'
import { healthRoutes, type HealthDeps } from './routes/health.js'
import { introspectionRoutes } from './routes/introspect.js'
import { managementApiRoutes, noStoreUnderApi, type ManagementApiDeps } from './routes/management-api.js'
import { metricsRoutes, timeRequests, type MetricsRouteDeps } from './routes/metrics.js'
import { revocationFeedRoutes } from './routes/revocation-feed.js'
import { revocationRoutes } from './routes/revoke.js'
import type { TokenEndpointDeps } from './routes/token-endpoint-deps.js'
import { headerDialectTokenRoutes } from './routes/token-header.js'
import { oauth2TokenEndpointRoutes } from './routes/token-oauth2.js'
import type { TokenStateEndpointDeps } from './routes/token-state-deps.js'
import { wellKnownRoutes, type WellKnownDeps } from './routes/well-known.js'
import { OAuthErrorBody, Problem } from './schemas/errors.js'
import { MANAGEMENT_COMPONENTS } from './schemas/management.js'
import { OAUTH_COMPONENTS } from './schemas/oauth.js'
import { named } from './named-plugin.js'

export interface AppDeps {
  readonly token: Omit<TokenEndpointDeps, 'issuer'>
  readonly wellKnown: Omit<WellKnownDeps, 'issuer'>
  /** Built once the issuer is known (it checks `iss`). */
  readonly introspection: (issuer: () => string) => TokenStateEndpointDeps
  /** The management API; built once the issuer is known (tokens for it carry it as `aud`). */
  readonly management: (issuer: () => string) => ManagementApiDeps
  readonly health: HealthDeps
  readonly metrics: MetricsRouteDeps
  /** The issuer URL: configured, or http://HOST:PORT of the listener. */
  readonly issuer: string
  /** The bound socket; the app answers on it once it is ready. */
  readonly listener: Pick<Listener, 'server' | 'serve'>
  readonly logger: FastifyBaseLogger
  readonly trustProxy: boolean | number | string
  /** Which completed requests get a log line of their own, and the logger (into the same stream) that writes it. */
  readonly requestLog: { readonly mode: RequestLogMode; readonly logger: FastifyBaseLogger }
}

// Token requests are a few hundred bytes; nothing legitimate comes near this.
const FORM_BODY_LIMIT = 16 * 1024


const CLIENT_ERROR_STATUS: Readonly<Record<string, number>> = {
  HPE_HEADER_OVERFLOW: 431,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
}

/** Answers a request Node could not parse (bad framing, oversized headers) and closes the connection. */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A request whose headers parsed may have been answered already (a refused body, say) before
  // the parser reached the bad bytes: one answer per request, so then only close.
  const answered = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true
  if (err.code === 'ECONNRESET' || !socket.writable || answered) {
    socket.destroy()
    return
  }
  const status = CLIENT_ERROR_STATUS[err.code ?? ''] ?? 400
  const body = JSON.stringify({
    error: 'invalid_request',
    error_description: status === 431 ? 'the request headers are too large' : status === 408 ? 'the request took too long' : 'the HTTP request is malformed',
  })
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\n`
    + `Content-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`)
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  let handler: RequestListener | undefined
  const app = Fastify({
    loggerInstance: deps.logger,
    serverFactory: (fastifyHandler) => {
      handler = fastifyHandler
      return deps.listener.server
    },
    // The token endpoint is the hot path: Fastify's two lines per request give way to keymint's
    // one (request-log.ts), and no child logger is made for a request that logs nothing else.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    // Unknown body fields are refused, not silently dropped: a typo must not look like success.
    ajv: { customOptions: { removeAdditional: false } },
    schemaController: { compilersFactory },
    // Requests Node's HTTP parser refuses still get an error body in keymint's format.
    clientErrorHandler: answerClientError,
    frameworkErrors: (error, _request, reply) => {
      // Like the Node-level errors above, and before any route (or its caching) applies: no-store.
      (reply as FastifyReply).status(400).header('cache-control', 'no-store').type('application/problem+json; charset=utf-8')
        .send({ type: 'about:blank', title: 'invalid_request', status: 400, detail: error.code === 'FST_ERR_BAD_URL' ? 'the URL is malformed' : 'the request is malformed' })
    },
    trustProxy: typeof deps.trustProxy === 'number'
      ? (_address: string, hop: number) => hop < (deps.trustProxy as number)
      : deps.trustProxy,
  })
  app.decorateRequest('clientAuthMethod', null)
  app.decorateRequest('clientId', null)
  app.removeContentTypeParser('text/plain')
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    (_request, body, done) => {
      try {
        done(null, parseFormBody(body as string))
      } catch (err) {
        done(err as Error, undefined)
      }
    })
  // An empty body under Content-Type: application/json (curl -X DELETE -H … often sends one)
  // reads as no body; anything else goes to Fastify's own (prototype-poisoning-safe) parser.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if ((body as string).trim() === '') done(null, undefined)
    else void parseJson(request, body as string, done)
  })
  registerErrorHandler(app)
  // The socket is bound already; it answers once every route is registered.
  app.addHook('onReady', async () => { if (handler) deps.listener.serve(handler) })

  const issuerOf = (): string => deps.issuer
  app.decorate('issuer', issuerOf)
  const management = deps.management(issuerOf)
  // Before any route: it builds the OpenAPI document from the routes' schemas as they are added.
  await app.register(swagger, openApiOptions({ version: management.version }))
  // Shared schemas, referenced by `$id` from the routes' schemas: `components.schemas` of the document.
  for (const schema of [Problem, OAuthErrorBody, ...MANAGEMENT_COMPONENTS, ...OAUTH_COMPONENTS]) app.addSchema(schema)
  // At the root, so it times every route registered below.
  app.addHook('onResponse', timeRequests(deps.metrics.metrics))
  const logRequest = logRequests(deps.requestLog.logger, deps.requestLog.mode)
  if (logRequest) app.addHook('onResponse', logRequest)
  app.addHook('onSend', noStoreUnderApi)
  app.addHook('onSend', securityHeaders({ https: deps.issuer.startsWith('https:') }))
  await app.register(named(headerDialectTokenRoutes), { ...deps.token, issuer: issuerOf })
  await app.register(named(oauth2TokenEndpointRoutes), { ...deps.token, issuer: issuerOf })
  const tokenState = deps.introspection(issuerOf)
  await app.register(named(introspectionRoutes), tokenState)
  await app.register(named(revocationRoutes), tokenState)
  await app.register(named(revocationFeedRoutes), tokenState)
  await app.register(named(managementApiRoutes), management)
  await app.register(named(apiReferenceRoutes), { issuer: issuerOf })
  await app.register(named(wellKnownRoutes), { ...deps.wellKnown, issuer: issuerOf })
  await app.register(named(healthRoutes), deps.health)
  await app.register(named(metricsRoutes), deps.metrics)
  // Last: its catch-all answers only what no route above does.
  await app.register(named(dashboardRoutes), {})
  return app
}
