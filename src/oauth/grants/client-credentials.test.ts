import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fakeDeps, type FakeDeps } from '../../../test/fakes/deps.js'
import type { SigningAlg } from '../../crypto/jws.js'
import { createAccount } from '../../domain/accounts.js'
import { createApi } from '../../domain/apis.js'
import { createClient, type NewClientInput } from '../../domain/clients.js'
import type { ClientCredential, KeyPairId, Permission, Role } from '../../domain/types.js'
import { createUser } from '../../domain/users.js'
import { InvalidTarget } from '../errors.js'
import { grantClientCredentials, type ClientCredentialsDeps, type ClientCredentialsRequest } from './client-credentials.js'

const ISSUER = 'https://auth.example.com'
const DEFAULT_AUDIENCE = 'https://tokens.example.com'
const API = 'https://assets.example.com'
const ENCRYPTED_API = 'https://vault.example.com'
const VAULT_KEY = { kid: 'vault-kid', alg: 'ECDH-ES' as const, publicJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' } }

/** The grant's collaborators, in memory: a signer that shows what it signed, encryption that shows to what. */
function grantDeps(deps: FakeDeps) {
  const signed: { alg: SigningAlg | null; claims: Record<string, unknown> }[] = []
  const touched: KeyPairId[] = []
  const grant: ClientCredentialsDeps = {
    signerFor: async (alg) => ({
      sign: (claims) => {
        signed.push({ alg, claims: { ...claims } })
        return `jws(${signed.length})`
      },
    }),
    clock: deps.clock,
    usage: { touch: (id) => touched.push(id) },
    encrypt: async (jws, alg) => `jwe(keymint ${alg}, ${jws})`,
    encryptTo: async (jws, key) => `jwe(${key.kid} ${key.alg}, ${jws})`,
    findApi: (accountId, identifier) => deps.store.apis.findByIdentifier(accountId, identifier),
  }
  return { grant, signed, touched }
}

interface Owner { readonly role: Role; readonly permissions?: Permission[]; readonly scopes: string[] }

/** An enterprise account with two registered APIs, and one client (acting as `owner`, if given) with its credential. */
async function world(client: Omit<NewClientInput, 'accountId' | 'name' | 'level' | 'userId'> = {}, owner?: Owner) {
  const deps = fakeDeps()
  const accountId = (await createAccount(deps, { name: 'acme' })).id
  const apiDeps = { ...deps, defaultAudiences: [ISSUER, DEFAULT_AUDIENCE] }
  await createApi(apiDeps, { accountId, identifier: API })
  await deps.store.apis.insert({ id: '00000000-0000-4000-8000-000000000001' as never, accountId, identifier: ENCRYPTED_API, name: 'vault', encryption: VAULT_KEY, createdAt: deps.clock.now() })
  const user = owner && await createUser(deps, { accountId, email: 'dev@example.com', ...owner })
  const created = await createClient(deps, { accountId, name: 'c', level: user ? 'user' : 'subscription', ...(user ? { userId: user.id } : {}), ...client })
  const credential = await deps.store.keyPairs.findCredential(created.keyPair.id)
  assert.ok(credential)
  return { deps, credential, ...grantDeps(deps) }
}

const request = (credential: ClientCredential, extra: Partial<ClientCredentialsRequest> = {}): ClientCredentialsRequest =>
  ({ credential, issuer: ISSUER, audience: ISSUER, defaultLifetimeSeconds: 36000, ...extra })

test('resource: a registered API of the account becomes aud; the issuer names keymint itself; anything else is invalid_target', async () => {
  const w = await world({ scopes: ['assets:read', 'keymint:admin'] })
  const other = await world()
  await createApi({ ...other.deps, defaultAudiences: [ISSUER] }, { accountId: other.credential.client.accountId, identifier: 'https://theirs.example.com' })
  await grantClientCredentials(w.grant, request(w.credential, { audience: DEFAULT_AUDIENCE, resource: API }))
  assert.deepEqual([w.signed[0]?.claims.aud, w.signed[0]?.claims.scope], [API, 'assets:read'])
  await grantClientCredentials(w.grant, request(w.credential, { audience: DEFAULT_AUDIENCE, resource: ISSUER }))
  assert.deepEqual([w.signed[1]?.claims.aud, w.signed[1]?.claims.scope], [ISSUER, 'assets:read keymint:admin'], 'resource=issuer: a token for keymint')
  await grantClientCredentials(w.grant, request(w.credential, { audience: DEFAULT_AUDIENCE }))
  assert.deepEqual([w.signed[2]?.claims.aud, w.signed[2]?.claims.scope], [DEFAULT_AUDIENCE, 'assets:read'])
  for (const resource of ['https://unknown.example.com', 'https://theirs.example.com', 'not a uri', `${API}#frag`, `${API}/`, DEFAULT_AUDIENCE]) {
    await assert.rejects(grantClientCredentials(w.grant, request(w.credential, { audience: DEFAULT_AUDIENCE, resource })), InvalidTarget, resource)
  }
  assert.equal(w.signed.length, 3, 'nothing signed for a refused resource')
})
