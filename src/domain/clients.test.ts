import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { test } from 'node:test'
import { fakeDeps } from '../../test/fakes/deps.js'
import { createAccount } from './accounts.js'
import { createClient, getClientByIdOrKeyPair, updateClient, type NewClientInput } from './clients.js'
import { Forbidden, InvalidInput, NotFound } from './errors.js'
import { MAX_LIFETIME_SECONDS, MIN_LIFETIME_SECONDS } from './validation.js'
import { createUser } from './users.js'

const pem = (key: ReturnType<typeof generateKeyPairSync>['publicKey'] | ReturnType<typeof generateKeyPairSync>['privateKey'], type: 'spki' | 'pkcs8') =>
  key.export({ format: 'pem', type } as never) as unknown as string
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const EC_PUBLIC = pem(ec.publicKey, 'spki')
const EC_PRIVATE = pem(ec.privateKey, 'pkcs8')
const P384_PUBLIC = pem(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey, 'spki')
const ED25519_JWK = JSON.stringify(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }))

async function world() {
  const deps = fakeDeps()
  const account = await createAccount(deps, { name: 'acme' })
  const user = await createUser(deps, { accountId: account.id, email: 'dev@example.com', scopes: ['assets:read'] })
  return { deps, accountId: account.id, userId: user.id }
}

test('createClient: an account-level client, unrestricted, authenticating with its secret; its first key pair hashed', async () => {
  const { deps, accountId } = await world()
  const { client, keyPair } = await createClient(deps, { accountId, name: ' ci ', level: 'subscription', actor: 'cli' })
  assert.deepEqual(
    { ...client, id: undefined },
    { id: undefined, accountId, name: 'ci', level: 'subscription', userId: null, scopes: null, lifetimeSeconds: null, tokenEncryption: null, publicJwk: null, signingAlg: null, secretAuth: true, requireDPoP: false, disabled: false, tokensCutOffAt: null, rateLimit: null, quota: null, quotaMode: 'enforce', createdAt: deps.clock.now() },
  )
  assert.equal(keyPair.secretShown, true)
  const credential = await deps.store.keyPairs.findCredential(keyPair.id)
  assert.ok(credential?.keyPair.secretHash.equals(deps.secrets.hash(keyPair.secret)), 'stored as its hash')
  assert.ok(!JSON.stringify(deps.store.dump()).includes(keyPair.secret), 'never in clear')
  const events = (await deps.store.audit.list({ limit: 10 })).filter((e) => e.actor === 'cli')
  assert.deepEqual(events.map((e) => [e.action, e.actor, e.target]).sort(), [['client.created', 'cli', client.id], ['key_pair.created', 'cli', client.id]])
})

test('createClient: a user-level client with scopes, lifetime, encryption and signing algorithm', async () => {
  const { deps, accountId, userId } = await world()
  const { client } = await createClient(deps, {
    accountId, name: 'n', level: 'user', userId, scopes: ['b', 'a'], lifetimeSeconds: 900, tokenEncryption: 'RSA-OAEP-512', signingAlg: 'ES256',
  })
  assert.deepEqual([client.userId, client.scopes, client.lifetimeSeconds, client.tokenEncryption, client.signingAlg], [userId, ['a', 'b'], 900, 'RSA-OAEP-512', 'ES256'])
  assert.deepEqual(await deps.store.clients.findById(client.id), client)
})

test('createClient: a public key means private_key_jwt only, unless its secret is allowed too', async () => {
  const { deps, accountId } = await world()
  const keyOnly = await createClient(deps, { accountId, name: 'k', level: 'subscription', publicKey: EC_PUBLIC })
  assert.deepEqual([keyOnly.client.publicJwk?.kty, keyOnly.client.publicJwk?.crv, keyOnly.client.secretAuth, keyOnly.keyPair.secretShown], ['EC', 'P-256', false, false])
  assert.equal(keyOnly.client.publicJwk?.d, undefined, 'public members only')
  const both = await createClient(deps, { accountId, name: 'b', level: 'subscription', publicKey: ED25519_JWK, allowSecret: true })
  assert.deepEqual([both.client.publicJwk?.crv, both.client.secretAuth, both.keyPair.secretShown], ['Ed25519', true, true])
})

test('createClient refuses bad input before it writes anything', async () => {
  const { deps, accountId, userId } = await world()
  const base: NewClientInput = { accountId, name: 'c', level: 'subscription' }
  const cases: [string, Partial<NewClientInput>][] = [
    ['empty name', { name: '   ' }],
    ['name with a control character', { name: 'a\u0007b' }],
    ['unknown level', { level: 'team' }],
    ['user level without its user', { level: 'user' }],
    ['account level with a user', { userId }],
    ['user id not a UUID', { level: 'user', userId: 'dev' }],
    ['lifetime below the minimum', { lifetimeSeconds: MIN_LIFETIME_SECONDS - 1 }],
    ['lifetime above the maximum', { lifetimeSeconds: MAX_LIFETIME_SECONDS + 1 }],
    ['fractional lifetime', { lifetimeSeconds: 90.5 }],
    ['unknown token encryption', { tokenEncryption: 'RSA1_5' }],
    ['unknown signing algorithm', { signingAlg: 'HS256' }],
    ['reserved scope', { scopes: ['all'] }],
    ['malformed scope', { scopes: ['a"b'] }],
    ['no way to authenticate', { allowSecret: false }],
    ['a private key', { publicKey: EC_PRIVATE }],
    ['an EC key off P-256', { publicKey: P384_PUBLIC }],
    ['not a key', { publicKey: 'hello' }],
    ['a symmetric JWK', { publicKey: JSON.stringify({ kty: 'oct', k: 'c2VjcmV0' }) }],
  ]
  for (const [name, change] of cases) {
    const before = deps.store.dump()
    await assert.rejects(createClient(deps, { ...base, ...change }), (e) => e instanceof InvalidInput && e.code === 'KEYMINT_INVALID_INPUT', name)
    assert.deepEqual(deps.store.dump(), before, `${name}: nothing written`)
  }
})

test('createClient: the account must be enterprise, and the user one of its own', async () => {
  const { deps, accountId } = await world()
  const standard = await createAccount(deps, { name: 's', plan: 'standard' })
  const other = await createAccount(deps, { name: 'o' })
  const stranger = await createUser(deps, { accountId: other.id, email: 's@example.com' })
  const cases: [string, NewClientInput, (e: unknown) => boolean][] = [
    ['standard plan', { accountId: standard.id, name: 'c', level: 'subscription' }, (e) => e instanceof Forbidden && e.code === 'KEYMINT_PLAN_FORBIDS_KEY_PAIRS'],
    ['unknown account', { accountId: '00000000-0000-4000-8000-000000000000', name: 'c', level: 'subscription' }, (e) => e instanceof NotFound && e.code === 'KEYMINT_ACCOUNT_NOT_FOUND'],
    ["another account's user", { accountId, name: 'c', level: 'user', userId: stranger.id }, (e) => e instanceof NotFound && e.code === 'KEYMINT_USER_NOT_FOUND'],
    ['unknown user', { accountId, name: 'c', level: 'user', userId: '00000000-0000-4000-8000-000000000000' }, (e) => e instanceof NotFound && e.code === 'KEYMINT_USER_NOT_FOUND'],
  ]
  for (const [name, input, expected] of cases) {
    const before = deps.store.dump()
    await assert.rejects(createClient(deps, input), expected, name)
    assert.deepEqual(deps.store.dump(), before, `${name}: nothing written`)
  }
})

test('createClient writes nothing when issuing its key pair fails', async () => {
  const { deps, accountId } = await world()
  const before = deps.store.dump()
  const failing = { ...deps, secrets: { generate: () => { throw new Error('entropy exhausted') }, hash: deps.secrets.hash.bind(deps.secrets), keyId: 'k' } }
  await assert.rejects(createClient(failing, { accountId, name: 'c', level: 'subscription' }), /entropy exhausted/)
  assert.deepEqual(deps.store.dump(), before)
})

test('updateClient changes the fields it names; null clears; the audit names the fields', async () => {
  const { deps, accountId } = await world()
  const { client } = await createClient(deps, { accountId, name: 'c', level: 'subscription', scopes: ['a'], lifetimeSeconds: 600, tokenEncryption: 'RSA-OAEP-256' })
  const updated = await updateClient(deps, { clientId: client.id, name: 'renamed', scopes: null, lifetimeSeconds: null, tokenEncryption: null, signingAlg: 'EdDSA', actor: 'cli' })
  assert.deepEqual(updated, { ...client, name: 'renamed', scopes: null, lifetimeSeconds: null, tokenEncryption: null, signingAlg: 'EdDSA' })
  const [event] = (await deps.store.audit.list({ limit: 10 })).filter((e) => e.action === 'client.updated')
  assert.deepEqual(event?.details, { fields: ['name', 'scopes', 'lifetimeSeconds', 'tokenEncryption', 'signingAlg'] })
  await assert.rejects(updateClient(deps, { clientId: '00000000-0000-4000-8000-000000000000', name: 'x' }), NotFound)
})

test('updateClient never leaves a client without a way to authenticate', async () => {
  const { deps, accountId } = await world()
  const keyOnly = (await createClient(deps, { accountId, name: 'k', level: 'subscription', publicKey: EC_PUBLIC })).client
  const secretOnly = (await createClient(deps, { accountId, name: 's', level: 'subscription' })).client
  for (const [name, input] of [
    ['remove the key of a key-only client', { clientId: keyOnly.id, publicKey: null }],
    ['refuse the secret of a client without a key', { clientId: secretOnly.id, allowSecret: false }],
  ] as const) {
    const before = deps.store.dump()
    await assert.rejects(updateClient(deps, input), InvalidInput, name)
    assert.deepEqual(deps.store.dump(), before, `${name}: nothing written`)
  }
  const both = await updateClient(deps, { clientId: keyOnly.id, publicKey: null, allowSecret: true })
  assert.deepEqual([both.publicJwk, both.secretAuth], [null, true], 'allowing the secret while removing the key is fine')
  const keyed = await updateClient(deps, { clientId: secretOnly.id, publicKey: ED25519_JWK, allowSecret: false })
  assert.deepEqual([keyed.publicJwk?.crv, keyed.secretAuth], ['Ed25519', false])
})

test('a client is found by its id or by the client_id of any of its key pairs', async () => {
  const { deps, accountId } = await world()
  const { client, keyPair } = await createClient(deps, { accountId, name: 'c', level: 'subscription' })
  assert.deepEqual(await getClientByIdOrKeyPair(deps, client.id), client)
  assert.deepEqual(await getClientByIdOrKeyPair(deps, keyPair.id), client)
  await assert.rejects(getClientByIdOrKeyPair(deps, '00000000-0000-4000-8000-000000000000'), NotFound)
  await assert.rejects(getClientByIdOrKeyPair(deps, 'ci'), InvalidInput)
})
