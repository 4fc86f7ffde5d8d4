import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createClient } from '../../src/domain/clients.js'
import { revokeKeyPairs, rotateKeyPair } from '../../src/domain/key-pairs.js'
import { updateUser } from '../../src/domain/users.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { seedClient, startTestServer, type SeededClient, type TestServer } from '../helpers/server.js'
import { basic, form } from '../helpers/tokens.js'

interface Feed { cursor: string; tokens: { jti: string; exp: number }[]; clients: { client_id: string; issued_before: number; exp: number }[] }

const feed = async (s: TestServer, caller: { id: string; secret: string }, cursor?: string) => {
  const res = await fetch(`${s.url}/oauth2/revocations${cursor ? `?cursor=${cursor}` : ''}`, { headers: { authorization: basic(caller.id, caller.secret) } })
  assert.equal(res.status, 200)
  return res.json() as Promise<Feed>
}

async function resourceServer(s: TestServer, c: SeededClient) {
  const { keyPair } = await createClient({ store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }, { accountId: c.accountId, name: 'api', level: 'subscription' })
  return { id: keyPair.id, secret: keyPair.secret }
}

describeEachDialect('revocation feed GET /oauth2/revocations', (dialect) => {
  test('lists revoked tokens, ended key pairs and users who lost access; a cursor returns only changes', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const user = await seedClient(s.services, { level: 'user' })
    const rs = await resourceServer(s, c)
    const userRs = await resourceServer(s, user)
    const empty = await feed(s, rs)
    assert.deepEqual([empty.tokens, empty.clients], [[], []])

    const token = await (await fetch(`${s.url}/auth/oauth`, { method: 'POST', headers: { clientId: c.clientId, clientSecret: c.clientSecret } })).text()
    await fetch(`${s.url}/oauth2/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(rs.id, rs.secret) }, body: form({ token }) })
    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string
    s.clock.advance(1)
    await rotateKeyPair(s.services, { clientId: c.clientRecordId })
    const afterRevoke = await feed(s, rs, empty.cursor)
    assert.deepEqual(afterRevoke.tokens.map((x) => x.jti), [jti])
    assert.deepEqual(afterRevoke.clients.map((x) => x.client_id), [c.clientId])

    s.clock.advance(30)
    const later = await feed(s, rs, afterRevoke.cursor)
    assert.equal(later.tokens.length, 1, 'entries near the cursor are sent again (clock skew between instances)')
    const quiet = await feed(s, rs, later.cursor)
    assert.deepEqual([quiet.tokens, quiet.clients], [[], []], 'nothing new since the cursor')
    const full = await feed(s, rs)
    assert.equal(full.tokens.length, 1, 'without a cursor: the whole current state')

    await updateUser(s.services, { userId: user.userId!, disabled: true })
    const disabled = await feed(s, userRs, quiet.cursor)
    assert.deepEqual(disabled.clients.map((x) => x.client_id), [user.clientId])
    assert.ok(disabled.clients[0]!.issued_before > 0)
    const other = await feed(s, rs, quiet.cursor)
    assert.deepEqual(other.clients, [], 'another account sees nothing of it')

    s.clock.advance(60)
    await updateUser(s.services, { userId: user.userId!, disabled: false })
    const reenabled = await feed(s, userRs)
    assert.deepEqual(reenabled.clients.map((x) => x.client_id), [user.clientId], 're-enabling does not take the cut-off out of the feed')
    assert.equal(reenabled.clients[0]!.issued_before, disabled.clients[0]!.issued_before, 'tokens issued before the cut-off stay refused')
  })

  test('the feed needs an authenticated client of an active account; bad cursors are invalid_request', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const rs = await resourceServer(s, c)
    assert.equal((await fetch(`${s.url}/oauth2/revocations`)).status, 401)
    assert.equal((await fetch(`${s.url}/oauth2/revocations`, { headers: { authorization: basic(rs.id, 'wrong') } })).status, 401)
    const good = (await (await fetch(`${s.url}/oauth2/revocations`, { headers: { authorization: basic(rs.id, rs.secret) } })).json() as { cursor: string }).cursor
    for (const cursor of ['%%%', 'bm90LWEtbnVtYmVy', 'x'.repeat(100), `${good}&cursor=${good}`]) {
      const res = await fetch(`${s.url}/oauth2/revocations?cursor=${cursor}`, { headers: { authorization: basic(rs.id, rs.secret) } })
      assert.equal(res.status, 400, cursor)
      assert.equal((await res.json() as { error: string }).error, 'invalid_request')
    }
    await revokeKeyPairs(s.services, { clientId: c.clientRecordId })
    assert.equal((await fetch(`${s.url}/oauth2/revocations`, { headers: { authorization: basic(c.clientId, c.clientSecret) } })).status, 401, 'a revoked pair cannot read the feed')
  })
})
