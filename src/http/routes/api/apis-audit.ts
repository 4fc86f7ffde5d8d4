import type { FastifyInstance } from 'fastify'
import { KEY_MANAGEMENT_ALGS } from '../../../crypto/encryption-public-keys.js'
import { createApi } from '../../../domain/apis.js'
import { InvalidInput } from '../../../domain/errors.js'
import { serverKeyStates } from '../../../domain/server-keys.js'
import { callerOf } from '../../api-auth.js'
import { presentApi, presentAuditEvent, presentServerKey } from '../../../contract/dto.js'
import type { ManagementDeps } from './users-clients.js'
import * as s from './schemas.js'

const api = {
  type: 'object', additionalProperties: false,
  properties: {
    id: { type: 'string' }, account_id: { type: 'string' }, identifier: { type: 'string' }, name: { type: 'string' },
    encryption_kid: { type: ['string', 'null'], description: "RFC 7638 thumbprint of the API's public encryption key: the `kid` of its tokens' JWE header" },
    encryption_alg: { type: ['string', 'null'], enum: [...KEY_MANAGEMENT_ALGS, null] },
    created_at: { type: 'string' },
  },
} as const

const auditEvent = {
  type: 'object', additionalProperties: false,
  properties: {
    id: { type: 'string' }, time: { type: 'string' }, account_id: { type: ['string', 'null'] }, actor: { type: 'string' }, action: { type: 'string' },
    target: { type: ['string', 'null'] }, reason: { type: ['string', 'null'] }, count: { type: 'integer' }, details: { type: 'object', additionalProperties: true },
  },
} as const

/** Cursor for the audit log: the time and id of the last event of the previous page. */
const encodeCursor = (time: Date, id: string) => Buffer.from(JSON.stringify([time.getTime(), id])).toString('base64url')
function decodeCursor(cursor: string): { time: Date; id: string } {
  try {
    const [ms, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [unknown, unknown]
    if (typeof ms === 'number' && Number.isSafeInteger(ms) && typeof id === 'string') return { time: new Date(ms), id }
  } catch {
    // fall through to the error below
  }
  throw new InvalidInput('KEYMINT_INVALID_INPUT', 'cursor is not one this server issued')
}

const serverKey = {
  type: 'object', additionalProperties: false,
  properties: {
    kid: { type: 'string' }, use: { type: 'string' }, alg: { type: 'string' }, state: { type: 'string' },
    created_at: { type: 'string' }, activates_at: { type: 'string' }, retired_at: { type: ['string', 'null'] },
  },
} as const

export async function apiAndAuditRoutes(app: FastifyInstance, deps: ManagementDeps): Promise<void> {
  // Server-wide keys: readable by any account's admin (public material only); rotating them is
  // an operator's job on the command line, since it affects every account.
  app.get('/signing-keys', { config: { requiredScope: 'keymint:admin' }, schema: { tags: ['signing keys'], response: { 200: s.list(serverKey), ...s.errorResponses } } }, async () => {
    const keys = await deps.store.serverKeys.listAll()
    const states = serverKeyStates(keys, deps.clock.now())
    return {
      items: keys.map((k) => presentServerKey(k, states.get(k.kid))),
    }
  })

  app.get('/apis', { config: { requiredScope: 'keymint:apis:read' }, schema: { tags: ['apis'], response: { 200: s.list(api), ...s.errorResponses } } },
    async (request) => ({ items: (await deps.store.apis.listByAccount(callerOf(request).accountId)).map(presentApi) }))

  app.post('/apis', {
    config: { requiredScope: 'keymint:apis:write' },
    schema: {
      tags: ['apis'],
      body: {
        type: 'object', additionalProperties: false, required: ['identifier'],
        properties: {
          identifier: { type: 'string', maxLength: 2048 }, name: { type: 'string', maxLength: 200 },
          encryption_key: { type: 'string', maxLength: 20000, description: "PEM or JWK text of the API's public key: every token for the API is then encrypted to it" },
          encryption_alg: { enum: KEY_MANAGEMENT_ALGS, description: 'default: RSA-OAEP-256 for RSA keys, ECDH-ES for EC and X25519 keys' },
        },
      },
      response: { 201: api, ...s.errorResponses },
    },
  }, async (request, reply) => {
    const caller = callerOf(request)
    const b = request.body as { identifier: string; name?: string; encryption_key?: string; encryption_alg?: string }
    const created = await createApi({ store: deps.store, clock: deps.clock, defaultAudiences: deps.defaultAudiences() }, {
      accountId: caller.accountId, identifier: b.identifier, actor: caller.actor,
      ...(b.name === undefined ? {} : { name: b.name }),
      ...(b.encryption_key === undefined ? {} : { encryptionKey: b.encryption_key }),
      ...(b.encryption_alg === undefined ? {} : { encryptionAlg: b.encryption_alg }),
    })
    return reply.status(201).send(presentApi(created))
  })

  app.get('/audit-events', {
    config: { requiredScope: 'keymint:audit:read' },
    schema: {
      tags: ['audit'],
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { since: { type: 'string', format: 'date-time' }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, cursor: { type: 'string', maxLength: 200 } },
      },
      response: { 200: { type: 'object', additionalProperties: false, properties: { items: { type: 'array', items: auditEvent }, next_cursor: { type: ['string', 'null'] } } }, ...s.errorResponses },
    },
  }, async (request) => {
    const caller = callerOf(request)
    const q = request.query as { since?: string; limit: number; cursor?: string }
    // Newest first; the cursor names the last event shown, the next page starts right after it.
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor)
    const events = await deps.store.audit.list({
      accountId: caller.accountId, limit: q.limit + 1,
      ...(q.since === undefined ? {} : { since: new Date(q.since) }),
      ...(after === undefined ? {} : { after }),
    })
    const page = events.slice(0, q.limit)
    const last = page.at(-1)
    return {
      items: page.map(presentAuditEvent),
      next_cursor: events.length > q.limit && last ? encodeCursor(last.createdAt, last.id) : null,
    }
  })
}
