import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fakeDeps } from '../../test/fakes/deps.js'
import { createAccount } from './accounts.js'
import { createClient } from './clients.js'
import { InvalidInput, NotFound } from './errors.js'
import { rotateKeyPair } from './key-pairs.js'
import { cancelRotation, finishRotation } from './rotation-phases.js'
import { createUser, updateUser } from './users.js'
import { deleteWebhook, listWebhookDeliveries, registerWebhook, sealedForEndpoint, sendTestWebhook } from './webhooks.js'

async function world(allowLoopback = false) {
  const deps = fakeDeps()
  const account = await createAccount(deps, { name: 'acme' })
  const hooks = { ...deps, policy: { allowLoopback } }
  const { client } = await createClient(deps, { accountId: account.id, name: 'c', level: 'subscription' })
  const types = async (id: string) => (await listWebhookDeliveries(deps, { accountId: account.id, id })).map((d) => d.eventType).reverse()
  return { deps, hooks, accountId: account.id, client, types }
}

test('each change puts one delivery per subscribed endpoint in the outbox, with the change', async () => {
  const { deps, hooks, accountId, client, types } = await world()
  const all = await registerWebhook(hooks, { accountId, url: 'https://a.example.com/h', events: ['key_pair.generated', 'key_pair.rotated', 'key_pair.rotation_finished', 'key_pair.rotation_cancelled', 'user.disabled'] })
  const some = await registerWebhook(hooks, { accountId, url: 'https://b.example.com/h', events: ['key_pair.rotated'] })
  assert.match(all.secret, /^whsec_[A-Za-z0-9+/]{32}$/)
  assert.equal(deps.sealer.unseal(all.endpoint.secretSealed, sealedForEndpoint(all.endpoint.id)), all.secret)
  await createClient(deps, { accountId, name: 'd', level: 'subscription' })
  deps.clock.advance(1)
  await rotateKeyPair(deps, { clientId: client.id, graceSeconds: 60 })
  deps.clock.advance(1)
  await finishRotation(deps, { clientId: client.id })
  deps.clock.advance(1)
  await rotateKeyPair(deps, { clientId: client.id, graceSeconds: 60 })
  deps.clock.advance(1)
  await cancelRotation(deps, { clientId: client.id })
  deps.clock.advance(1)
  const user = await createUser(deps, { accountId, email: 'u@example.com' })
  await updateUser(deps, { userId: user.id, disabled: true })
  await updateUser(deps, { userId: user.id, disabled: true })
  assert.deepEqual(await types(all.endpoint.id), [
    'key_pair.generated', 'key_pair.rotated', 'key_pair.rotation_finished', 'key_pair.rotated', 'key_pair.rotation_cancelled', 'user.disabled',
  ])
  assert.deepEqual(await types(some.endpoint.id), ['key_pair.rotated', 'key_pair.rotated'])
})

test('a change that fails puts nothing in the outbox', async () => {
  const { deps, hooks, accountId, client, types } = await world()
  const { endpoint } = await registerWebhook(hooks, { accountId, url: 'https://a.example.com/h', events: ['key_pair.rotated'] })
  const failing = { ...deps, secrets: { generate: () => { throw new Error('entropy exhausted') }, hash: deps.secrets.hash.bind(deps.secrets), keyId: 'k' } }
  await assert.rejects(rotateKeyPair(failing, { clientId: client.id }), /entropy exhausted/)
  assert.deepEqual(await types(endpoint.id), [])
})

test('registration refuses what is not https (loopback http only when allowed) and unknown events, writing nothing', async () => {
  const { deps, hooks, accountId } = await world()
  const cases: [string, string, string[]][] = [
    ['plain http', 'http://a.example.com/h', ['key_pair.rotated']],
    ['loopback http, not allowed', 'http://127.0.0.1:8080/h', ['key_pair.rotated']],
    ['not a URL', 'a.example.com', ['key_pair.rotated']],
    ['credentials', 'https://u:p@a.example.com/h', ['key_pair.rotated']],
    ['a fragment', 'https://a.example.com/h#x', ['key_pair.rotated']],
    ['no events', 'https://a.example.com/h', []],
    ['an unknown event', 'https://a.example.com/h', ['webhook.test']],
  ]
  for (const [name, url, events] of cases) {
    const before = deps.store.dump()
    await assert.rejects(registerWebhook(hooks, { accountId, url, events }), InvalidInput, name)
    assert.deepEqual(deps.store.dump(), before, `${name}: nothing written`)
  }
  const loopback = await world(true)
  for (const url of ['http://127.0.0.1:8080/h', 'http://localhost/h', 'http://[::1]:9/h']) {
    await registerWebhook(loopback.hooks, { accountId: loopback.accountId, url, events: ['user.disabled'] })
  }
})

test("another account's endpoint is not found; deleting removes the endpoint and its deliveries", async () => {
  const { deps, hooks, accountId } = await world()
  const other = await createAccount(deps, { name: 'other' })
  const { endpoint } = await registerWebhook(hooks, { accountId, url: 'https://a.example.com/h', events: ['user.disabled'] })
  for (const fn of [sendTestWebhook, listWebhookDeliveries, deleteWebhook]) {
    await assert.rejects(fn(deps, { accountId: other.id, id: endpoint.id }), (e) => e instanceof NotFound && e.code === 'KEYMINT_WEBHOOK_NOT_FOUND')
  }
  await sendTestWebhook(deps, { accountId, id: endpoint.id })
  await deleteWebhook(deps, { accountId, id: endpoint.id })
  assert.deepEqual(deps.store.dump().webhookDeliveries, [])
  assert.deepEqual(deps.store.dump().webhookEndpoints, [])
})
