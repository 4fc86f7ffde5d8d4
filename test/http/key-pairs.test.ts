import assert from 'node:assert/strict'
import { test } from 'node:test'
import { revokeKeyPairs, rotateKeyPair, listKeyPairs } from '../../src/domain/key-pairs.js'
import { personOf, signedIn } from '../helpers/browser.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { seedClient, startTestServer, type TestServer } from '../helpers/server.js'
import { form } from '../helpers/tokens.js'

const token = (s: TestServer, clientId: string, clientSecret: string) => fetch(`${s.url}/oauth2/token`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: form({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
})

describeEachDialect('key pair lifecycle over HTTP', (dialect) => {
  test('rotation without grace revokes the old pair at once; the new one works', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    assert.equal((await token(s, c.clientId, c.clientSecret)).status, 200)
    const rotated = await rotateKeyPair(s.services, { clientId: c.clientRecordId })
    assert.notEqual(rotated.keyPair.id, c.clientId)
    assert.equal((await token(s, c.clientId, c.clientSecret)).status, 401)
    assert.equal((await token(s, rotated.keyPair.id, rotated.keyPair.secret)).status, 200)
  })

  test('rotation with grace keeps the old pair working until the grace ends', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const rotated = await rotateKeyPair(s.services, { clientId: c.clientRecordId, graceSeconds: 600 })
    assert.equal((await token(s, c.clientId, c.clientSecret)).status, 200, 'old pair inside the grace period')
    assert.equal((await token(s, rotated.keyPair.id, rotated.keyPair.secret)).status, 200)
    const listed = await listKeyPairs(s.services, { clientId: c.clientRecordId })
    assert.deepEqual(listed.keyPairs.map((k) => k.status.state).sort(), ['active', 'grace'])
    s.clock.advance(601)
    assert.equal((await token(s, c.clientId, c.clientSecret)).status, 401, 'old pair after the grace period')
    assert.equal((await token(s, rotated.keyPair.id, rotated.keyPair.secret)).status, 200)
  })

  test('a second rotation reports when each older pair really ends: a shorter grace is kept', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const first = await rotateKeyPair(s.services, { clientId: c.clientRecordId, graceSeconds: 120 })
    const firstEnd = first.ended[0]?.endsAt.getTime()
    assert.equal(firstEnd, s.clock.now().getTime() + 120_000)
    s.clock.advance(10)
    const second = await rotateKeyPair(s.services, { clientId: c.clientRecordId, graceSeconds: 3600 })
    const ends = new Map(second.ended.map((e) => [e.id as string, e.endsAt.getTime()]))
    assert.equal(ends.get(c.clientId), firstEnd, 'the original pair keeps its 2-minute end')
    assert.equal(ends.get(first.keyPair.id), s.clock.now().getTime() + 3_600_000)
    const listed = await listKeyPairs(s.services, { clientId: c.clientRecordId })
    for (const pair of listed.keyPairs) {
      if (ends.has(pair.id)) assert.equal(pair.expiresAt?.getTime(), ends.get(pair.id), 'what rotate reported is what is stored')
    }
  })

  test('revoke ends every live pair, including one in grace', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const rotated = await rotateKeyPair(s.services, { clientId: c.clientRecordId, graceSeconds: 600 })
    const result = await revokeKeyPairs(s.services, { clientId: c.clientRecordId })
    assert.equal(result.revoked.length, 2)
    assert.equal((await token(s, c.clientId, c.clientSecret)).status, 401)
    assert.equal((await token(s, rotated.keyPair.id, rotated.keyPair.secret)).status, 401)
  })

  test('last use is recorded in batches, not per token', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    for (let i = 0; i < 3; i++) assert.equal((await token(s, c.clientId, c.clientSecret)).status, 200)
    const before = await listKeyPairs(s.services, { clientId: c.clientRecordId })
    assert.equal(before.keyPairs[0]?.lastUsedAt, null, 'nothing written yet on the token path')
    await s.server.flushUsage()
    const after = await listKeyPairs(s.services, { clientId: c.clientRecordId })
    const lastUsed = after.keyPairs[0]?.lastUsedAt
    assert.ok(lastUsed instanceof Date)
    assert.ok(Math.abs(lastUsed.getTime() - s.clock.now().getTime()) < 1000)
  })
})

describeEachDialect('DELETE /api/v1/clients/{id}/key-pairs/{client_id}: one key pair', (dialect) => {
  test('ends a grace now: the old pair stops, its tokens stop being accepted, the new pair works; audited', async (t) => {
    const s = await startTestServer(t, dialect)
    const { accountId } = await personOf(s)
    const admin = await signedIn(s, (await personOf(s, { accountId, email: 'boss@example.com' })).user.email)
    const created = await admin.call('POST', '/clients', { name: 'billing', level: 'subscription', scopes: ['api.read'] })
    assert.equal(created.status, 201, JSON.stringify(created.body))
    const clientId = created.body.client.id as string
    const old = created.body.key_pair as { client_id: string; client_secret: string }
    const rotated = await admin.call('POST', `/clients/${clientId}/key-pairs`, { grace_seconds: 3600 })
    assert.equal(rotated.status, 201)
    const oldToken = await token(s, old.client_id, old.client_secret)
    assert.equal(oldToken.status, 200, 'the old pair works in its grace')
    const { access_token: accessToken } = await oldToken.json() as { access_token: string }

    const ended = await admin.call('DELETE', `/clients/${clientId}/key-pairs/${old.client_id}`)
    assert.equal(ended.status, 200, JSON.stringify(ended.body))
    assert.deepEqual(ended.body, { revoked: [old.client_id] })
    assert.equal((await token(s, old.client_id, old.client_secret)).status, 401)
    assert.equal((await token(s, rotated.body.key_pair.client_id, rotated.body.key_pair.client_secret)).status, 200)
    const introspected = await fetch(`${s.url}/oauth2/introspect`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ token: accessToken, client_id: rotated.body.key_pair.client_id, client_secret: rotated.body.key_pair.client_secret }),
    })
    assert.deepEqual(await introspected.json(), { active: false })
    const listed = await admin.call('GET', `/clients/${clientId}/key-pairs`)
    assert.deepEqual(listed.body.items.map((k: { state: string }) => k.state).sort(), ['active', 'revoked'])
    const again = await admin.call('DELETE', `/clients/${clientId}/key-pairs/${old.client_id}`)
    assert.deepEqual([again.status, again.body], [200, { revoked: [] }], 'ended already')
    const events = await admin.call('GET', '/audit-events?limit=50')
    const revokedEvents = events.body.items.filter((e: { action: string }) => e.action === 'key_pair.revoked')
    assert.deepEqual(revokedEvents.map((e: { details: unknown; target: string }) => [e.target, e.details]), [[clientId, { revoked: [old.client_id] }]])
  })

  test('refuses: another client\'s pair, another account, a member, no CSRF token, a malformed id', async (t) => {
    const s = await startTestServer(t, dialect)
    const { accountId, user } = await personOf(s)
    const admin = await signedIn(s, user.email)
    const first = await admin.call('POST', '/clients', { name: 'a', level: 'subscription' })
    const second = await admin.call('POST', '/clients', { name: 'b', level: 'subscription' })
    const stranger = await seedClient(s.services)
    const member = await signedIn(s, (await personOf(s, { accountId, role: 'member' })).user.email)
    const path = (client: string, pair: string) => `/clients/${client}/key-pairs/${pair}`
    const cases: { name: string; as: typeof admin; path: string; csrf?: false; status: number; code?: string; title?: string }[] = [
      { name: "another client's pair", as: admin, path: path(first.body.client.id, second.body.key_pair.client_id), status: 404, code: 'KEYMINT_KEY_PAIR_NOT_FOUND' },
      { name: "another account's client", as: admin, path: path(stranger.clientRecordId, stranger.clientId), status: 404, code: 'KEYMINT_CLIENT_NOT_FOUND' },
      { name: 'a member', as: member, path: path(first.body.client.id, first.body.key_pair.client_id), status: 403, title: 'insufficient_scope' },
      { name: 'no CSRF token', as: admin, path: path(first.body.client.id, first.body.key_pair.client_id), csrf: false, status: 403, code: 'KEYMINT_CSRF_CHECK_FAILED' },
      { name: 'a malformed client_id', as: admin, path: path(first.body.client.id, 'nope'), status: 400, title: 'invalid_request' },
    ]
    for (const c of cases) {
      const res = await c.as.call('DELETE', c.path, undefined, c.csrf === false ? { csrf: false } : {})
      assert.equal(res.status, c.status, `${c.name}: ${JSON.stringify(res.body)}`)
      if (c.code) assert.equal(res.body.code, c.code, c.name)
      if (c.title) assert.equal(res.body.title, c.title, c.name)
    }
    const pairs = await admin.call('GET', `/clients/${first.body.client.id}/key-pairs`)
    assert.deepEqual(pairs.body.items.map((k: { state: string }) => k.state), ['active'], 'nothing was revoked')
  })
})
