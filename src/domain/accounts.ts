import { randomUUID } from 'node:crypto'
import { Forbidden, NotFound } from './errors.js'
import { auditEvent, DEFAULT_ACTOR } from './audit.js'
import type { AccountStore, Clock, Store } from './ports.js'
import type { Account, AccountId } from './types.js'
import { requireName, requirePlan, requireUuid } from './validation.js'

export interface NewAccountInput {
  readonly name: string
  readonly plan?: string
  readonly actor?: string
}

export async function createAccount(deps: { store: Store; clock: Clock }, input: NewAccountInput): Promise<Account> {
  const account: Account = {
    id: randomUUID() as AccountId,
    name: requireName(input.name, 'account name'),
    plan: requirePlan(input.plan ?? 'enterprise'),
    createdAt: deps.clock.now(),
    requireAdminSecondFactor: false,
    defaultKeyExpiresIn: null,
    maxKeyExpiresIn: null,
  }
  return deps.store.transaction(async (tx) => {
    await tx.accounts.insert(account)
    await tx.audit.insert([auditEvent({
      accountId: account.id, actor: input.actor ?? DEFAULT_ACTOR, action: 'account.created', target: account.id,
      details: { plan: account.plan }, createdAt: account.createdAt,
    })])
    return account
  })
}

export async function getAccount(deps: { accounts: AccountStore }, id: string): Promise<Account> {
  const account = await deps.accounts.findById(requireUuid<AccountId>(id, 'account id'))
  if (!account) throw new NotFound('KEYMINT_ACCOUNT_NOT_FOUND', `account ${id} not found`)
  return account
}

/** Every account: what an operator with database access may see (the API shows a caller its own). */
export async function listAccounts(deps: { store: Pick<Store, 'accounts'> }): Promise<Account[]> {
  return deps.store.accounts.listAll()
}

/** Only enterprise accounts may hold key pairs (second seed: "available only to ... enterprise accounts"). */
export function assertPlanAllowsKeyPairs(account: Account): void {
  if (account.plan !== 'enterprise') {
    throw new Forbidden(
      'KEYMINT_PLAN_FORBIDS_KEY_PAIRS',
      `account ${account.id} is on the ${account.plan} plan; only enterprise accounts may hold key pairs`,
    )
  }
}
