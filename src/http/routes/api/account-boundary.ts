import { NotFound } from '../../../domain/errors.js'
import type { AccountId } from '../../../domain/types.js'
import type { ApiCaller } from '../../api-auth.js'

/** Anything of another account is reported as not found: its existence is not the caller's business. */
export function ownedByCaller<T extends { accountId: AccountId }>(caller: ApiCaller, record: T, what: 'user' | 'client'): T {
  if (record.accountId !== caller.accountId) {
    throw new NotFound(what === 'user' ? 'KEYMINT_USER_NOT_FOUND' : 'KEYMINT_CLIENT_NOT_FOUND', `${what} not found`)
  }
  return record
}
