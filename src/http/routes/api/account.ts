import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { getAccount } from '../../../domain/accounts.js'
import { updateAccountSettings } from '../../../domain/account-settings.js'
import { MAX_KEY_EXPIRES_IN, MIN_KEY_EXPIRES_IN } from '../../../domain/key-expiry.js'
import { presentAccount } from '../../../contract/dto.js'
import { callerOf } from '../../api-auth.js'
import { problemResponses } from '../../schemas/errors.js'
import { Account } from '../../schemas/management.js'
import { exampleAccount } from '../../schemas/management-examples.js'
import { jsonResponse, Nullable, refTo } from '../../schemas/schema-helpers.js'
import type { ManagementDeps } from './management-deps.js'

const keyExpiry = (description: string) => Type.Optional(Nullable(Type.Integer({ minimum: MIN_KEY_EXPIRES_IN, maximum: MAX_KEY_EXPIRES_IN, description })))

const AccountChange = Type.Object({
  require_admin_second_factor: Type.Optional(Type.Boolean()),
  default_key_expires_in_seconds: keyExpiry('Lifetime of a new key pair when none is asked for; null: none.'),
  max_key_expires_in_seconds: keyExpiry('Longest lifetime of a new key pair; null: no limit.'),
}, {
  additionalProperties: false, minProperties: 1,
  examples: [{ require_admin_second_factor: true }, { default_key_expires_in_seconds: 7776000, max_key_expires_in_seconds: 31536000 }],
})

/** `GET /account`: the caller's own account. */
export async function accountRoutes(fastify: FastifyInstance, deps: ManagementDeps): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  app.get('/account', {
    schema: {
      operationId: 'getAccount',
      summary: "Read the caller's account",
      description: 'The account the access token belongs to.',
      tags: ['account'],
      response: { 200: jsonResponse('The account.', refTo(Account), exampleAccount), ...problemResponses },
    },
  }, async (request) => presentAccount(await getAccount(deps.store, callerOf(request).accountId)))

  app.patch('/account', {
    config: { requiredScope: 'keymint:admin' },
    schema: {
      operationId: 'updateAccount',
      summary: "Change the caller's account settings",
      description: "Whether every admin must sign in with a second factor; how long the account's new key pairs live by default and at most (null: no default, no limit). Fields left out stay as they are; a default longer than the maximum is refused. Settings apply to key pairs issued from then on.",
      tags: ['account'],
      body: AccountChange,
      response: { 200: jsonResponse('The account.', refTo(Account), { ...exampleAccount, require_admin_second_factor: true }), ...problemResponses },
    },
  }, async (request) => {
    const caller = callerOf(request)
    const b = request.body
    return presentAccount(await updateAccountSettings(deps, {
      accountId: caller.accountId, actor: caller.actor, authority: caller,
      ...(b.require_admin_second_factor === undefined ? {} : { requireAdminSecondFactor: b.require_admin_second_factor }),
      ...(b.default_key_expires_in_seconds === undefined ? {} : { defaultKeyExpiresIn: b.default_key_expires_in_seconds }),
      ...(b.max_key_expires_in_seconds === undefined ? {} : { maxKeyExpiresIn: b.max_key_expires_in_seconds }),
    }))
  })
}
