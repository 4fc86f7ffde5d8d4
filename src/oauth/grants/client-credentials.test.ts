import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fakeDeps, type FakeDeps } from '../../../test/fakes/deps.js'
import type { SigningAlg } from '../../crypto/jws.js'
import { createAccount } from '../../domain/accounts.js'
import { createApi } from '../../domain/apis.js'
import { createClient, type NewClientInput } from '../../domain/clients.js'
import type { ClientCredential, KeyPairId, Permission, Role } from '../../domain/types.js'
import { createUser } from '../../domain/users.js'
import { InvalidScope, InvalidTarget, UnauthorizedClient } from '../errors.js'
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
    limits: { admit: () => undefined },
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
  ({ credential, caller: { address: '192.0.2.1', userAgent: 'test' }, issuer: ISSUER, audience: ISSUER, defaultLifetimeSeconds: 36000, ...extra })

test('an RFC 9068 token for the default audience, from the one minting path', async () => {
  const w = await world({ scopes: ['assets:read', 'keymint:audit:read'] })
  const issued = await grantClientCredentials(w.grant, request(w.credential))
  const iat = Math.floor(w.deps.clock.now().getTime() / 1000)
  assert.equal(w.signed.length, 1)
  assert.deepEqual(w.signed[0], {
    alg: null,
    claims: {
      iss: ISSUER, sub: w.credential.client.id, aud: ISSUER, exp: iat + 36000, iat, jti: issued.jti, client_id: w.credential.keyPair.id,
      scope: 'assets:read keymint:audit:read', account_id: w.credential.client.accountId, client_level: 'subscription',
    },
  })
  assert.deepEqual([issued.accessToken, issued.expiresIn, issued.scope], ['jws(1)', 36000, 'assets:read keymint:audit:read'])
  assert.deepEqual(w.touched, [w.credential.keyPair.id], 'usage is counted once per token')
})

test("the client's lifetime and signing algorithm win over the endpoint's; the first seed's scopes array on request", async () => {
  const w = await world({ lifetimeSeconds: 900, signingAlg: 'EdDSA' }, { role: 'admin', scopes: ['a', 'b'] })
  const issued = await grantClientCredentials(w.grant, request(w.credential, { scopesArray: true }))
  const { alg, claims } = w.signed[0]!
  assert.deepEqual([alg, issued.expiresIn, (claims.exp as number) - (claims.iat as number)], ['EdDSA', 900, 900])
  assert.deepEqual([claims.sub, claims.scope, claims.scopes, claims.client_level], [w.credential.user?.id, 'a b', ['a', 'b'], 'user'])
})

test('refused before anything is signed: wrong endpoint level, non-enterprise plan, a user who may not act', async () => {
  const member = (permissions: Permission[]): Owner => ({ role: 'member', permissions, scopes: ['a'] })
  const cases: [string, () => Promise<{ w: Awaited<ReturnType<typeof world>>; req: ClientCredentialsRequest }>][] = [
    ['an account-level client at the user-level endpoint', async () => {
      const w = await world()
      return { w, req: request(w.credential, { requiredLevel: { level: 'user', hint: 'use /auth/oauth' } }) }
    }],
    ['a user-level client at the account-level endpoint', async () => {
      const w = await world({}, member(['ui', 'api']))
      return { w, req: request(w.credential, { requiredLevel: { level: 'subscription', hint: 'use /auth/oidc' } }) }
    }],
    ['a standard account', async () => {
      const w = await world()
      return { w, req: request({ ...w.credential, accountPlan: 'standard' }) }
    }],
    ['a user without api', async () => {
      const w = await world({}, member(['ui']))
      return { w, req: request(w.credential) }
    }],
    ['a user without ui', async () => {
      const w = await world({}, member(['api']))
      return { w, req: request(w.credential) }
    }],
    ['a disabled user', async () => {
      const w = await world({}, member(['ui', 'api']))
      return { w, req: request({ ...w.credential, user: { ...w.credential.user!, disabled: true } }) }
    }],
    ['a user-level client whose user is gone', async () => {
      const w = await world({}, member(['ui', 'api']))
      return { w, req: request({ ...w.credential, user: null }) }
    }],
  ]
  for (const [name, make] of cases) {
    const { w, req } = await make()
    await assert.rejects(grantClientCredentials(w.grant, req), UnauthorizedClient, name)
    assert.deepEqual([w.signed.length, w.touched.length], [0, 0], `${name}: nothing signed or counted`)
  }
})

test('scopes per audience: keymint: scopes only in tokens for keymint itself, and never for a member', async () => {
  const subscription = ['assets:read', 'keymint:admin']
  const cases: [string, Parameters<typeof world>, Partial<ClientCredentialsRequest>, string | typeof InvalidScope][] = [
    ['account level, for keymint', [{ scopes: subscription }], {}, 'assets:read keymint:admin'],
    ['account level, for another default audience', [{ scopes: subscription }], { audience: DEFAULT_AUDIENCE }, 'assets:read'],
    ['account level, for a registered API', [{ scopes: subscription }], { resource: API }, 'assets:read'],
    ['account level, asking keymint:admin for an API', [{ scopes: subscription }], { resource: API, scope: 'keymint:admin' }, InvalidScope],
    ['account level, narrowing', [{ scopes: subscription }], { scope: 'keymint:admin' }, 'keymint:admin'],
    ['account level, asking for more', [{ scopes: subscription }], { scope: 'assets:write' }, InvalidScope],
    ["an admin's client, for keymint", [{}, { role: 'admin', scopes: subscription }], {}, 'assets:read keymint:admin'],
    ["an admin's client, for an API", [{}, { role: 'admin', scopes: subscription }], { resource: API }, 'assets:read'],
    ["an admin's client, within its own list", [{ scopes: ['keymint:admin', 'x'] }, { role: 'admin', scopes: subscription }], {}, 'keymint:admin'],
    ["a member's client, for keymint", [{}, { role: 'member', scopes: ['assets:read', 'keymint:audit:read'] }], {}, 'assets:read'],
    ["a member's client, asking a keymint: scope", [{}, { role: 'member', scopes: ['assets:read', 'keymint:audit:read'] }], { scope: 'keymint:audit:read' }, InvalidScope],
    ['unrestricted', [{}], {}, 'all'],
    ['unrestricted, any API scope', [{}], { scope: 'assets:read assets:write' }, 'assets:read assets:write'],
    ['unrestricted, never keymint: scopes', [{}], { scope: 'keymint:admin' }, InvalidScope],
    ['an admin without scopes acts for the account (second seed)', [{}, { role: 'admin', scopes: [] }], {}, 'all'],
    ['malformed scope', [{}], { scope: 'a  b' }, InvalidScope],
  ]
  for (const [name, setup, extra, expected] of cases) {
    const w = await world(...setup)
    const granted = grantClientCredentials(w.grant, request(w.credential, extra))
    if (typeof expected === 'string') {
      assert.equal((await granted).scope, expected, name)
      assert.equal(w.signed[0]?.claims.scope, expected, `${name}: signed`)
    } else {
      await assert.rejects(granted, expected, name)
      assert.equal(w.signed.length, 0, `${name}: nothing signed`)
    }
  }
})

test('a token that would carry no scope is invalid_scope', async () => {
  for (const [name, setup, extra] of [
    ['an empty scope list', [{ scopes: [] }], {}],
    ['only keymint: scopes, for an API', [{ scopes: ['keymint:audit:read'] }], { resource: API }],
    ['a member without scopes', [{}, { role: 'member', scopes: [] }], {}],
    ["a member's keymint: scopes only", [{}, { role: 'member', scopes: ['keymint:admin'] }], {}],
  ] as [string, Parameters<typeof world>, Partial<ClientCredentialsRequest>][]) {
    const w = await world(...setup)
    await assert.rejects(grantClientCredentials(w.grant, request(w.credential, extra)), InvalidScope, name)
  }
})

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

test("encryption: an API's own key wins; otherwise the request's choice, else the client's setting", async () => {
  const cases: [string, Parameters<typeof world>[0], Partial<ClientCredentialsRequest>, string][] = [
    ['signed only', {}, {}, 'jws(1)'],
    ['asked for', {}, { encryption: 'RSA-OAEP-512' }, 'jwe(keymint RSA-OAEP-512, jws(1))'],
    ["the client's setting", { tokenEncryption: 'RSA-OAEP-256' }, {}, 'jwe(keymint RSA-OAEP-256, jws(1))'],
    ["the client's setting, when the request asks for none", { tokenEncryption: 'RSA-OAEP-256' }, { encryption: null }, 'jwe(keymint RSA-OAEP-256, jws(1))'],
    ["the request's algorithm over the client's", { tokenEncryption: 'RSA-OAEP-256' }, { encryption: 'RSA-OAEP-384' }, 'jwe(keymint RSA-OAEP-384, jws(1))'],
    ['an API without a key of its own', { tokenEncryption: 'RSA-OAEP-256' }, { resource: API }, 'jwe(keymint RSA-OAEP-256, jws(1))'],
    ["an API's key over the client's setting", { tokenEncryption: 'RSA-OAEP-256' }, { resource: ENCRYPTED_API }, 'jwe(vault-kid ECDH-ES, jws(1))'],
    ["an API's key over the request's", {}, { resource: ENCRYPTED_API, encryption: 'RSA-OAEP-512' }, 'jwe(vault-kid ECDH-ES, jws(1))'],
    ["an API's key, unasked", {}, { resource: ENCRYPTED_API }, 'jwe(vault-kid ECDH-ES, jws(1))'],
  ]
  for (const [name, client, extra, expected] of cases) {
    const w = await world(client)
    assert.equal((await grantClientCredentials(w.grant, request(w.credential, extra))).accessToken, expected, name)
  }
})
