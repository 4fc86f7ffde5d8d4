import assert from 'node:assert/strict'
import { test } from 'node:test'
import { revokeKeyPairs, rotateKeyPair, listKeyPairs } from '../../src/domain/key-pairs.js'
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
