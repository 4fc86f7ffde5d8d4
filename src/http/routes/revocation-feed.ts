import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { InvalidRequest } from '../../oauth/errors.js'
import { authenticateCallingClient } from '../calling-client.js'
import { refuseRepeatedQueryParameter, throwIfInvalid } from '../query-parameters.js'
import { oauthErrorResponses } from '../schemas/errors.js'
import { RevocationFeed, RevocationFeedQuery } from '../schemas/oauth.js'
import { jsonResponse, refTo } from '../schemas/schema-helpers.js'
import type { TokenStateEndpointDeps } from './token-state-deps.js'

const seconds = (d: Date) => Math.floor(d.getTime() / 1000)
const encodeCursor = (d: Date) => Buffer.from(String(d.getTime())).toString('base64url')
function decodeCursor(cursor: string): Date {
  const ms = Number(Buffer.from(cursor, 'base64url').toString())
  if (!/^[\w-]{1,24}$/.test(cursor) || !Number.isSafeInteger(ms) || ms < 0) throw new InvalidRequest('cursor is not one this server issued')
  return new Date(ms)
}

/** A feed of the caller's account's revocations, for verifiers that check tokens offline. */
export async function revocationFeedRoutes(fastify: FastifyInstance, deps: TokenStateEndpointDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/oauth2/revocations', {
    config: { errorFormat: 'oauth' },
    // The client is authenticated before its query is judged (see the handler).
    attachValidation: true,
    schema: {
      operationId: 'listRevocations',
      summary: "Read the account's revocations",
      description: "A feed for verifiers that check tokens offline (`keymint/verify`): revoked tokens, and key pairs whose tokens issued until a time must be refused. Without `cursor`: everything still relevant; with the previous answer's `cursor`: the changes since. HTTP Basic as a client of the account.",
      tags: ['oauth2'],
      security: [{ clientBasic: [] }],
      querystring: RevocationFeedQuery,
      response: {
        200: jsonResponse('The revocations.', refTo(RevocationFeed), {
          cursor: 'MTc2NzIyMjAwMDAwMA',
          tokens: [{ jti: '1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9', exp: 1767225600 }],
          clients: [{ client_id: 'c7d05e3a-1f9b-4e26-8a4c-5b3f6d2e1a90', issued_before: 1767222000, exp: 1767308400 }],
        }),
        ...oauthErrorResponses,
      },
    },
  }, async (request, reply) => {
    // Only HTTP Basic: a GET has no body to carry client_secret or a client assertion.
    const caller = await authenticateCallingClient(deps.auth, request, {})
    refuseRepeatedQueryParameter(request, 'cursor', 'cursor must be given at most once')
    throwIfInvalid(request)
    const { cursor } = request.query
    const feed = await deps.feed(caller.client.accountId, cursor === undefined || cursor === '' ? undefined : decodeCursor(cursor))
    reply.header('cache-control', 'no-store')
    return {
      cursor: encodeCursor(feed.cursor),
      tokens: feed.tokens.map((t) => ({ jti: t.jti, exp: seconds(t.exp) })),
      // `client_id` on the wire is a key pair's id.
      clients: feed.keyPairs.map((k) => ({ client_id: k.keyPairId, issued_before: seconds(k.issuedBefore), exp: seconds(k.exp) })),
    }
  })
}
