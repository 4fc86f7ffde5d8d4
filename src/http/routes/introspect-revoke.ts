import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { RevocationFeed } from '../../domain/revocation-feed.js'
import type { AccountId, ClientCredential } from '../../domain/types.js'
import { authenticateClient, type ClientAuthDeps } from '../../oauth/client-auth/authenticate-client.js'
import { assertClientMayAct } from '../../oauth/client-authorization.js'
import { InvalidRequest } from '../../oauth/errors.js'
import { introspectToken, type TokenStateDeps } from '../../oauth/introspection.js'
import { revokeAccessToken, type RevocationDeps } from '../../oauth/revocation.js'
import { readOAuth2Credentials } from '../credentials.js'
import type { FormParams } from '../form-body.js'
import { acceptFormOnly } from './token-deps.js'

export interface IntrospectRevokeDeps {
  readonly auth: ClientAuthDeps
  readonly tokens: TokenStateDeps & RevocationDeps
  readonly feed: (accountId: AccountId, since: Date | undefined) => Promise<RevocationFeed>
}

const feedResponse = {
  200: {
    type: 'object',
    additionalProperties: false,
    required: ['cursor', 'tokens', 'clients'],
    properties: {
      cursor: { type: 'string' },
      tokens: { type: 'array', items: { type: 'object', additionalProperties: false, properties: { jti: { type: 'string' }, exp: { type: 'integer' } } } },
      clients: {
        type: 'array',
        items: { type: 'object', additionalProperties: false, properties: { client_id: { type: 'string' }, issued_before: { type: 'integer' }, exp: { type: 'integer' } } },
      },
    },
  },
} as const

const seconds = (d: Date) => Math.floor(d.getTime() / 1000)
const encodeCursor = (d: Date) => Buffer.from(String(d.getTime())).toString('base64url')
function decodeCursor(cursor: string): Date {
  const ms = Number(Buffer.from(cursor, 'base64url').toString())
  if (!/^[\w-]{1,24}$/.test(cursor) || !Number.isSafeInteger(ms) || ms < 0) throw new InvalidRequest('cursor is not one this server issued')
  return new Date(ms)
}

const introspectionResponse = {
  200: {
    type: 'object',
    additionalProperties: false,
    required: ['active'],
    properties: {
      active: { type: 'boolean' },
      token_type: { type: 'string' },
      scope: { type: 'string' },
      client_id: { type: 'string' },
      sub: { type: 'string' },
      aud: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
      iss: { type: 'string' },
      exp: { type: 'integer' },
      iat: { type: 'integer' },
      jti: { type: 'string' },
      account_id: { type: 'string' },
      client_level: { type: 'string' },
    },
  },
} as const

/** Both endpoints answer only a client of the token's own account (RFC 7662 §2.1, RFC 7009 §2.1). */
async function authenticatedCaller(deps: IntrospectRevokeDeps, request: FastifyRequest, form: FormParams): Promise<{ caller: ClientCredential; token: string }> {
  const caller = await authenticateClient(deps.auth, readOAuth2Credentials(request, form), request.ip)
  assertClientMayAct(caller)
  if (form.token === undefined || form.token === '') throw new InvalidRequest('token is required')
  return { caller, token: form.token }
}

export async function introspectRevokeRoutes(app: FastifyInstance, deps: IntrospectRevokeDeps): Promise<void> {
  app.post('/oauth2/introspect', {
    config: { errorFormat: 'oauth' }, onRequest: acceptFormOnly, schema: { response: introspectionResponse },
  }, async (request, reply) => {
    const { caller, token } = await authenticatedCaller(deps, request, (request.body ?? {}) as FormParams)
    reply.header('cache-control', 'no-store')
    return introspectToken(deps.tokens, caller, token)
  })

  // A feed of the caller's account's revocations, for verifiers that check tokens offline.
  app.get('/oauth2/revocations', { config: { errorFormat: 'oauth' }, schema: { response: feedResponse } }, async (request, reply) => {
    const caller = await authenticateClient(deps.auth, readOAuth2Credentials(request, {}), request.ip)
    assertClientMayAct(caller)
    const query = request.query as Record<string, unknown>
    // As on the token endpoints, a repeated parameter is ambiguous, not "the first one wins".
    if (Array.isArray(query.cursor)) throw new InvalidRequest('cursor must be given at most once')
    const cursor = typeof query.cursor === 'string' && query.cursor !== '' ? decodeCursor(query.cursor) : undefined
    const feed = await deps.feed(caller.client.accountId, cursor)
    reply.header('cache-control', 'no-store')
    return {
      cursor: encodeCursor(feed.cursor),
      tokens: feed.tokens.map((t) => ({ jti: t.jti, exp: seconds(t.exp) })),
      clients: feed.clients.map((c) => ({ client_id: c.clientId, issued_before: seconds(c.issuedBefore), exp: seconds(c.exp) })),
    }
  })

  app.post('/oauth2/revoke', { config: { errorFormat: 'oauth' }, onRequest: acceptFormOnly }, async (request, reply) => {
    const { caller, token } = await authenticatedCaller(deps, request, (request.body ?? {}) as FormParams)
    const revoked = await revokeAccessToken(deps.tokens, caller, token)
    request.log.info({ callerClientId: caller.keyPair.id, revoked }, 'token revocation requested')
    return reply.status(200).header('cache-control', 'no-store').send()
  })
}
