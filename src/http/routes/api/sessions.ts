import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { presentAccount, presentUser } from '../../../contract/dto.js'
import { csrfTokenFor, hashSessionId } from '../../../crypto/session-ids.js'
import { Forbidden } from '../../../domain/errors.js'
import { endAllSessions, endOwnSession, endSession, listOwnSessions, signIn, SignInRefused, type OpenedSession, type SignedIn } from '../../../domain/sessions.js'
import { SecondFactorRequired } from '../../../domain/second-factor.js'
import { TooManyAttempts } from '../../../oauth/errors.js'
import { isSameOrigin, sessionOf } from '../../api-auth.js'
import { problemResponses } from '../../schemas/errors.js'
import { itemsOf } from '../../schemas/management.js'
import { jsonResponse } from '../../schemas/schema-helpers.js'
import { exampleSessionInfo, exampleSignedIn, SessionIdParams, SessionInfo, SignedIn as SignedInBody, SignInBody } from '../../schemas/sessions.js'
import { clearSessionCookie, setSessionCookie } from '../../session-cookie.js'
import type { ManagementDeps } from './management-deps.js'

const noContent = { description: 'Done.', type: 'null' } as const

/** The session's answer: the cookie is set on the reply, the CSRF token goes in the body. */
export function answerSignedIn(reply: FastifyReply, deps: ManagementDeps, signedIn: OpenedSession, restrictions: { passwordChangeRequired: boolean; secondFactorEnrollmentRequired: boolean }) {
  setSessionCookie(reply, deps.signIn.cookie, signedIn.sessionId, signedIn.session.expiresAt)
  return {
    csrf_token: csrfTokenFor(signedIn.sessionId),
    user: presentUser(signedIn.user),
    account: presentAccount(signedIn.account),
    expires_at: signedIn.session.expiresAt.toISOString(),
    password_change_required: restrictions.passwordChangeRequired,
    second_factor_enrollment_required: restrictions.secondFactorEnrollmentRequired,
  }
}

const userAgentOf = (request: FastifyRequest): string => request.headers['user-agent'] ?? ''

/** DESIGN §3: sign-in, who is signed in, sign-out, sign-out everywhere, one's own sessions. */
export async function sessionRoutes(fastify: FastifyInstance, deps: ManagementDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const policy = deps.signIn.policy

  app.post('/sessions', {
    config: { callers: 'anyone' },
    schema: {
      operationId: 'signIn',
      summary: 'Sign in',
      description: 'Checks an email and password (and the second factor, once on) and opens a session: the cookie in `Set-Cookie`, the CSRF token in the body. An unknown email and a wrong password get the same answer; repeated failures get `429` with `Retry-After`.',
      tags: ['sessions'],
      body: SignInBody,
      response: { 201: jsonResponse('Signed in.', SignedInBody, exampleSignedIn), ...problemResponses },
    },
  }, async (request, reply) => {
    // Login CSRF: a foreign page must not sign a browser in to an account of its choosing.
    if (request.headers.origin !== undefined && !isSameOrigin(request, request.server.issuer())) {
      throw new Forbidden('KEYMINT_CSRF_CHECK_FAILED', 'sign-in from another site is refused')
    }
    const { email, password, otp } = request.body
    const address = request.ip
    const verdict = deps.signIn.throttle.begin(address, email)
    if (verdict.action === 'refuse') throw new TooManyAttempts('too many failed sign-ins; try again later', verdict.retryAfterSeconds)
    let signedIn: SignedIn
    try {
      signedIn = await signIn(deps, { email, password, ...(otp === undefined ? {} : { otp }), address, userAgent: userAgentOf(request), policy })
    } catch (err) {
      // The password was right: asking for the second factor is not a failure.
      if (err instanceof SecondFactorRequired) verdict.attempt.uncount()
      if (err instanceof SignInRefused) {
        deps.signIn.refused({ subject: 'user', clientId: err.user?.id ?? email, accountId: err.user?.accountId ?? null, address, reason: err.reason })
      }
      throw err
    }
    verdict.attempt.succeeded()
    // A sign-in replaces the session this browser had.
    const previous = request.cookies[deps.signIn.cookie.name]
    if (previous) await endSession(deps, { idHash: hashSessionId(previous), user: signedIn.user })
    reply.header('cache-control', 'no-store')
    return reply.status(201).send(answerSignedIn(reply, deps, signedIn, signedIn))
  })

  app.get('/sessions/current', {
    config: { callers: 'session', whileRestricted: true },
    schema: {
      operationId: 'getCurrentSession',
      summary: 'Who is signed in',
      description: "The signed-in user (with role) and account (with plan), and the session's CSRF token again, for a page that was reloaded.",
      tags: ['sessions'],
      response: { 200: jsonResponse('The session.', SignedInBody, exampleSignedIn), ...problemResponses },
    },
  }, async (request) => {
    const current = sessionOf(request)
    return {
      csrf_token: csrfTokenFor(current.sessionId),
      user: presentUser(current.user),
      account: presentAccount(current.account),
      expires_at: current.session.expiresAt.toISOString(),
      password_change_required: current.passwordChangeRequired,
      second_factor_enrollment_required: current.secondFactorEnrollmentRequired,
    }
  })

  app.delete('/sessions/current', {
    config: { callers: 'session', whileRestricted: true },
    schema: {
      operationId: 'signOut',
      summary: 'Sign out',
      description: 'Ends this session and clears its cookie.',
      tags: ['sessions'],
      response: { 204: noContent, ...problemResponses },
    },
  }, async (request, reply) => {
    const current = sessionOf(request)
    await endSession(deps, { idHash: current.session.idHash, user: current.user })
    clearSessionCookie(reply, deps.signIn.cookie)
    return reply.status(204).send(null)
  })

  app.delete('/sessions', {
    config: { callers: 'session', whileRestricted: true },
    schema: {
      operationId: 'signOutEverywhere',
      summary: 'Sign out everywhere',
      description: "Ends every session of the signed-in user, this one included.",
      tags: ['sessions'],
      response: { 204: noContent, ...problemResponses },
    },
  }, async (request, reply) => {
    await endAllSessions(deps, { user: sessionOf(request).user })
    clearSessionCookie(reply, deps.signIn.cookie)
    return reply.status(204).send(null)
  })

  app.get('/sessions', {
    config: { callers: 'session' },
    schema: {
      operationId: 'listSessions',
      summary: 'List my sessions',
      description: "The signed-in user's live sessions, newest first: where and with what they were opened, and when last used.",
      tags: ['sessions'],
      response: { 200: jsonResponse('The sessions.', itemsOf(SessionInfo), { items: [exampleSessionInfo] }), ...problemResponses },
    },
  }, async (request) => {
    const current = sessionOf(request)
    const sessions = await listOwnSessions(deps, { user: current.user })
    return {
      items: sessions.map((s) => ({
        id: s.idHash, created_at: s.createdAt.toISOString(), last_seen_at: s.lastSeenAt.toISOString(), expires_at: s.expiresAt.toISOString(),
        address: s.address, user_agent: s.userAgent, current: s.idHash === current.session.idHash,
      })),
    }
  })

  app.delete('/sessions/:id', {
    config: { callers: 'session' },
    schema: {
      operationId: 'endSession',
      summary: 'End one of my sessions',
      description: 'Ends one of the signed-in user\'s sessions, by its `id` from `listSessions`.',
      tags: ['sessions'],
      params: SessionIdParams,
      response: { 204: noContent, ...problemResponses },
    },
  }, async (request, reply) => {
    const current = sessionOf(request)
    await endOwnSession(deps, { idHash: request.params.id, user: current.user })
    if (request.params.id === current.session.idHash) clearSessionCookie(reply, deps.signIn.cookie)
    return reply.status(204).send(null)
  })
}
