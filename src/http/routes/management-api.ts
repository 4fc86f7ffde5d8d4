import cookie from '@fastify/cookie'
import type { FastifyInstance, onSendHookHandler } from 'fastify'
import { createApiAuthenticator, type ApiAuthDeps } from '../api-auth.js'
import { accountRoutes } from './api/account.js'
import { apiRoutes } from './api/apis.js'
import { auditEventRoutes } from './api/audit-events.js'
import { clientRoutes } from './api/clients.js'
import { federationPolicyRoutes } from './api/federation-policies.js'
import { expiringKeyPairRoutes } from './api/expiring-key-pairs.js'
import { keyPairRoutes } from './api/key-pairs.js'
import { meRoutes } from './api/me.js'
import { rotationPhaseRoutes } from './api/rotation-phases.js'
import { secondFactorRoutes } from './api/second-factor.js'
import { sessionRoutes } from './api/sessions.js'
import type { ManagementDeps } from './api/management-deps.js'
import { signingKeyRoutes } from './api/signing-keys.js'
import { tokenCheckRoutes } from './api/token-checks.js'
import { userRoutes } from './api/users.js'
import { webhookRoutes } from './api/webhooks.js'
import { named } from '../named-plugin.js'

export interface ManagementApiDeps extends ManagementDeps {
  readonly auth: ApiAuthDeps
  readonly version: string
}

const UNDER_API = /^\/api\/v1(?:[/?]|$)/

/**
 * RFC 9111 §5.2.2.5: nothing under /api/v1 (users, clients, new secrets, audit events, and the
 * errors about them) may be kept by a browser or proxy cache. Registered at the root so it also
 * covers what no API route answers: unknown paths, wrong methods, malformed URLs.
 */
export const noStoreUnderApi: onSendHookHandler = (request, reply, payload, done) => {
  if (UNDER_API.test(request.url)) reply.header('cache-control', 'no-store')
  done(null, payload)
}

/** The REST API under /api/v1, protected by keymint's own access tokens or a dashboard session. */
export async function managementApiRoutes(app: FastifyInstance, deps: ManagementApiDeps): Promise<void> {
  app.decorateRequest('apiCaller', null)
  await app.register(named(async function managementApi(api: FastifyInstance) {
    // Cookies are read here only: the token endpoints never look at them.
    await api.register(cookie)
    api.addHook('onRequest', createApiAuthenticator(deps.auth))
    // A request without a body is an empty object: `POST …/key-pairs` needs none, and a route
    // that does need fields says which are missing.
    api.addHook('preValidation', async (request) => {
      if (request.body === undefined && (request.method === 'POST' || request.method === 'PATCH')) request.body = {}
    })
    for (const surface of [sessionRoutes, meRoutes, secondFactorRoutes, accountRoutes, userRoutes, clientRoutes, keyPairRoutes, expiringKeyPairRoutes, rotationPhaseRoutes, signingKeyRoutes, apiRoutes, auditEventRoutes, tokenCheckRoutes, webhookRoutes, federationPolicyRoutes]) {
      await api.register(named(surface), deps)
    }
  }), { prefix: '/api/v1' })
}
