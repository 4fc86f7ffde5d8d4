import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { rotateKeyPair, revokeKeyPairs, listKeyPairs } from '../../src/domain/key-pairs.js'
import { updateUser } from '../../src/domain/users.js'
import { retireServerKey, rotateSigningKey } from '../../src/domain/server-keys.js'
import { keymintJson } from '../helpers/cli.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { seedClient, startTestServer, tempDir, type TestServer } from '../helpers/server.js'
import { basic, form } from '../helpers/tokens.js'

const WRONG = `kmsk_${'Q'.repeat(43)}`

async function adminToken(s: TestServer, c: { clientId: string; clientSecret: string }): Promise<string> {
  const res = await fetch(`${s.url}/oauth2/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, c.clientSecret) },
    body: form({ grant_type: 'client_credentials' }),
  })
  assert.equal(res.status, 200)
  return (await res.json() as { access_token: string }).access_token
}

interface WireEvent { account_id: string | null; action: string; target: string | null; reason: string | null; count: number }

describeEachDialect('audit log', (dialect) => {
  test('key pair, user and refusal events are recorded with actor and account, never a secret or token', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services, { level: 'user' })
    const tokens: string[] = []
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${s.url}/auth/oidc`, { method: 'POST', headers: { clientId: c.clientId, clientSecret: c.clientSecret } })
      tokens.push(await res.text())
    }
    const wrong = WRONG
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

  test('a flood of unknown client ids from one address is one counted row per reason, naming none of them', async (t) => {
    const s = await startTestServer(t, dialect)
    const ids = Array.from({ length: 60 }, () => randomUUID())
    const statuses = []
    for (const id of ids) {
      statuses.push((await fetch(`${s.url}/auth/oauth`, { method: 'POST', headers: { clientId: id, clientSecret: WRONG } })).status)
    }
    assert.deepEqual([...new Set(statuses)].sort(), [401, 429], 'the address limit (30) refuses the second half')
    await s.server.flushUsage()

    const refused = (await s.services.store.audit.list({ limit: 1000 })).filter((e) => e.action === 'authentication.refused')
    assert.deepEqual(refused.map((e) => e.reason).sort(), ['throttled', 'unknown_client'])
    assert.equal(refused.reduce((n, e) => n + e.count, 0), 60)
    for (const e of refused) {
      assert.equal(e.accountId, null)
      assert.equal(e.target, null)
      assert.equal(e.details.client_ids, e.count, 'how many ids were tried, counted')
    }
    const everything = JSON.stringify(refused)
    assert.ok(ids.every((id) => !everything.includes(id)), 'never the ids themselves')
  })

  test('a refusal against a real client is in its account\'s audit log, over the API and the CLI', async (t) => {
    const s = await startTestServer(t, dialect)
    const admin = await seedClient(s.services, { clientScopes: ['keymint:audit:read'] })
    const stranger = await seedClient(s.services, { clientScopes: ['keymint:audit:read'] })
    for (const clientSecret of [WRONG, 'kmsk_truncated']) {
      const res = await fetch(`${s.url}/auth/oauth`, { method: 'POST', headers: { clientId: admin.clientId, clientSecret } })
      assert.equal(res.status, 401)
    }
    await s.server.flushUsage()

    const read = async (c: typeof admin) => {
      const listed = await fetch(`${s.url}/api/v1/audit-events?limit=100`, { headers: { authorization: `Bearer ${await adminToken(s, c)}` } })
      assert.equal(listed.status, 200)
      return (await listed.json() as { items: WireEvent[] }).items.filter((e) => e.action === 'authentication.refused')
    }
    const seen = await read(admin)
    assert.deepEqual(seen.map((e) => [e.account_id, e.target, e.reason, e.count]).sort(), [
      [admin.accountId, admin.clientId, 'malformed_secret', 1], [admin.accountId, admin.clientId, 'secret_mismatch', 1],
    ])
    assert.deepEqual(await read(stranger), [], 'another account sees none of it')

    const { items: events } = await keymintJson<{ items: WireEvent[] }>(['audit', 'list', '--account', admin.accountId, '--db', s.config.database.url], {
      env: { KEYMINT_MASTER_KEY: s.config.masterKey.value }, cwd: tempDir(t),
    })
    assert.deepEqual(events.filter((e) => e.action === 'authentication.refused').map((e) => [e.account_id, e.target, e.reason]).sort(),
      [[admin.accountId, admin.clientId, 'malformed_secret'], [admin.accountId, admin.clientId, 'secret_mismatch']])
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
