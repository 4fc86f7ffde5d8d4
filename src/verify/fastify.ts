import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { bearerRefusal } from './bearer.js'
import { VerifyError } from './errors.js'
import { checkOrigin, requestUrl } from './request-url.js'
import { requireScopes } from './scopes.js'
import type { VerifiedToken, Verifier, VerifierOptions } from './types.js'
import { createVerifier } from './verifier.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified access token; set by keymintFastify, `null` on routes outside the contexts it protects. */
    token: VerifiedToken | null
  }
}

/**
 * Options of {@link keymintFastify}: a verifier of your own (you close it), or the options to
 * create one (closed with the Fastify instance); and the public origin DPoP proofs name, when a
 * proxy stands between clients and the API.
 *
 * @example
 * ```ts
 * const opts: KeymintFastifyOptions = { verifier: createVerifier({ issuer, audience }), origin: 'https://api.example.com' }
 * ```
 */
export type KeymintFastifyOptions = ({ readonly verifier: Verifier } | VerifierOptions) & {
  /** The API's origin as clients call it (`https://api.example.com`); default: the request's scheme and host. */
  readonly origin?: string | undefined
}

async function refuse(reply: FastifyReply, err: VerifyError): Promise<FastifyReply> {
  const refusal = bearerRefusal(err)
  return reply.code(refusal.status).header('www-authenticate', refusal.wwwAuthenticate).header('cache-control', 'no-store').send(refusal.body)
}

async function plugin(app: FastifyInstance, opts: KeymintFastifyOptions): Promise<void> {
  const origin = checkOrigin(opts.origin)
  const verifier = 'verifier' in opts ? opts.verifier : createVerifier(opts)
  if (!('verifier' in opts)) app.addHook('onClose', async () => verifier.close())
  if (!app.hasRequestDecorator('token')) app.decorateRequest('token', null)
  app.addHook('onRequest', async (request, reply) => {
    try {
      request.token = await verifier.verifyRequest({
        authorization: request.headers.authorization,
        dpop: request.headers.dpop,
        method: request.method,
        url: requestUrl({ origin, protocol: request.protocol, host: request.host, path: request.url }),
      })
    } catch (err) {
      if (err instanceof VerifyError) return refuse(reply, err)
      // Unreachable keys or feed: VerifierUnavailableError carries statusCode 503 for Fastify.
      throw err
    }
  })
}

/**
 * Fastify plugin that requires a valid keymint access token on every route of the context it is
 * registered in (`Authorization: Bearer`, or `Authorization: DPoP` with its `DPoP` proof, RFC 9449),
 * sets `request.token`, and answers 401s with an RFC 6750 `Bearer` or RFC 9449 `DPoP` challenge otherwise.
 *
 * @param app - the Fastify instance (passed by `register`)
 * @param opts - a verifier, or the options to create one
 * @example
 * ```ts
 * await app.register(async (api) => {
 *   await api.register(keymintFastify, { issuer: 'https://auth.example.com', audience: 'https://api.example.com' })
 *   api.get('/reports', { preHandler: fastifyRequireScopes('reports:read') }, async (request) => request.token?.claims.sub)
 * })
 * ```
 */
export const keymintFastify: FastifyPluginAsync<KeymintFastifyOptions> = Object.assign(plugin, {
  // What fastify-plugin sets: decorations and hooks apply to the context that registers the
  // plugin, not to a child of their own.
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'keymint-verify',
})

/**
 * A Fastify `preHandler` answering 403 `insufficient_scope` unless `request.token` grants every
 * one of `scopes` (and 401 when there is no token, e.g. outside keymintFastify's context).
 *
 * @param scopes - the scopes the route needs
 * @example
 * ```ts
 * app.delete('/reports/:id', { preHandler: fastifyRequireScopes('reports:write') }, deleteReport)
 * ```
 */
export function fastifyRequireScopes(...scopes: string[]): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined> {
  return async (request, reply) => {
    try {
      if (!request.token) throw new VerifyError('invalid_token', 'a bearer token is required', { missing: true })
      requireScopes(request.token, ...scopes)
      return undefined
    } catch (err) {
      if (err instanceof VerifyError) return refuse(reply, err)
      throw err
    }
  }
}
