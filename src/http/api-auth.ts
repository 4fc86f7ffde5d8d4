import type { FastifyRequest } from 'fastify'
import type { UserStore } from '../domain/ports.js'
import type { AccountId, UserId } from '../domain/types.js'
import { InsufficientScope, InvalidToken } from '../oauth/errors.js'
import { activeToken, type TokenStateDeps } from '../oauth/introspection.js'

/** Who is calling the management API, as established from a keymint access token. */
export interface ApiCaller {
  readonly accountId: AccountId
  /** `user:<id>` or `client:<client_id>` (a key pair's id, as presented), as audit events name it. */
  readonly actor: string
  readonly scopes: ReadonlySet<string>
}

declare module 'fastify' {
  interface FastifyRequest {
    apiCaller: ApiCaller | null
  }
  interface FastifyContextConfig {
    /** The scope a management route needs; `keymint:admin` grants every one. */
    requiredScope?: ApiScope
  }
}

export const API_SCOPES = [
  'keymint:admin', 'keymint:users:read', 'keymint:users:write', 'keymint:clients:read', 'keymint:clients:write',
  'keymint:keys:write', 'keymint:apis:read', 'keymint:apis:write', 'keymint:audit:read',
] as const
export type ApiScope = (typeof API_SCOPES)[number]

export interface ApiAuthDeps {
  readonly tokens: TokenStateDeps
  readonly users: UserStore
  readonly issuer: () => string
}

/**
 * keymint's API is its own first protected API: a bearer token keymint issued, for keymint
 * itself (`aud` = the issuer), carrying `keymint:` scopes. User-level callers must be admins.
 */
export function createApiAuthenticator(deps: ApiAuthDeps) {
  return async function authenticateApiCall(request: FastifyRequest): Promise<void> {
    const header = request.headers.authorization
    const match = header === undefined ? null : /^Bearer ([\w.~+/-]+=*)$/i.exec(header.trim())
    if (!match?.[1]) throw new InvalidToken('a keymint access token is required: Authorization: Bearer <token>')
    const active = await activeToken(deps.tokens, match[1])
    if (!active) throw new InvalidToken('the access token is invalid, expired or revoked')
    const { claims, issuedTo } = active
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
    if (!aud.includes(deps.issuer())) throw new InvalidToken("the access token is not for keymint's API")
    const scopes = new Set(typeof claims.scope === 'string' ? claims.scope.split(' ') : [])
    const required = request.routeOptions.config.requiredScope
    if (required && !scopes.has('keymint:admin') && !scopes.has(required)) {
      throw new InsufficientScope(`this call needs the ${required} scope`)
    }
    const keyPairId = issuedTo.keyPair.id
    let actor = `client:${keyPairId}`
    if (issuedTo.client.level === 'user') {
      const user = issuedTo.user && await deps.users.findById(issuedTo.user.id as UserId)
      // Only admins manage an account (second seed: "available only to admin users").
      if (!user || user.role !== 'admin') throw new InsufficientScope('only admins of the account may use its API')
      actor = `user:${user.id}`
    }
    request.apiCaller = { accountId: claims.account_id as AccountId, actor, scopes }
  }
}

export function callerOf(request: FastifyRequest): ApiCaller {
  if (!request.apiCaller) throw new InvalidToken('not authenticated')
  return request.apiCaller
}
