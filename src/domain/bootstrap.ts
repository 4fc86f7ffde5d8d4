import { createAccount } from './accounts.js'
import type { Clock, Store } from './ports.js'
import type { Account, User } from './types.js'
import { createUser } from './users.js'

export interface BootstrapInput {
  readonly accountName: string
  readonly adminEmail: string
}

/**
 * On an empty database, creates an enterprise account and its first admin so a new
 * installation is usable at once. Returns undefined when accounts already exist.
 */
export async function bootstrapIfEmpty(
  deps: { store: Store; clock: Clock },
  input: BootstrapInput,
): Promise<{ account: Account; admin: User } | undefined> {
  return deps.store.transaction(async (tx) => {
    if ((await tx.accounts.count()) > 0) return undefined
    const stores = { store: tx, clock: deps.clock }
    const account = await createAccount(stores, { name: input.accountName, plan: 'enterprise' })
    const admin = await createUser(stores, {
      accountId: account.id, email: input.adminEmail, role: 'admin', permissions: ['ui', 'api'],
    })
    return { account, admin }
  }, { lock: 'keymint:bootstrap' })
}
