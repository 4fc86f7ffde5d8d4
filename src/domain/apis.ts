import { randomUUID } from 'node:crypto'
import { getAccount } from './accounts.js'
import { auditEvent, DEFAULT_ACTOR } from './audit.js'
import { InvalidInput } from './errors.js'
import type { Clock, Store } from './ports.js'
import type { Api, ApiId } from './types.js'
import { requireName } from './validation.js'

/** RFC 8707 §2: a resource is an absolute URI without a fragment. */
export function isResourceIdentifier(value: string): boolean {
  if (value.length === 0 || value.length > 2048 || value.includes('#')) return false
  try {
    return new URL(value).protocol.length > 1
  } catch {
    return false
  }
}

export async function createApi(
  deps: { store: Store; clock: Clock },
  input: { accountId: string; identifier: string; name?: string; actor?: string },
): Promise<Api> {
  if (!isResourceIdentifier(input.identifier)) {
    throw new InvalidInput('KEYMINT_INVALID_INPUT', 'an API identifier must be an absolute URI without a fragment, e.g. https://api.example.com')
  }
  const name = requireName(input.name ?? input.identifier, 'API name')
  return deps.store.transaction(async (tx) => {
    const account = await getAccount(tx, input.accountId)
    const api = await tx.apis.insert({ id: randomUUID() as ApiId, accountId: account.id, identifier: input.identifier, name, createdAt: deps.clock.now() })
    await tx.audit.insert([auditEvent({
      accountId: account.id, actor: input.actor ?? DEFAULT_ACTOR, action: 'api.created', target: api.id, details: { identifier: api.identifier }, createdAt: api.createdAt,
    })])
    return api
  })
}

export async function listApis(deps: { store: Store }, input: { accountId: string }): Promise<Api[]> {
  const account = await getAccount(deps.store, input.accountId)
  return deps.store.apis.listByAccount(account.id)
}
