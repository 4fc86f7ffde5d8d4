import type { FastifyInstance } from 'fastify'
import { serverKeyStates } from '../../../domain/server-keys.js'
import { presentServerKey } from '../../../contract/dto.js'
import type { ManagementDeps } from './management-deps.js'
import * as s from './schemas.js'

const serverKey = {
  type: 'object', additionalProperties: false,
  properties: {
    kid: { type: 'string' }, use: { type: 'string' }, alg: { type: 'string' }, state: { type: 'string' },
    created_at: { type: 'string' }, activates_at: { type: 'string' }, retired_at: { type: ['string', 'null'] },
  },
} as const

/**
 * Server-wide keys: readable by any account's admin (public material only); rotating them is
 * an operator's job on the command line, since it affects every account.
 */
export async function signingKeyRoutes(app: FastifyInstance, deps: ManagementDeps): Promise<void> {
  app.get('/signing-keys', { config: { requiredScope: 'keymint:admin' }, schema: { tags: ['signing keys'], response: { 200: s.list(serverKey), ...s.errorResponses } } }, async () => {
    const keys = await deps.store.serverKeys.listAll()
    const states = serverKeyStates(keys, deps.clock.now())
    return {
      items: keys.map((k) => presentServerKey(k, states.get(k.kid))),
    }
  })
}
