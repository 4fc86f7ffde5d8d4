import assert from 'node:assert/strict'
import { test } from 'node:test'
import { rotateKeyPair, revokeKeyPairs, listKeyPairs } from '../../src/domain/key-pairs.js'
import { updateUser } from '../../src/domain/users.js'
import { retireServerKey, rotateSigningKey } from '../../src/domain/server-keys.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { seedClient, startTestServer } from '../helpers/server.js'

describeEachDialect('audit log', (dialect) => {
  test('key pair, user and refusal events are recorded with actor and account, never a secret or token', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services, { level: 'user' })
    const tokens: string[] = []
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${s.url}/auth/oidc`, { method: 'POST', headers: { clientId: c.clientId, clientSecret: c.clientSecret } })
      tokens.push(await res.text())
    }
    const wrong = `kmsk_${'Q'.repeat(43)}`
    for (let i = 0; i < 4; i++) {
      await fetch(`${s.url}/auth/oidc`, { method: 'POST', headers: { clientId: c.clientId, clientSecret: wrong } })
    }
    await fetch(`${s.url}/auth/oidc`, { method: 'POST', headers: { clientId: '123e4567-e89b-42d3-a456-426614174000', clientSecret: wrong } })
    const rotated = await rotateKeyPair(s.services, { clientId: c.clientRecordId, graceSeconds: 60, actor: 'user:admin-1' })
    await revokeKeyPairs(s.services, { clientId: c.clientRecordId, actor: 'user:admin-1' })
    await updateUser(s.services, { userId: c.userId!, permissions: ['ui'], actor: 'user:admin-1' })
    await s.server.flushUsage()

    const events = await s.services.store.audit.list({ limit: 100 })
    const of = (action: string) => events.filter((e) => e.action === action)
    assert.equal(of('key_pair.created').length, 1)
    assert.equal(of('key_pair.rotated')[0]?.actor, 'user:admin-1')
    assert.equal(of('key_pair.rotated')[0]?.accountId, c.accountId)
    assert.deepEqual((of('key_pair.revoked')[0]?.details as { revoked: string[] }).revoked.sort(), [c.clientId, rotated.keyPair.id].sort())
    assert.deepEqual(of('user.updated')[0]?.details, { permissions: { before: ['api', 'ui'], after: ['ui'] } })
    const refused = of('authentication.refused')
    const mismatch = refused.find((e) => e.reason === 'secret_mismatch')
    assert.equal(mismatch?.count, 4, 'a burst of failures is one counted row')
    assert.equal(mismatch?.accountId, c.accountId)
    assert.equal(mismatch?.target, c.clientId)
    assert.ok(refused.some((e) => e.reason === 'unknown_client' && e.accountId === null))

    const everything = JSON.stringify(events)
    for (const secret of [c.clientSecret, rotated.keyPair.secret, wrong, ...tokens]) {
      assert.ok(!everything.includes(secret), 'no secret or token in the audit log')
    }
    const [pair] = (await listKeyPairs(s.services, { clientId: c.clientRecordId })).keyPairs.filter((k) => k.id === c.clientId)
    assert.equal(pair?.tokensIssued, 3, 'issuance is counted per key pair, not logged per token')
  })

  test('signing key rotation and retirement are audited under one naming scheme', async (t) => {
    const s = await startTestServer(t, dialect)
    const deps = { store: s.services.store, clock: s.services.clock, sealer: s.services.sealer }
    const [old] = (await s.services.store.serverKeys.listAll()).filter((k) => k.use === 'sig')
    const rotated = await rotateSigningKey(deps, { alg: 'RS256', publishAheadSeconds: 0, actor: 'cli' })
    s.clock.advance(1)
    await retireServerKey(deps, { kid: old!.kid, actor: 'cli' })
    const events = await s.services.store.audit.list({ limit: 100 })
    assert.deepEqual(events.filter((e) => e.action.startsWith('signing_key.')).map((e) => [e.action, e.target]).sort(), [
      ['signing_key.retired', old!.kid], ['signing_key.rotated', rotated.kid],
    ])
  })
})
