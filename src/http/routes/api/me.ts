import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type, type Static } from 'typebox'
import { presentClient, presentIssuedKeyPair, presentKeyPair } from '../../../contract/dto.js'
import { changeOwnPassword } from '../../../domain/passwords.js'
import { openSession } from '../../../domain/sessions.js'
import { generateOwnKeyPair, showOwnKeyPair } from '../../../domain/own-key-pair.js'
import { TooManyAttempts } from '../../../oauth/errors.js'
import { sessionOf } from '../../api-auth.js'
import { problemResponses } from '../../schemas/errors.js'
import { keyPairId } from '../../schemas/key-pair-id.js'
import { Client, IssuedKeyPair, KeyPair, keyExpiresIn } from '../../schemas/management.js'
import { EXAMPLE_KEY_PAIR_ID, exampleClient, exampleIssuedKeyPair, exampleKeyPair } from '../../schemas/management-examples.js'
import { jsonResponse, refTo } from '../../schemas/schema-helpers.js'
import { exampleSignedIn, SignedIn } from '../../schemas/sessions.js'
import { answerSignedIn } from './sessions.js'
import type { ManagementDeps } from './management-deps.js'

const PasswordChange = Type.Object({
  current_password: Type.String({ minLength: 1, maxLength: 1024 }),
  new_password: Type.String({ minLength: 1, maxLength: 1024, description: 'At least 12 characters, and not a common password.' }),
}, { additionalProperties: false })

const OwnKeyPair = Type.Object({
  client: Type.Unsafe<Static<typeof Client> | null>({ anyOf: [{ $ref: 'Client#' }, { type: 'null' }], description: 'The user-level client acting as the admin; null before the first key pair is generated.' }),
  key_pairs: Type.Array(refTo(KeyPair), { description: 'Its key pairs that still work: the current one, and any in a rotation grace period. With none working, the newest expired one.' }),
}, { additionalProperties: false })

const Generation = Type.Object({
  grace_seconds: Type.Optional(Type.Integer({ minimum: 0, description: 'How long the old key pair keeps working; default 0: it stops now (second seed: "Generating a new key pair revokes access to the old key pair").' })),
  key_expires_in_seconds: Type.Optional(keyExpiresIn("Default: the account's `default_key_expires_in_seconds`.")),
}, { additionalProperties: false, examples: [{}, { grace_seconds: 3600 }, { key_expires_in_seconds: 7776000 }] })

const Generated = Type.Object({
  client: refTo(Client),
  key_pair: refTo(IssuedKeyPair),
  ended: Type.Array(Type.Object({
    client_id: keyPairId('A key pair this generation ended.'),
    ends_at: Type.String({ description: 'When it stops working.' }),
  }, { additionalProperties: false })),
}, { additionalProperties: false })

/** The signed-in person's own password and API key pair. */
export async function meRoutes(fastify: FastifyInstance, deps: ManagementDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.post('/me/password', {
    config: { callers: 'session', whileRestricted: true },
    schema: {
      operationId: 'changeMyPassword',
      summary: 'Change my password',
      description: 'Replaces the signed-in user\'s password after checking the current one. Every session of the user ends; this call answers with a new one (cookie and CSRF token).',
      tags: ['me'],
      body: PasswordChange,
      response: { 200: jsonResponse('The new session.', SignedIn, exampleSignedIn), ...problemResponses },
    },
  }, async (request, reply) => {
    const current = sessionOf(request)
    const verdict = deps.signIn.throttle.begin(request.ip, current.user.email)
    if (verdict.action === 'refuse') throw new TooManyAttempts('too many wrong passwords; try again later', verdict.retryAfterSeconds)
    await changeOwnPassword(deps, { user: current.user, currentPassword: request.body.current_password, newPassword: request.body.new_password })
    verdict.attempt.succeeded()
    const opened = await openSession(deps, { user: current.user, address: request.ip, userAgent: request.headers['user-agent'] ?? '', policy: deps.signIn.policy })
    reply.header('cache-control', 'no-store')
    return answerSignedIn(reply, deps, opened, { passwordChangeRequired: false, secondFactorEnrollmentRequired: current.secondFactorEnrollmentRequired })
  })

  app.get('/me/key-pair', {
    config: { callers: 'session', keyPairs: true },
    schema: {
      operationId: 'getMyKeyPair',
      summary: 'Show my API key pair',
      description: "The signed-in admin's own API key pair: its client and the pairs that still work, when each was made and last used; never a secret. `client` is null before the first is generated.",
      tags: ['me'],
      response: { 200: jsonResponse('The key pair.', OwnKeyPair, { client: exampleClient, key_pairs: [exampleKeyPair] }), ...problemResponses },
    },
  }, async (request) => {
    const shown = await showOwnKeyPair(deps, { user: sessionOf(request).user })
    return { client: shown ? presentClient(shown.client) : null, key_pairs: shown ? shown.keyPairs.map(presentKeyPair) : [] }
  })

  app.post('/me/key-pair', {
    config: { callers: 'session', keyPairs: true },
    schema: {
      operationId: 'generateMyKeyPair',
      summary: 'Generate my API key pair',
      description: "Generates the signed-in admin's new API key pair (a user-level client acting as the admin, made on first use): the `client_id` and `client_secret` are shown in this response only. The old pair stops working at once, or after `grace_seconds`. The body may be left out.",
      tags: ['me'],
      body: Generation,
      response: {
        201: jsonResponse('The new key pair.', Generated, {
          client: { ...exampleClient, level: 'user', user_id: '5e8a1d2c-7b4f-4c39-a0e6-1f2d3c4b5a69', name: 'API key pair of admin@example.com', scopes: null },
          key_pair: { ...exampleIssuedKeyPair, client_id: 'e1f2a3b4-c5d6-4e7f-8a9b-0c1d2e3f4a5b' },
          ended: [{ client_id: EXAMPLE_KEY_PAIR_ID, ends_at: '2025-03-01T08:00:00.000Z' }],
        }),
        ...problemResponses,
      },
    },
  }, async (request, reply) => {
    const { grace_seconds: grace, key_expires_in_seconds: keyExpiresIn } = request.body
    const generated = await generateOwnKeyPair(deps, {
      user: sessionOf(request).user,
      ...(grace === undefined ? {} : { graceSeconds: grace }),
      ...(keyExpiresIn === undefined ? {} : { keyExpiresIn }),
    })
    reply.header('cache-control', 'no-store')
    return reply.status(201).send({
      client: presentClient(generated.client),
      key_pair: presentIssuedKeyPair(generated.keyPair),
      ended: generated.ended.map((e) => ({ client_id: e.id, ends_at: e.endsAt.toISOString() })),
    })
  })
}
