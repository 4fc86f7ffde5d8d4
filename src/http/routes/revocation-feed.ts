import type { FastifyInstance } from 'fastify'
import { InvalidRequest } from '../../oauth/errors.js'
import { authenticateCallingClient } from '../calling-client.js'
import type { TokenStateEndpointDeps } from './token-state-deps.js'

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

/** A feed of the caller's account's revocations, for verifiers that check tokens offline. */
export async function revocationFeedRoutes(app: FastifyInstance, deps: TokenStateEndpointDeps): Promise<void> {
  app.get('/oauth2/revocations', { config: { errorFormat: 'oauth' }, schema: { response: feedResponse } }, async (request, reply) => {
    // Only HTTP Basic: a GET has no body to carry client_secret or a client assertion.
    const caller = await authenticateCallingClient(deps.auth, request, {})
    const query = request.query as Record<string, unknown>
    // As on the token endpoints, a repeated parameter is ambiguous, not "the first one wins".
    if (Array.isArray(query.cursor)) throw new InvalidRequest('cursor must be given at most once')
    const cursor = typeof query.cursor === 'string' && query.cursor !== '' ? decodeCursor(query.cursor) : undefined
    const feed = await deps.feed(caller.client.accountId, cursor)
    reply.header('cache-control', 'no-store')
    return {
      cursor: encodeCursor(feed.cursor),
      tokens: feed.tokens.map((t) => ({ jti: t.jti, exp: seconds(t.exp) })),
      // `client_id` on the wire is a key pair's id.
      clients: feed.keyPairs.map((k) => ({ client_id: k.keyPairId, issued_before: seconds(k.issuedBefore), exp: seconds(k.exp) })),
    }
  })
}
