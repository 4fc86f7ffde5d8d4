import assert from 'node:assert/strict'
import { test } from 'node:test'
import { revokeKeyPairs, rotateKeyPair } from '../../src/domain/key-pairs.js'
import { updateUser } from '../../src/domain/users.js'
import { VerifierUnavailableError } from '../../src/verify/index.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { seedClient, startTestServer, type TestServer } from '../helpers/server.js'
import { basic, form } from '../helpers/tokens.js'
import { headerToken, resourceServerClient, verifierFor } from './support.js'

async function revokeToken(s: TestServer, caller: { clientId: string; clientSecret: string }, token: string): Promise<void> {
  const res = await fetch(`${s.url}/oauth2/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(caller.clientId, caller.clientSecret) },
    body: form({ token }),
  })
  assert.equal(res.status, 200)
}

const revoked = { code: 'invalid_token', message: 'token has been revoked' }

describeEachDialect('keymint/verify revocation feed', (dialect) => {
  test('a token revoked with POST /oauth2/revoke is refused once the verifier has polled; others pass', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const rs = await resourceServerClient(s, c)
    const verifier = verifierFor(t, s, { revocation: rs })
    const [token, other] = [await headerToken(s, c), await headerToken(s, c)]
    assert.ok(await verifier.verify(token), 'the first verify reads the full state')

    await revokeToken(s, rs, token)
    assert.ok(await verifier.verify(token), 'until the next poll the verifier does not know')
    await verifier.refreshRevocations()
    await assert.rejects(verifier.verify(token), revoked)
    assert.ok(await verifier.verify(other), 'only that token')
    await verifier.refreshRevocations()
    await assert.rejects(verifier.verify(token), revoked, 'still refused after a poll with no changes')
  })

  test('a revoked key pair: all its tokens are refused; the client\'s next pair works', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const verifier = verifierFor(t, s, { revocation: await resourceServerClient(s, c) })
    const token = await headerToken(s, c)
    assert.ok(await verifier.verify(token))

    await revokeKeyPairs(s.services, { clientId: c.clientRecordId })
    await verifier.refreshRevocations()
    await assert.rejects(verifier.verify(token), revoked)

    s.clock.advance(2)
    const { keyPair } = await rotateKeyPair(s.services, { clientId: c.clientRecordId })
    const fresh = await headerToken(s, { ...c, clientId: keyPair.id, clientSecret: keyPair.secret })
    await verifier.refreshRevocations()
    assert.equal((await verifier.verify(fresh)).claims.client_id, keyPair.id)
  })

  test('revocations made before the verifier started are known at its first verify', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const rs = await resourceServerClient(s, c)
    const token = await headerToken(s, c)
    await revokeToken(s, rs, token)
    await assert.rejects(verifierFor(t, s, { revocation: rs }).verify(token), revoked)
  })

  test('a disabled user\'s tokens are refused; tokens issued after re-enabling pass (issued_before)', async (t) => {
    const s = await startTestServer(t, dialect)
    const user = await seedClient(s.services, { level: 'user' })
    const verifier = verifierFor(t, s, { revocation: await resourceServerClient(s, user) })
    const before = await headerToken(s, user, '', '/auth/oidc')
    assert.ok(await verifier.verify(before))

    s.clock.advance(1)
    await updateUser(s.services, { userId: user.userId!, disabled: true })
    await verifier.refreshRevocations()
    await assert.rejects(verifier.verify(before), revoked)

    await updateUser(s.services, { userId: user.userId!, disabled: false })
    s.clock.advance(2)
    const after = await headerToken(s, user, '', '/auth/oidc')
    await verifier.refreshRevocations()
    assert.ok(await verifier.verify(after), 'issued after the cut-off')
    await assert.rejects(verifier.verify(before), revoked, 'the old one stays refused')
  })

  test('the feed covers the account of the feed client only', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const stranger = await seedClient(s.services)
    const verifier = verifierFor(t, s, { revocation: await resourceServerClient(s, stranger) })
    const token = await headerToken(s, c)
    await revokeKeyPairs(s.services, { clientId: c.clientRecordId })
    await verifier.refreshRevocations()
    assert.ok(await verifier.verify(token), 'another account\'s revocations are not in this feed')
  })

  test('polls every intervalSeconds with the last cursor; a failed poll goes to onError and keeps the state', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const rs = await resourceServerClient(s, c)
    const feedUrls: string[] = []
    let feedDown = false
    let failed: (err: unknown) => void = () => {}
    const pollFailed = new Promise<unknown>((resolve) => { failed = resolve })
    t.mock.timers.enable({ apis: ['setInterval'] })
    const verifier = verifierFor(t, s, {
      revocation: { ...rs, intervalSeconds: 10, onError: (err) => failed(err) },
      fetch: async (url, init) => {
        if (url.includes('/oauth2/revocations')) {
          feedUrls.push(url)
          if (feedDown) throw new TypeError('fetch failed')
        }
        return fetch(url, init)
      },
    })
    const token = await headerToken(s, c)
    assert.ok(await verifier.verify(token))
    assert.equal(feedUrls.length, 1)
    assert.doesNotMatch(feedUrls[0]!, /cursor=/, 'the first read is the full state')

    await revokeToken(s, rs, token)
    t.mock.timers.tick(10_000)
    assert.equal(feedUrls.length, 2, 'the timer polled')
    assert.match(feedUrls[1]!, /\?cursor=[\w-]+$/, 'with the cursor of the last answer')
    await verifier.refreshRevocations()
    await assert.rejects(verifier.verify(token), revoked)

    feedDown = true
    t.mock.timers.tick(10_000)
    assert.ok(await pollFailed instanceof VerifierUnavailableError)
    await assert.rejects(verifier.verify(token), revoked, 'the last good state stays in force')
  })

  test('fails closed: without a readable feed no token is accepted', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const token = await headerToken(s, c)
    const verifier = verifierFor(t, s, { revocation: { clientId: c.clientId, clientSecret: 'wrong' } })
    await assert.rejects(verifier.verify(token), VerifierUnavailableError)
    await assert.rejects(verifier.refreshRevocations(), /answered 401/)
    assert.throws(() => verifierFor(t, s, { revocation: { clientId: 'x', clientSecret: 'y', intervalSeconds: 0 } }), TypeError)
  })
})
