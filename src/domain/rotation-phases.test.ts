import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fakeDeps } from '../../test/fakes/deps.js'
import { createAccount } from './accounts.js'
import { createClient } from './clients.js'
import { Forbidden, InvalidInput, InvalidState, NotFound } from './errors.js'
import { listKeyPairs, revokeKeyPair, rotateKeyPair } from './key-pairs.js'
import { cancelRotation, finishRotation } from './rotation-phases.js'

async function world() {
  const deps = fakeDeps()
  const account = await createAccount(deps, { name: 'acme' })
  const { client, keyPair } = await createClient(deps, { accountId: account.id, name: 'c', level: 'subscription' })
  const states = async () => Object.fromEntries((await listKeyPairs(deps, { clientId: client.id })).keyPairs.map((p) => [p.id, p.status]))
  const audited = async (action: string) => (await deps.store.audit.list({ limit: 50 })).filter((e) => e.action === action)
  return { deps, accountId: account.id, client, first: keyPair, states, audited }
}

test('finishing a rotation ends the grace now: only the newest pair stays; audited', async () => {
  const { deps, client, first, states, audited } = await world()
  const rotated = await rotateKeyPair(deps, { clientId: client.id, graceSeconds: 3600 })
  deps.clock.advance(60)
  const finished = await finishRotation(deps, { clientId: client.id, actor: 'user:u' })
  assert.deepEqual(finished, { clientId: client.id, kept: rotated.keyPair.id, revoked: [first.id] })
  assert.deepEqual(await states(), { [first.id]: { state: 'revoked', since: deps.clock.now() }, [rotated.keyPair.id]: { state: 'active' } })
  const [event] = await audited('key_pair.rotation_finished')
  assert.deepEqual([event?.actor, event?.target, event?.details], ['user:u', client.id, { client_id: rotated.keyPair.id, revoked: [first.id] }])
})

test('finishing ends every older pair still in a grace, from earlier rotations too', async () => {
  const { deps, client, first, states } = await world()
  deps.clock.advance(1)
  const second = await rotateKeyPair(deps, { clientId: client.id, graceSeconds: 600 })
  deps.clock.advance(1)
  const third = await rotateKeyPair(deps, { clientId: client.id, graceSeconds: 600 })
  const finished = await finishRotation(deps, { clientId: client.id })
  assert.deepEqual(finished.revoked.sort(), [first.id, second.keyPair.id].sort())
  assert.deepEqual((await states())[third.keyPair.id], { state: 'active' })
})

test('cancelling a rotation revokes the newest pair and makes the one it replaced active again, its end cleared; audited', async () => {
  const { deps, client, first, states, audited } = await world()
  deps.clock.advance(1)
  const rotated = await rotateKeyPair(deps, { clientId: client.id, graceSeconds: 600 })
  deps.clock.advance(60)
  const cancelled = await cancelRotation(deps, { clientId: client.id, actor: 'cli' })
  assert.deepEqual(cancelled, { clientId: client.id, revoked: rotated.keyPair.id, restored: first.id })
  const now = deps.clock.now()
  assert.deepEqual(await states(), { [first.id]: { state: 'active' }, [rotated.keyPair.id]: { state: 'revoked', since: now } })
  deps.clock.advance(3600)
  assert.deepEqual((await states())[first.id], { state: 'active' }, 'the old grace end no longer applies')
  const [event] = await audited('key_pair.rotation_cancelled')
  assert.deepEqual([event?.actor, event?.target, event?.details], ['cli', client.id, { revoked: [rotated.keyPair.id], restored: first.id }])
})

test('cancelling undoes the last rotation only: a pair from an earlier one keeps its grace', async () => {
  const { deps, client, first, states } = await world()
  deps.clock.advance(1)
  const second = await rotateKeyPair(deps, { clientId: client.id, graceSeconds: 600 })
  deps.clock.advance(1)
  const third = await rotateKeyPair(deps, { clientId: client.id, graceSeconds: 60 })
  const firstEnd = (await listKeyPairs(deps, { clientId: client.id })).keyPairs.find((p) => p.id === first.id)?.expiresAt
  const cancelled = await cancelRotation(deps, { clientId: client.id })
  assert.deepEqual([cancelled.revoked, cancelled.restored], [third.keyPair.id, second.keyPair.id])
  const s = await states()
  assert.deepEqual([s[first.id], s[second.keyPair.id]], [{ state: 'grace', until: firstEnd }, { state: 'active' }])
})

test('finish and cancel refuse when no rotation is in progress, writing nothing', async () => {
  const { deps, client } = await world()
  const refused = (e: unknown) => e instanceof InvalidState && e.code === 'KEYMINT_NO_ROTATION_IN_PROGRESS'
  const check = async (name: string) => {
    for (const [verb, fn] of [['finish', finishRotation], ['cancel', cancelRotation]] as const) {
      const before = deps.store.dump()
      await assert.rejects(fn(deps, { clientId: client.id }), refused, `${verb}: ${name}`)
      assert.deepEqual(deps.store.dump(), before, `${verb}: ${name}: nothing written`)
    }
  }
  await check('never rotated')
  deps.clock.advance(1)
  await rotateKeyPair(deps, { clientId: client.id })
  await check('rotated without a grace')
  deps.clock.advance(1)
  const graced = await rotateKeyPair(deps, { clientId: client.id, graceSeconds: 60 })
  deps.clock.advance(60)
  await check('the grace ended')
  deps.clock.advance(1)
  await rotateKeyPair(deps, { clientId: client.id, graceSeconds: 60 })
  await revokeKeyPair(deps, { clientId: client.id, keyPairId: graced.keyPair.id })
  await check('the old pair was revoked')
  deps.clock.advance(1)
  await rotateKeyPair(deps, { clientId: client.id, graceSeconds: 60 })
  await finishRotation(deps, { clientId: client.id })
  await check('finished already')
})

test('finish and cancel refuse an unknown client, a malformed id and a caller holding less than the client', async () => {
  const { deps, accountId } = await world()
  const other = await createClient(deps, { accountId, name: 'other', level: 'subscription', scopes: ['keymint:admin'] })
  await rotateKeyPair(deps, { clientId: other.client.id, graceSeconds: 60 })
  const cases: [string, { clientId: string; authority?: { scopes: Set<string> } }, (e: unknown) => boolean][] = [
    ['unknown client', { clientId: '00000000-0000-4000-8000-000000000000' }, (e) => e instanceof NotFound && e.code === 'KEYMINT_CLIENT_NOT_FOUND'],
    ['client id not a UUID', { clientId: 'c' }, (e) => e instanceof InvalidInput],
    ['a client holding more than the caller', { clientId: other.client.id, authority: { scopes: new Set(['keymint:keys:write']) } },
      (e) => e instanceof Forbidden && e.code === 'KEYMINT_ADMIN_REQUIRED'],
  ]
  for (const [name, input, expected] of cases) {
    for (const fn of [finishRotation, cancelRotation]) {
      const before = deps.store.dump()
      await assert.rejects(fn(deps, input), expected, name)
      assert.deepEqual(deps.store.dump(), before, `${name}: nothing written`)
    }
  }
})
