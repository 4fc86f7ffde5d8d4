import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { InvalidInput } from '../../../domain/errors.js'
import {
  beginTotpEnrollment, confirmTotpEnrollment, disableTotp, OtpRefused, regenerateRecoveryCodes, secondFactorState,
} from '../../../domain/second-factor.js'
import { TooManyAttempts } from '../../../oauth/errors.js'
import { sessionOf } from '../../api-auth.js'
import { problemResponses } from '../../schemas/errors.js'
import { jsonResponse } from '../../schemas/schema-helpers.js'
import type { ManagementDeps } from './management-deps.js'

const Otp = Type.String({ minLength: 1, maxLength: 32, description: 'A 6-digit code from the authenticator app, or a recovery code.' })
const OtpBody = Type.Object({ otp: Otp }, { additionalProperties: false, examples: [{ otp: '492039' }] })

const State = Type.Object({
  enabled: Type.Boolean(),
  enabled_at: Type.Union([Type.String(), Type.Null()]),
  recovery_codes_left: Type.Integer(),
  enrollment_required: Type.Boolean({ description: 'The account requires a second factor of admins and this one has none.' }),
}, { additionalProperties: false })

const Enrollment = Type.Object({
  secret: Type.String({ description: 'The base32 TOTP secret, for typing into an app by hand.' }),
  otpauth_uri: Type.String({ description: 'The same as an `otpauth://totp/…` URI, for a QR code.' }),
}, { additionalProperties: false })

const RecoveryCodes = Type.Object({
  recovery_codes: Type.Array(Type.String(), { description: 'Ten single-use codes, shown this once; each stands in for a code from the app.' }),
}, { additionalProperties: false })

const EXAMPLE_CODES = ['7KQ4-M2XD-9PWE', 'HC3N-8RJT-4VAF']
const noContent = { description: 'Done.', type: 'null' } as const

/** The signed-in person's second factor: TOTP (RFC 6238) with recovery codes. */
export async function secondFactorRoutes(fastify: FastifyInstance, deps: ManagementDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const issuerName = () => new URL(fastify.issuer()).host

  /** Codes guessed by a signed-in session are throttled like passwords; a wrong one is a 400, not a sign-out. */
  async function withCode<T>(request: FastifyRequest, run: () => Promise<T>): Promise<T> {
    const verdict = deps.signIn.throttle.begin(request.ip, sessionOf(request).user.email)
    if (verdict.action === 'refuse') throw new TooManyAttempts('too many wrong codes; try again later', verdict.retryAfterSeconds)
    try {
      const result = await run()
      verdict.attempt.succeeded()
      return result
    } catch (err) {
      if (err instanceof OtpRefused) throw new InvalidInput('KEYMINT_OTP_INVALID', err.message, { cause: err })
      throw err
    }
  }

  app.get('/me/second-factor', {
    config: { callers: 'session', whileRestricted: true },
    schema: {
      operationId: 'getMySecondFactor',
      summary: 'Show my second factor',
      description: 'Whether a second factor is on, how many recovery codes are left, and whether the account requires one of this admin.',
      tags: ['me'],
      response: { 200: jsonResponse('The state.', State, { enabled: true, enabled_at: '2025-01-15T09:30:00.000Z', recovery_codes_left: 9, enrollment_required: false }), ...problemResponses },
    },
  }, async (request) => {
    const state = await secondFactorState(deps, { user: sessionOf(request).user })
    return { enabled: state.enabled, enabled_at: state.enabledAt?.toISOString() ?? null, recovery_codes_left: state.recoveryCodesLeft, enrollment_required: state.enrollmentRequired }
  })

  app.post('/me/second-factor', {
    config: { callers: 'session', whileRestricted: true },
    schema: {
      operationId: 'beginSecondFactor',
      summary: 'Start setting up TOTP',
      description: 'A new TOTP secret and its `otpauth://` URI for an authenticator app. Nothing changes at sign-in until `confirmSecondFactor` gets a first code from the app.',
      tags: ['me'],
      response: { 201: jsonResponse('The secret.', Enrollment, { secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', otpauth_uri: 'otpauth://totp/keymint.example.com:admin%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=keymint.example.com&algorithm=SHA1&digits=6&period=30' }), ...problemResponses },
    },
  }, async (request, reply) => {
    const started = await beginTotpEnrollment(deps, { user: sessionOf(request).user, issuer: issuerName() })
    reply.header('cache-control', 'no-store')
    return reply.status(201).send({ secret: started.secret, otpauth_uri: started.otpauthUri })
  })

  app.post('/me/second-factor/confirm', {
    config: { callers: 'session', whileRestricted: true },
    schema: {
      operationId: 'confirmSecondFactor',
      summary: 'Turn TOTP on',
      description: 'Turns the second factor on with a first code from the app, and answers ten recovery codes, shown this once.',
      tags: ['me'],
      body: Type.Object({ otp: Type.String({ minLength: 6, maxLength: 6, pattern: '^[0-9]{6}$' }) }, { additionalProperties: false }),
      response: { 200: jsonResponse('The recovery codes.', RecoveryCodes, { recovery_codes: EXAMPLE_CODES }), ...problemResponses },
    },
  }, async (request) => {
    const { recoveryCodes } = await withCode(request, () => confirmTotpEnrollment(deps, { user: sessionOf(request).user, code: request.body.otp }))
    return { recovery_codes: recoveryCodes }
  })

  app.post('/me/recovery-codes', {
    config: { callers: 'session' },
    schema: {
      operationId: 'regenerateRecoveryCodes',
      summary: 'New recovery codes',
      description: 'Ten new recovery codes in place of the old ones, for a current code; shown this once.',
      tags: ['me'],
      body: OtpBody,
      response: { 200: jsonResponse('The recovery codes.', RecoveryCodes, { recovery_codes: EXAMPLE_CODES }), ...problemResponses },
    },
  }, async (request) => {
    const { recoveryCodes } = await withCode(request, () => regenerateRecoveryCodes(deps, { user: sessionOf(request).user, otp: request.body.otp }))
    return { recovery_codes: recoveryCodes }
  })

  app.delete('/me/second-factor', {
    config: { callers: 'session' },
    schema: {
      operationId: 'disableSecondFactor',
      summary: 'Turn TOTP off',
      description: 'Turns the second factor off, for a current code. Refused to an admin of an account that requires one.',
      tags: ['me'],
      body: OtpBody,
      response: { 204: noContent, ...problemResponses },
    },
  }, async (request, reply) => {
    await withCode(request, () => disableTotp(deps, { user: sessionOf(request).user, otp: request.body.otp }))
    return reply.status(204).send(null)
  })
}
