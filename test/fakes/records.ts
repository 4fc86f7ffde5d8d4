import type { NewKeyPair } from '../../src/domain/ports.js'
import type { Account, AccountId, Api, ApiId, Client, ClientId, KeyPairId, User, UserId } from '../../src/domain/types.js'

// Plain records for store-level tests: fixed ids and times, every field spelled out once.

/** A well-formed UUID (v4 shape) numbered `n`, so tests read as "user 3", "client 7". */
export const uuid = <T extends string>(n: number): T => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}` as T

export const at = (seconds: number): Date => new Date(Date.UTC(2030, 0, 1) + seconds * 1000)

export const account = (n: number, extra: Partial<Account> = {}): Account => ({
  id: uuid<AccountId>(n), name: `account ${n}`, plan: 'enterprise', createdAt: at(0), requireAdminSecondFactor: false,
  defaultKeyExpiresIn: null, maxKeyExpiresIn: null, ...extra,
})

export const user = (n: number, accountId: AccountId, extra: Partial<User> = {}): User => ({
  id: uuid<UserId>(n), accountId, email: `user${n}@example.com`, role: 'member', permissions: ['api', 'ui'], scopes: [],
  disabled: false, createdAt: at(0), updatedAt: at(0), tokensCutOffAt: null, ...extra,
})

export const client = (n: number, accountId: AccountId, extra: Partial<Client> = {}): Client => ({
  id: uuid<ClientId>(n), accountId, name: `client ${n}`, level: 'subscription', userId: null, scopes: null, lifetimeSeconds: null,
  tokenEncryption: null, publicJwk: null, signingAlg: null, secretAuth: true, requireDPoP: false, disabled: false, tokensCutOffAt: null, createdAt: at(0),
  rateLimit: null, quota: null, quotaMode: 'enforce', ...extra,
})

export const keyPair = (n: number, clientId: ClientId, extra: Partial<NewKeyPair> = {}): NewKeyPair => ({
  id: uuid<KeyPairId>(n), clientId, secretHash: Buffer.alloc(32, n), hashKeyId: 'hash-key-1', createdAt: at(0), expiresAt: null, revokedAt: null,
  lifetimeEndsAt: null, ...extra,
})

export const api = (n: number, accountId: AccountId, extra: Partial<Api> = {}): Api => ({
  id: uuid<ApiId>(n), accountId, identifier: `https://api${n}.example.com`, name: `api ${n}`, encryption: null, createdAt: at(0), ...extra,
})
