import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fakeDeps } from '../../test/fakes/deps.js'
import { client as clientRecord } from '../../test/fakes/records.js'
import { createAccount } from './accounts.js'
import { createClient } from './clients.js'
import { Forbidden, InvalidInput, NotFound } from './errors.js'
import { listKeyPairs, MAX_GRACE_SECONDS, revokeKeyPair, revokeKeyPairs, rotateKeyPair } from './key-pairs.js'
import type { ClientId } from './types.js'

async function world() {
  const deps = fakeDeps()
  const account = await createAccount(deps, { name: 'acme' })
  const { client, keyPair } = await createClient(deps, { accountId: account.id, name: 'c', level: 'subscription' })
  const states = async () => Object.fromEntries((await listKeyPairs(deps, { clientId: client.id })).keyPairs.map((p) => [p.id, p.status]))
  return { deps, accountId: account.id, client, first: keyPair, states }
}

test('rotating without a grace revokes the old pair at once and issues an active one', async () => {
  const { deps, client, first, states } = await world()
  deps.clock.advance(60)
  const rotated = await rotateKeyPair(deps, { clientId: client.id, actor: 'cli' })
  assert.deepEqual(rotated.ended, [{ id: first.id, endsAt: deps.clock.now() }])
  assert.deepEqual(await states(), { [first.id]: { state: 'revoked', since: deps.clock.now() }, [rotated.keyPair.id]: { state: 'active' } })
  assert.notEqual(rotated.keyPair.secret, first.secret)
  const [event] = (await deps.store.audit.list({ limit: 10 })).filter((e) => e.action === 'key_pair.rotated')
  assert.deepEqual(event?.details, { client_id: rotated.keyPair.id, ended: [first.id], grace_seconds: 0, expires_at: null })
})

test('rotating with a grace keeps the old pair working until the grace ends', async () => {
  const { deps, client, first, states } = await world()
  const rotated = await rotateKeyPair(deps, { clientId: client.id, graceSeconds: 600 })
  const until = new Date(deps.clock.now().getTime() + 600_000)
  assert.deepEqual(rotated.ended, [{ id: first.id, endsAt: until }])
  assert.deepEqual(await states(), { [first.id]: { state: 'grace', until }, [rotated.keyPair.id]: { state: 'active' } })
  deps.clock.advance(600)
  assert.deepEqual((await states())[first.id], { state: 'revoked', since: until }, 'revoked once the grace has passed')
})

test('a second rotation never lengthens a grace already running, and may shorten it', async () => {
  const { deps, client, first, states } = await world()
  const start = deps.clock.now().getTime()
  const second = await rotateKeyPair(deps, { clientId: client.id, graceSeconds: 60 })
  const longer = await rotateKeyPair(deps, { clientId: client.id, graceSeconds: 3600 })
  const ends = Object.fromEntries(longer.ended.map((e) => [e.id, e.endsAt.getTime()]))
  assert.deepEqual(ends, { [first.id]: start + 60_000, [second.keyPair.id]: start + 3_600_000 })
  deps.clock.advance(30)
  await rotateKeyPair(deps, { clientId: client.id, graceSeconds: 10 })
  const now = deps.clock.now().getTime()
  const s = await states()
  assert.deepEqual([s[first.id], s[second.keyPair.id], s[longer.keyPair.id]], [
    { state: 'grace', until: new Date(now + 10_000) }, { state: 'grace', until: new Date(now + 10_000) }, { state: 'grace', until: new Date(now + 10_000) },
  ])
})

test('revoking ends every pair that still works, in a grace or not; then there is nothing left to revoke', async () => {
  const { deps, client, first, states } = await world()
  const rotated = await rotateKeyPair(deps, { clientId: client.id, graceSeconds: 600 })
  deps.clock.advance(1)
  const revoked = await revokeKeyPairs(deps, { clientId: client.id })
  assert.deepEqual(revoked.revoked.sort(), [first.id, rotated.keyPair.id].sort())
  const now = deps.clock.now()
  assert.deepEqual(await states(), { [first.id]: { state: 'revoked', since: now }, [rotated.keyPair.id]: { state: 'revoked', since: now } })
  deps.clock.advance(1)
  assert.deepEqual((await revokeKeyPairs(deps, { clientId: client.id })).revoked, [])
  const audited = (await deps.store.audit.list({ limit: 10 })).filter((e) => e.action === 'key_pair.revoked')
  assert.deepEqual(audited.map((e) => (e.details.revoked as string[]).length), [0, 2])
})

test('revoking one pair ends the grace of the old one now and leaves the new one working', async () => {
  const { deps, client, first, states } = await world()
  const rotated = await rotateKeyPair(deps, { clientId: client.id, graceSeconds: 600 })
  deps.clock.advance(5)
  assert.deepEqual(await revokeKeyPair(deps, { clientId: client.id, keyPairId: first.id, actor: 'user:u' }), { clientId: client.id, revoked: [first.id] })
  const now = deps.clock.now()
  assert.deepEqual(await states(), { [first.id]: { state: 'revoked', since: now }, [rotated.keyPair.id]: { state: 'active' } })
  const [event] = (await deps.store.audit.list({ limit: 10 })).filter((e) => e.action === 'key_pair.revoked')
  assert.deepEqual([event?.actor, event?.target, event?.details], ['user:u', client.id, { revoked: [first.id] }])
  deps.clock.advance(1)
  assert.deepEqual((await revokeKeyPair(deps, { clientId: client.id, keyPairId: first.id })).revoked, [], 'ended already: nothing to do')
  assert.equal((await deps.store.audit.list({ limit: 10 })).filter((e) => e.action === 'key_pair.revoked').length, 1, 'and nothing audited')
})

test("revoking one pair refuses another client's pair, a malformed id and a caller holding less, writing nothing", async () => {
  const { deps, accountId, client, first } = await world()
  const other = await createClient(deps, { accountId, name: 'other', level: 'subscription', scopes: ['keymint:admin'] })
  const cases: [string, Parameters<typeof revokeKeyPair>[1], (e: unknown) => boolean][] = [
    ["another client's pair", { clientId: client.id, keyPairId: other.keyPair.id }, (e) => e instanceof NotFound && e.code === 'KEYMINT_KEY_PAIR_NOT_FOUND'],
    ['unknown pair', { clientId: client.id, keyPairId: '00000000-0000-4000-8000-000000000000' }, (e) => e instanceof NotFound && e.code === 'KEYMINT_KEY_PAIR_NOT_FOUND'],
    ['key pair id not a UUID', { clientId: client.id, keyPairId: 'x' }, (e) => e instanceof InvalidInput],
    ['unknown client', { clientId: '00000000-0000-4000-8000-000000000000', keyPairId: first.id }, (e) => e instanceof NotFound && e.code === 'KEYMINT_CLIENT_NOT_FOUND'],
    ['a client holding more than the caller', { clientId: other.client.id, keyPairId: other.keyPair.id, authority: { scopes: new Set(['keymint:keys:write']) } },
      (e) => e instanceof Forbidden && e.code === 'KEYMINT_ADMIN_REQUIRED'],
  ]
  for (const [name, input, expected] of cases) {
    const before = deps.store.dump()
    await assert.rejects(revokeKeyPair(deps, input), expected, name)
    assert.deepEqual(deps.store.dump(), before, `${name}: nothing written`)
  }
})

test('rotation refuses a bad grace, an unknown client and a non-enterprise account, writing nothing', async () => {
  const { deps, client } = await world()
  const standard = await createAccount(deps, { name: 's', plan: 'standard' })
  // Downgraded after the fact: the only way a non-enterprise account holds a client.
  const stranded = clientRecord(77, standard.id, { createdAt: deps.clock.now() })
  await deps.store.clients.insert(stranded)
  const cases: [string, Parameters<typeof rotateKeyPair>[1], (e: unknown) => boolean][] = [
    ['negative grace', { clientId: client.id, graceSeconds: -1 }, (e) => e instanceof InvalidInput],
    ['fractional grace', { clientId: client.id, graceSeconds: 1.5 }, (e) => e instanceof InvalidInput],
    ['grace over the maximum', { clientId: client.id, graceSeconds: MAX_GRACE_SECONDS + 1 }, (e) => e instanceof InvalidInput],
    ['unknown client', { clientId: '00000000-0000-4000-8000-000000000000' }, (e) => e instanceof NotFound && e.code === 'KEYMINT_CLIENT_NOT_FOUND'],
    ['client id not a UUID', { clientId: 'c' }, (e) => e instanceof InvalidInput],
    ['standard plan', { clientId: stranded.id }, (e) => e instanceof Forbidden && e.code === 'KEYMINT_PLAN_FORBIDS_KEY_PAIRS'],
  ]
  for (const [name, input, expected] of cases) {
    const before = deps.store.dump()
    await assert.rejects(rotateKeyPair(deps, input), expected, name)
    assert.deepEqual(deps.store.dump(), before, `${name}: nothing written`)
  }
  await rotateKeyPair(deps, { clientId: client.id, graceSeconds: MAX_GRACE_SECONDS })
})

test('a rotation that cannot issue its new pair ends nothing', async () => {
  const { deps, client, states } = await world()
  const before = await states()
  const failing = { ...deps, secrets: { generate: () => { throw new Error('entropy exhausted') }, hash: deps.secrets.hash.bind(deps.secrets), keyId: 'k' } }
  await assert.rejects(rotateKeyPair(failing, { clientId: client.id, graceSeconds: 60 }), /entropy exhausted/)
  assert.deepEqual(await states(), before)
})

test('listing key pairs needs a known client', async () => {
  const { deps } = await world()
  await assert.rejects(listKeyPairs(deps, { clientId: '00000000-0000-4000-8000-000000000000' as ClientId }), NotFound)
})
