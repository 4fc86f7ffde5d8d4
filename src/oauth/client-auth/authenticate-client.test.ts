import assert from 'node:assert/strict'
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { SignJWT } from 'jose'
import { fakeDeps } from '../../../test/fakes/deps.js'
import { createAccount } from '../../domain/accounts.js'
import { createClient } from '../../domain/clients.js'
import { AuthThrottle, type ThrottlePolicy } from '../auth-throttle.js'
import { ClientAuthenticationFailed, TooManyAttempts } from '../errors.js'
import { authenticateClient, type ClientAuthDeps, type PresentedCredentials } from './authenticate-client.js'

const POLICY: ThrottlePolicy = { windowSeconds: 60, addressLimit: 100, clientLimit: 100, maxEntries: 1000 }
const ISSUER = 'https://auth.example.com'

async function world(policy: Partial<ThrottlePolicy> = {}) {
  const deps = fakeDeps()
  const accountId = (await createAccount(deps, { name: 'acme' })).id
  const { keyPair } = await createClient(deps, { accountId, name: 'c', level: 'subscription' })
  const refusals: Parameters<ClientAuthDeps['refused']>[0][] = []
  const sleeps: number[] = []
  let lookups = 0
  const findCredential: ClientAuthDeps['secrets']['findCredential'] = (id) => { lookups++; return deps.store.keyPairs.findCredential(id) }
  const auth: ClientAuthDeps = {
    secrets: { findCredential, secretMatch: deps.secrets.match, rehash: () => {}, now: () => deps.clock.now() },
    assertions: {
      findCredential,
      rememberAssertion: (id, expiresAt) => deps.store.clientAssertions.remember(id, expiresAt, deps.clock.now()),
      audiences: () => [ISSUER],
      now: () => deps.clock.now(),
    },
    throttle: new AuthThrottle({ ...POLICY, ...policy }, deps.clock),
    sleep: async (ms) => { sleeps.push(ms) },
    refused: (r) => { refusals.push(r) },
  }
  const right: PresentedCredentials = { method: 'client_secret_post', clientId: keyPair.id, clientSecret: keyPair.secret }
  const wrong: PresentedCredentials = { ...right, clientSecret: deps.secrets.generate() }
  return { deps, accountId, keyPair, auth, refusals, sleeps, right, wrong, lookups: () => lookups }
}

test('correct credentials pass and leave no trace in the throttle or the refusals', async () => {
  const w = await world()
  const credential = await authenticateClient(w.auth, w.right, '10.0.0.1')
  assert.equal(credential.keyPair.id, w.keyPair.id)
  assert.deepEqual([w.refusals, w.sleeps, w.auth.throttle.size], [[], [], 0])
})

test('a failure is noted with its reason and account, counted, and answered invalid_client', async () => {
  const w = await world()
  await assert.rejects(authenticateClient(w.auth, w.wrong, '10.0.0.1'), (e) => e instanceof ClientAuthenticationFailed && e.reason === 'secret_mismatch')
  const stranger = randomUUID()
  await assert.rejects(authenticateClient(w.auth, { ...w.wrong, clientId: stranger }, '10.0.0.1'), ClientAuthenticationFailed)
  assert.deepEqual(w.refusals, [
    { clientId: w.keyPair.id, address: '10.0.0.1', reason: 'secret_mismatch', accountId: w.accountId },
    { clientId: stranger, address: '10.0.0.1', reason: 'unknown_client', accountId: null },
  ])
  assert.equal(w.auth.throttle.size, 3, 'one address, two client ids')
})

test('malformed client ids share one counter, so a flood of them cannot fill memory', async () => {
  const w = await world()
  for (let i = 0; i < 20; i++) {
    await assert.rejects(authenticateClient(w.auth, { ...w.wrong, clientId: `junk-${i}` }, '10.0.0.1'), ClientAuthenticationFailed)
  }
  assert.equal(w.auth.throttle.size, 2, 'the address and "(malformed)"')
  assert.ok(w.refusals.every((r) => r.reason === 'malformed_client_id'))
})

test('an address over its limit is refused before any lookup, with Retry-After', async () => {
  const w = await world({ addressLimit: 3 })
  for (let i = 0; i < 3; i++) await assert.rejects(authenticateClient(w.auth, w.wrong, '10.0.0.1'), ClientAuthenticationFailed)
  const before = w.lookups()
  await assert.rejects(authenticateClient(w.auth, w.right, '10.0.0.1'), (e) => e instanceof TooManyAttempts && e.status === 429 && e.retryAfterSeconds === 60)
  assert.equal(w.lookups(), before, 'no work for a refused address')
  assert.equal(w.refusals.at(-1)?.reason, 'throttled')
  await authenticateClient(w.auth, w.right, '10.0.0.2')
  w.deps.clock.advance(60)
  await authenticateClient(w.auth, w.right, '10.0.0.1')
})

test('a client_id over its limit: its failures get 429, its right credentials still pass', async () => {
  const w = await world({ clientLimit: 4 })
  const answers: string[] = []
  for (let i = 0; i < 6; i++) {
    await authenticateClient(w.auth, w.wrong, `10.0.1.${i}`).catch((e: unknown) => answers.push(e instanceof TooManyAttempts ? '429' : e instanceof ClientAuthenticationFailed ? '401' : String(e)))
  }
  assert.deepEqual(answers, ['401', '401', '401', '401', '429', '429'])
  assert.deepEqual(w.refusals.map((r) => r.reason).slice(-2), ['throttled', 'throttled'])
  await authenticateClient(w.auth, w.right, '10.0.1.9')
})

test('failures past half a limit are answered slowly, and the wait goes through deps.sleep', async () => {
  const w = await world({ clientLimit: 10 })
  for (let i = 0; i < 8; i++) await assert.rejects(authenticateClient(w.auth, w.wrong, `10.0.2.${i}`), ClientAuthenticationFailed)
  assert.deepEqual(w.sleeps, [100, 200, 300])
})

test('an error that is not a failed authentication passes through uncounted', async () => {
  const w = await world()
  const broken = { ...w.auth, secrets: { ...w.auth.secrets, findCredential: () => Promise.reject(new Error('database unreachable')) } }
  await assert.rejects(authenticateClient(broken, w.right, '10.0.0.1'), /database unreachable/)
  assert.deepEqual([w.refusals, w.auth.throttle.size], [[], 0])
})

test('private_key_jwt: the client_id claimed by the assertion is what gets counted and noted', async () => {
  const w = await world()
  const key = generateKeyPairSync('ed25519')
  const { keyPair } = await createClient(w.deps, {
    accountId: w.accountId, name: 'k', level: 'subscription', publicKey: key.publicKey.export({ format: 'pem', type: 'spki' }) as string,
  })
  const assertion = async (sub: string, jti = randomUUID()) => new SignJWT({ jti })
    .setProtectedHeader({ alg: 'EdDSA' }).setIssuer(sub).setSubject(sub).setAudience(ISSUER)
    .setIssuedAt(w.deps.clock.now()).setExpirationTime(new Date(w.deps.clock.now().getTime() + 60_000))
    .sign(key.privateKey)
  const presented = (jwt: string): PresentedCredentials => ({ method: 'private_key_jwt', clientId: undefined, assertion: jwt })
  const first = await assertion(keyPair.id)
  assert.equal((await authenticateClient(w.auth, presented(first), '10.0.0.1')).keyPair.id, keyPair.id)
  await assert.rejects(authenticateClient(w.auth, presented(first), '10.0.0.1'), (e) => e instanceof ClientAuthenticationFailed && e.reason === 'assertion_replayed')
  const stranger = randomUUID()
  await assert.rejects(authenticateClient(w.auth, presented(await assertion(stranger)), '10.0.0.1'), (e) => e instanceof ClientAuthenticationFailed && e.reason === 'unknown_client')
  assert.deepEqual(w.refusals.map((r) => [r.clientId, r.reason, r.detail]), [[keyPair.id, 'assertion_replayed', 'jti_seen_before'], [stranger, 'unknown_client', undefined]])
})
