import type { FastifyReply, FastifyRequest } from 'fastify'
import { csrfTokenMatches } from '../crypto/session-ids.js'
import { Forbidden, Unauthenticated } from '../domain/errors.js'
import type { UserStore } from '../domain/ports.js'
import type { ResumedSession } from '../domain/sessions.js'
import type { AccountId, User, UserId } from '../domain/types.js'
import { InsufficientScope, InvalidToken } from '../oauth/errors.js'
import { activeToken, type TokenStateDeps } from '../oauth/introspection.js'
import { boundKeyOf } from '../oauth/access-token-verifier.js'
import { clearSessionCookie, type SessionCookie } from './session-cookie.js'

/** Who is calling the management API: from a keymint access token, or from a dashboard session. */
export interface ApiCaller {
  readonly accountId: AccountId
  /** `user:<id>` or `client:<client_id>` (a key pair's id, as presented), as audit events name it. */
  readonly actor: string
  readonly scopes: ReadonlySet<string>
  /** Set when the call came with the session cookie. */
  readonly session?: SessionCaller
}

/** A signed-in person, as a session call establishes them (the cookie's id only ever in memory, to derive the CSRF token). */
export type SessionCaller = ResumedSession & { readonly sessionId: string }

declare module 'fastify' {
  interface FastifyRequest {
    apiCaller: ApiCaller | null
  }
  interface FastifyContextConfig {
    /** The scope a management route needs; `keymint:admin` grants every one. */
    requiredScope?: ApiScope
    /** Who may call: anyone (sign-in itself), only a session (the signed-in person's own things), or both (the default). */
    callers?: 'anyone' | 'session'
    /** Open to a session that must first change its password or enroll a second factor (to do so, or to sign out). */
    whileRestricted?: true
    /** The route is about key pairs: an enterprise feature. */
    keyPairs?: true
  }
}

export const API_SCOPES = [
  'keymint:admin', 'keymint:users:read', 'keymint:users:write', 'keymint:clients:read', 'keymint:clients:write',
  'keymint:keys:write', 'keymint:apis:read', 'keymint:apis:write', 'keymint:audit:read',
] as const
export type ApiScope = (typeof API_SCOPES)[number]

/** DESIGN §3: admins manage their account; members (who may sign in) only read it. */
const SESSION_SCOPES: Readonly<Record<User['role'], readonly ApiScope[]>> = {
  admin: ['keymint:admin'],
  member: ['keymint:users:read', 'keymint:clients:read', 'keymint:apis:read'],
}
const KEY_PAIR_SCOPES: ReadonlySet<string> = new Set(['keymint:clients:read', 'keymint:clients:write', 'keymint:keys:write'])
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export interface ApiAuthDeps {
  readonly tokens: TokenStateDeps
  readonly users: UserStore
  readonly issuer: () => string
  readonly cookie: SessionCookie
  /** The live session behind a cookie's value, or undefined once it ended. */
  readonly resumeSession: (sessionId: string) => Promise<Omit<SessionCaller, 'sessionId'> | undefined>
}

/**
 * keymint's API is its own first protected API. A bearer token keymint issued for keymint itself
 * (`aud` = the issuer) carries `keymint:` scopes; user-level callers must be admins. A dashboard
 * session stands for its user: admins hold every scope, members read; a state-changing call with
 * it must prove it comes from keymint's own pages (`X-CSRF-Token` and a same-origin `Origin`).
 */
export function createApiAuthenticator(deps: ApiAuthDeps) {
  const authenticateBearer = async (request: FastifyRequest, header: string): Promise<ApiCaller> => {
    const match = /^Bearer ([\w.~+/-]+=*)$/i.exec(header.trim())
    if (!match?.[1]) throw new InvalidToken('a keymint access token is required: Authorization: Bearer <token>')
    const active = await activeToken(deps.tokens, match[1])
    if (!active) throw new InvalidToken('the access token is invalid, expired or revoked')
    const { claims, issuedTo } = active
    // RFC 9449 §7.2: a bound token is worth nothing without a proof of its key, and this API takes bearer tokens only.
    if (boundKeyOf(claims) !== undefined) throw new InvalidToken("the access token is DPoP-bound; keymint's API accepts bearer tokens only")
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud]
    if (!aud.includes(deps.issuer())) throw new InvalidToken("the access token is not for keymint's API")
    const scopes = new Set(typeof claims.scope === 'string' ? claims.scope.split(' ') : [])
    const keyPairId = issuedTo.keyPair.id
    request.clientId = keyPairId
    let actor = `client:${keyPairId}`
    if (issuedTo.client.level === 'user') {
      const user = issuedTo.user && await deps.users.findById(issuedTo.user.id as UserId)
      // Only admins manage an account (second seed: "available only to admin users").
      if (!user || user.role !== 'admin') throw new InsufficientScope('only admins of the account may use its API')
      actor = `user:${user.id}`
    }
    return { accountId: claims.account_id as AccountId, actor, scopes }
  }

  const authenticateSession = async (request: FastifyRequest, reply: FastifyReply, sessionId: string): Promise<ApiCaller> => {
    const resumed = await deps.resumeSession(sessionId)
    if (!resumed) {
      clearSessionCookie(reply, deps.cookie)
      throw new Unauthenticated('KEYMINT_SESSION_ENDED', 'the session has ended; sign in again')
    }
    if (!SAFE_METHODS.has(request.method)) checkCsrf(request, sessionId, deps.issuer())
    const config = request.routeOptions.config
    if (resumed.passwordChangeRequired && !config.whileRestricted) {
      throw new Forbidden('KEYMINT_PASSWORD_CHANGE_REQUIRED', 'choose a new password first: POST /api/v1/me/password')
    }
    if (resumed.secondFactorEnrollmentRequired && !config.whileRestricted) {
      throw new Forbidden('KEYMINT_SECOND_FACTOR_REQUIRED', 'this account requires a second factor of admins: set one up first (POST /api/v1/me/second-factor)')
    }
    return { accountId: resumed.user.accountId, actor: `user:${resumed.user.id}`, scopes: new Set(SESSION_SCOPES[resumed.user.role]), session: { ...resumed, sessionId } }
  }

  return async function authenticateApiCall(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const config = request.routeOptions.config
    if (config.callers === 'anyone') return
    const header = request.headers.authorization
    const sessionId = request.cookies[deps.cookie.name]
    let caller: ApiCaller
    // A bearer token wins: scripts that hold one are not subject to a stray cookie's rules.
    if (header !== undefined && config.callers !== 'session') caller = await authenticateBearer(request, header)
    else if (sessionId !== undefined && sessionId !== '') caller = await authenticateSession(request, reply, sessionId)
    else if (config.callers === 'session') throw new Unauthenticated('KEYMINT_SESSION_ENDED', 'sign in first: POST /api/v1/sessions')
    else throw new InvalidToken('a keymint access token or a dashboard session is required')

    const required = config.requiredScope
    if (required && !caller.scopes.has('keymint:admin') && !caller.scopes.has(required)) {
      throw new InsufficientScope(`this call needs the ${required} scope`)
    }
    const account = caller.session?.account
    if (account && account.plan !== 'enterprise' && (config.keyPairs || (required && KEY_PAIR_SCOPES.has(required)))) {
      throw new Forbidden('KEYMINT_PLAN_FORBIDS_KEY_PAIRS', `key pairs are an enterprise feature; account ${account.id} is on the ${account.plan} plan`)
    }
    request.apiCaller = caller
  }
}

/** Cookies ride along on cross-site requests; a token only keymint's own pages know, and their Origin, do not. */
function checkCsrf(request: FastifyRequest, sessionId: string, issuer: string): void {
  const presented = request.headers['x-csrf-token']
  if (typeof presented !== 'string' || !csrfTokenMatches(sessionId, presented)) {
    throw new Forbidden('KEYMINT_CSRF_CHECK_FAILED', 'a request made with the session cookie needs its X-CSRF-Token header (from sign-in or GET /api/v1/sessions/current)')
  }
  if (!isSameOrigin(request, issuer)) {
    throw new Forbidden('KEYMINT_CSRF_CHECK_FAILED', "a request made with the session cookie needs an Origin header naming this server")
  }
}

/** The Origin is keymint's issuer, or the very host the request was sent to. */
export function isSameOrigin(request: FastifyRequest, issuer: string): boolean {
  const origin = request.headers.origin
  if (typeof origin !== 'string' || origin === 'null') return false
  return origin === new URL(issuer).origin || origin === `${request.protocol}://${request.host}`
}

export function callerOf(request: FastifyRequest): ApiCaller {
  if (!request.apiCaller) throw new InvalidToken('not authenticated')
  return request.apiCaller
}

/** The signed-in person of a session-only route. */
export function sessionOf(request: FastifyRequest): SessionCaller {
  const session = request.apiCaller?.session
  if (!session) throw new Unauthenticated('KEYMINT_SESSION_ENDED', 'sign in first: POST /api/v1/sessions')
  return session
}
