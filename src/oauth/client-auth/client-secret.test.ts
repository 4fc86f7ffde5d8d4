import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fakeDeps } from '../../../test/fakes/deps.js'
import { FakeSecretService } from '../../../test/fakes/secrets.js'
import { createAccount } from '../../domain/accounts.js'
import { createClient } from '../../domain/clients.js'
import { rotateKeyPair } from '../../domain/key-pairs.js'
import type { KeyPairId } from '../../domain/types.js'
import { ClientAuthenticationFailed, type AuthFailureReason } from '../errors.js'
import { authenticateWithSecret, type SecretAuthDeps } from './client-secret.js'

const ED25519_JWK = JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' })

async function world() {
  const deps = fakeDeps()
  const accountId = (await createAccount(deps, { name: 'acme' })).id
  const { client, keyPair } = await createClient(deps, { accountId, name: 'c', level: 'subscription' })
  const lookups: string[] = []
  const matched: Buffer[] = []
  const rehashed: [KeyPairId, string][] = []
  const auth: SecretAuthDeps = {
    findCredential: async (id) => { lookups.push(id); return deps.store.keyPairs.findCredential(id) },
    secretMatch: (secret, hash) => { matched.push(hash); return deps.secrets.match(secret, hash) },
    rehash: (id, secret) => { rehashed.push([id, secret]) },
    now: () => deps.clock.now(),
  }
  return { deps, accountId, client, keyPair, auth, lookups, matched, rehashed }
}

const failure = (reason: AuthFailureReason, accountId: string | null) => (err: unknown) => {
  assert.ok(err instanceof ClientAuthenticationFailed, String(err))
  assert.deepEqual([err.reason, err.accountId], [reason, accountId])
  // One answer for every failure: the client learns nothing of which check failed.
  assert.deepEqual([err.error, err.status, err.message], ['invalid_client', 401, 'client authentication failed'])
  return true
}

test('the right secret authenticates its key pair', async () => {
  const w = await world()
  const credential = await authenticateWithSecret(w.auth, { method: 'client_secret_basic', clientId: w.keyPair.id, clientSecret: w.keyPair.secret })
  assert.deepEqual([credential.keyPair.id, credential.client.id], [w.keyPair.id, w.client.id])
  assert.deepEqual(w.rehashed, [])
})

test('each failure has its reason for the logs and the same answer for the client', async () => {
  const w = await world()
  const unknown = '00000000-0000-4000-8000-000000000000'
  const otherSecret = w.deps.secrets.generate()
  const cases: [string, string, string, AuthFailureReason, string | null][] = [
    ['client_id not a UUID', 'ci', w.keyPair.secret, 'malformed_client_id', null],
    ['unknown client', unknown, w.keyPair.secret, 'unknown_client', null],
    ['malformed secret', w.keyPair.id, 'hunter2', 'malformed_secret', w.accountId],
    ['wrong secret', w.keyPair.id, otherSecret, 'secret_mismatch', w.accountId],
  ]
  for (const [name, clientId, clientSecret, reason, accountId] of cases) {
    await assert.rejects(authenticateWithSecret(w.auth, { method: 'client_secret_post', clientId, clientSecret }), failure(reason, accountId), name)
  }
  assert.deepEqual(w.lookups, [unknown, w.keyPair.id, w.keyPair.id], 'a malformed client_id is never looked up')
  assert.equal(w.matched.length, 2, 'an unknown client is hashed against a dummy, as a known one is; a malformed secret is not hashed')
  assert.deepEqual(w.matched[0], Buffer.alloc(32))
})

test('a revoked key pair fails even with its secret; one in a grace still works until the grace ends', async () => {
  const w = await world()
  const presented = { method: 'header' as const, clientId: w.keyPair.id, clientSecret: w.keyPair.secret }
  const rotated = await rotateKeyPair(w.deps, { clientId: w.client.id, graceSeconds: 60 })
  await authenticateWithSecret(w.auth, presented)
  w.deps.clock.advance(60)
  await assert.rejects(authenticateWithSecret(w.auth, presented), failure('key_pair_revoked', w.accountId))
  await authenticateWithSecret(w.auth, { ...presented, clientId: rotated.keyPair.id, clientSecret: rotated.keyPair.secret })
})

test('an expired key pair fails with key_pair_expired, even with its secret, from its expiry on', async () => {
  const w = await world()
  const expiring = await createClient(w.deps, { accountId: w.accountId, name: 'e', level: 'subscription', keyExpiresIn: 3600 })
  const presented = { method: 'client_secret_basic' as const, clientId: expiring.keyPair.id, clientSecret: expiring.keyPair.secret }
  w.deps.clock.advance(3599)
  await authenticateWithSecret(w.auth, presented)
  w.deps.clock.advance(1)
  await assert.rejects(authenticateWithSecret(w.auth, presented), failure('key_pair_expired', w.accountId))
  await assert.rejects(authenticateWithSecret(w.auth, { ...presented, clientSecret: w.keyPair.secret }), failure('secret_mismatch', w.accountId), 'a wrong secret is a mismatch first')
})

test('a client registered with a public key alone never authenticates with its secret', async () => {
  const w = await world()
  const keyOnly = await createClient(w.deps, { accountId: w.accountId, name: 'k', level: 'subscription', publicKey: ED25519_JWK })
  const presented = { method: 'client_secret_basic' as const, clientId: keyOnly.keyPair.id, clientSecret: keyOnly.keyPair.secret }
  await assert.rejects(authenticateWithSecret(w.auth, presented), failure('secret_not_allowed', w.accountId))
  await assert.rejects(authenticateWithSecret(w.auth, { ...presented, clientSecret: w.keyPair.secret }), failure('secret_mismatch', w.accountId), 'a wrong secret is a mismatch first')
})

test('a secret hashed under a previous master key works and is hashed again under the current one', async () => {
  const w = await world()
  const rotatedSecrets = new FakeSecretService('hash-key-2', [w.deps.secrets.keyId])
  const auth = { ...w.auth, secretMatch: rotatedSecrets.match }
  await authenticateWithSecret(auth, { method: 'client_secret_post', clientId: w.keyPair.id, clientSecret: w.keyPair.secret })
  assert.deepEqual(w.rehashed, [[w.keyPair.id, w.keyPair.secret]])
})
