import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { test } from 'node:test'
import { fakeDeps } from '../../test/fakes/deps.js'
import { createAccount } from './accounts.js'
import { createApi, isResourceIdentifier, listApis, type NewApiInput } from './apis.js'
import { Conflict, InvalidInput, NotFound } from './errors.js'
import { rsaKeyPair } from '../../test/helpers/rsa-keys.js'

const ISSUER = 'https://auth.example.com'
const AUDIENCE = 'https://tokens.example.com/v1'

async function world() {
  const deps = { ...fakeDeps(), defaultAudiences: [ISSUER, AUDIENCE] }
  const a = await createAccount(deps, { name: 'a' })
  const b = await createAccount(deps, { name: 'b' })
  return { deps, a: a.id, b: b.id }
}

test('RFC 8707 §2: a resource identifier is an absolute URI without a fragment', () => {
  const cases: [string, boolean][] = [
    ['https://api.example.com', true],
    ['https://api.example.com/v1/', true],
    ['urn:example:api', true],
    ['http://127.0.0.1:8080', true],
    ['', false],
    ['api.example.com', false],
    ['/v1/orders', false],
    ['https://api.example.com/#frag', false],
    ['https://api.example.com/ x', false],
    ['https://api.example.com/\u0000', false],
    ['https://api.example.com/\n', false],
    [`https://api.example.com/${'a'.repeat(2048)}`, false],
  ]
  for (const [value, expected] of cases) assert.equal(isResourceIdentifier(value), expected, JSON.stringify(value.slice(0, 40)))
})

test('createApi registers an identifier for one account and audits it', async () => {
  const { deps, a, b } = await world()
  const api = await createApi(deps, { accountId: a, identifier: 'https://orders.example.com', actor: 'cli' })
  assert.deepEqual([api.accountId, api.identifier, api.name, api.encryption], [a, 'https://orders.example.com', 'https://orders.example.com', null])
  assert.deepEqual(await listApis(deps, { accountId: a }), [api])
  assert.deepEqual(await listApis(deps, { accountId: b }), [])
  const [event] = (await deps.store.audit.list({ limit: 10 })).filter((e) => e.action === 'api.created')
  assert.deepEqual([event?.actor, event?.target, event?.details], ['cli', api.id, { identifier: 'https://orders.example.com' }])
})

test('an identifier belongs to one account: registering it again, here or elsewhere, is a Conflict that writes nothing', async () => {
  const { deps, a, b } = await world()
  await createApi(deps, { accountId: a, identifier: 'https://orders.example.com' })
  for (const accountId of [a, b]) {
    const before = deps.store.dump()
    await assert.rejects(createApi(deps, { accountId, identifier: 'https://orders.example.com', name: 'again' }), (e) => e instanceof Conflict && e.code === 'KEYMINT_API_EXISTS')
    assert.deepEqual(deps.store.dump(), before)
  }
})

test("keymint's default audiences are reserved, however they are spelled", async () => {
  const { deps, a } = await world()
  for (const identifier of [ISSUER, `${ISSUER}/`, 'HTTPS://AUTH.EXAMPLE.COM', AUDIENCE, `${AUDIENCE}/`, 'https://Tokens.Example.com/v1']) {
    const before = deps.store.dump()
    await assert.rejects(createApi(deps, { accountId: a, identifier }), (e) => e instanceof InvalidInput && e.code === 'KEYMINT_API_IDENTIFIER_RESERVED', identifier)
    assert.deepEqual(deps.store.dump(), before)
  }
  await createApi(deps, { accountId: a, identifier: `${ISSUER}/orders` })
  await createApi(deps, { accountId: a, identifier: 'https://tokens.example.com/v2' })
})

test('createApi refuses bad input and an unknown account, writing nothing', async () => {
  const { deps, a } = await world()
  const rsa = rsaKeyPair()
  const cases: [string, NewApiInput, (e: unknown) => boolean][] = [
    ['not a URI', { accountId: a, identifier: 'orders' }, (e) => e instanceof InvalidInput && e.code === 'KEYMINT_INVALID_INPUT'],
    ['a fragment', { accountId: a, identifier: 'https://orders.example.com#x' }, (e) => e instanceof InvalidInput],
    ['an empty name', { accountId: a, identifier: 'https://orders.example.com', name: ' ' }, (e) => e instanceof InvalidInput],
    ['an algorithm without a key', { accountId: a, identifier: 'https://orders.example.com', encryptionAlg: 'RSA-OAEP-256' }, (e) => e instanceof InvalidInput],
    ['a private key', { accountId: a, identifier: 'https://orders.example.com', encryptionKey: rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string }, (e) => e instanceof InvalidInput],
    ['an RSA key with ECDH-ES', { accountId: a, identifier: 'https://orders.example.com', encryptionKey: rsa.publicKey.export({ format: 'pem', type: 'spki' }) as string, encryptionAlg: 'ECDH-ES' }, (e) => e instanceof InvalidInput],
    ['an unknown account', { accountId: '00000000-0000-4000-8000-000000000000', identifier: 'https://orders.example.com' }, (e) => e instanceof NotFound],
  ]
  for (const [name, input, expected] of cases) {
    const before = deps.store.dump()
    await assert.rejects(createApi(deps, input), expected, name)
    assert.deepEqual(deps.store.dump(), before, `${name}: nothing written`)
  }
})

test("an API's encryption key: the public part, its thumbprint and one algorithm", async () => {
  const { deps, a } = await world()
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const api = await createApi(deps, { accountId: a, identifier: 'https://orders.example.com', encryptionKey: JSON.stringify(ec.publicKey.export({ format: 'jwk' })) })
  assert.equal(api.encryption?.alg, 'ECDH-ES')
  assert.match(api.encryption?.kid ?? '', /^[\w-]{43}$/)
  assert.deepEqual(Object.keys(api.encryption?.publicJwk ?? {}).sort(), ['crv', 'kty', 'x', 'y'])
  assert.deepEqual(await deps.store.apis.findByIdentifier(a, 'https://orders.example.com'), api)
})
