import assert from 'node:assert/strict'
import { test } from 'node:test'
import { loadConfig } from '../../src/config.js'
import { createClient } from '../../src/domain/clients.js'
import { revokeKeyPairs, rotateKeyPair } from '../../src/domain/key-pairs.js'
import { updateUser } from '../../src/domain/users.js'
import { startServer } from '../../src/server.js'
import { openServices } from '../../src/services.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { cleanup } from '../helpers/cleanup.js'
import { seedClient, startTestServer, type SeededClient, type TestServer } from '../helpers/server.js'
import { basic, form } from '../helpers/tokens.js'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

async function tokenFor(s: TestServer, c: SeededClient, path = '/auth/oauth', body = ''): Promise<string> {
  const res = await fetch(`${s.url}${path}`, { method: 'POST', headers: { clientId: c.clientId, clientSecret: c.clientSecret, ...FORM }, body })
  assert.equal(res.status, 200)
  return res.text()
}

async function introspect(url: string, caller: SeededClient, token: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/oauth2/introspect`, { method: 'POST', headers: { ...FORM, authorization: basic(caller.clientId, caller.clientSecret) }, body: form({ token }) })
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('cache-control'), 'no-store')
  return res.json() as Promise<Record<string, unknown>>
}

const revoke = (url: string, caller: SeededClient, token: string) =>
  fetch(`${url}/oauth2/revoke`, { method: 'POST', headers: { ...FORM, authorization: basic(caller.clientId, caller.clientSecret) }, body: form({ token, token_type_hint: 'access_token' }) })

/** A second client in the same account as `c`, to call the endpoints with. */
async function sibling(s: TestServer, c: SeededClient): Promise<SeededClient> {
  const { client, keyPair } = await createClient({ store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }, { accountId: c.accountId, name: 'resource-server', level: 'subscription' })
  return { ...c, clientRecordId: client.id, clientId: keyPair.id, clientSecret: keyPair.secret, userId: undefined }
}

describeEachDialect('RFC 7662 introspection and RFC 7009 revocation', (dialect) => {
  test('an active token, plain or encrypted, is reported with its claims to a client of its account', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services, { level: 'user', userScopes: ['assets:read'] })
    const rs = await sibling(s, c)
    for (const body of ['', 'encrypted=RSA512']) {
      const result = await introspect(s.url, rs, await tokenFor(s, c, '/auth/oidc', body))
      assert.equal(result.active, true, body)
      assert.equal(result.client_id, c.clientId)
      assert.equal(result.sub, c.userId)
      assert.equal(result.scope, 'assets:read')
      assert.equal(result.token_type, 'Bearer')
      assert.equal(result.iss, s.url)
      assert.equal(typeof result.exp, 'number')
    }
  })

  test('inactive: garbage, tampered, expired, and tokens of another account', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const stranger = await seedClient(s.services)
    const token = await tokenFor(s, c)
    const [h, p, sig] = token.split('.') as [string, string, string]
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), scope: 'keymint:admin' })).toString('base64url')}.${sig}`
    const none = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${p}.`
    for (const garbage of ['x', 'a.b.c', 'a.b.c.d.e', forged, none, `${token}x`, 'x'.repeat(15_000)]) {
      assert.deepEqual(await introspect(s.url, c, garbage), { active: false })
    }
    assert.deepEqual(await introspect(s.url, stranger, token), { active: false }, 'another account sees nothing')
    s.clock.advance(4 * 3600 + 1)
    assert.deepEqual(await introspect(s.url, c, token), { active: false }, 'expired')
  })

  test('revocation: the token turns inactive; unknown tokens and repeats still get 200', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const rs = await sibling(s, c)
    const token = await tokenFor(s, c)
    const other = await tokenFor(s, c)
    assert.equal((await revoke(s.url, rs, token)).status, 200)
    assert.deepEqual(await introspect(s.url, rs, token), { active: false })
    assert.equal((await introspect(s.url, rs, other)).active, true, 'only that token')
    assert.equal((await revoke(s.url, rs, token)).status, 200, 'again')
    const unknown = await revoke(s.url, rs, 'not-a-token')
    assert.equal(unknown.status, 200)
    assert.equal(await unknown.text(), '')
  })

  test('a foreign account cannot revoke a token', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const stranger = await seedClient(s.services)
    const token = await tokenFor(s, c)
    assert.equal((await revoke(s.url, stranger, token)).status, 200)
    assert.equal((await introspect(s.url, c, token)).active, true)
  })

  test('tokens of revoked key pairs, ended grace periods, disabled users and users who lost ui or api are inactive', async (t) => {
    const s = await startTestServer(t, dialect)
    const revoked = await seedClient(s.services)
    const graced = await seedClient(s.services)
    const user = await seedClient(s.services, { level: 'user' })
    const rs = await sibling(s, user)
    const revokedToken = await tokenFor(s, revoked)
    const gracedToken = await tokenFor(s, graced)
    const userToken = await tokenFor(s, user, '/auth/oidc')

    await revokeKeyPairs(s.services, { clientId: revoked.clientRecordId })
    assert.deepEqual(await introspect(s.url, revoked.clientId === rs.clientId ? rs : await sibling(s, revoked), revokedToken), { active: false })

    await rotateKeyPair(s.services, { clientId: graced.clientRecordId, graceSeconds: 600 })
    const gracedRs = await sibling(s, graced)
    assert.equal((await introspect(s.url, gracedRs, gracedToken)).active, true, 'inside the grace period')
    s.clock.advance(601)
    assert.deepEqual(await introspect(s.url, gracedRs, gracedToken), { active: false }, 'after the grace period')

    let token = userToken
    for (const patch of [{ disabled: true }, { permissions: ['ui'] }, { permissions: ['api'] }]) {
      await updateUser(s.services, { userId: user.userId!, ...patch })
      assert.deepEqual(await introspect(s.url, rs, token), { active: false }, JSON.stringify(patch))
      s.clock.advance(1)
      await updateUser(s.services, { userId: user.userId!, disabled: false, permissions: ['api', 'ui'] })
      // A cut-off is permanent for the tokens it cut off; only tokens issued afterwards work.
      assert.deepEqual(await introspect(s.url, rs, token), { active: false }, `${JSON.stringify(patch)} undone`)
      assert.deepEqual(await introspect(s.url, rs, userToken), { active: false }, 'the first token stays dead')
      s.clock.advance(1)
      token = await tokenFor(s, user, '/auth/oidc')
      assert.equal((await introspect(s.url, rs, token)).active, true, 'a token issued after re-enabling works')
    }
  })

  test('callers must authenticate; a missing token or a JSON body is invalid_request', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const token = await tokenFor(s, c)
    const cases: { path: string; headers: Record<string, string>; body: string; status: number; error: string }[] = [
      { path: '/oauth2/introspect', headers: FORM, body: form({ token }), status: 401, error: 'invalid_client' },
      { path: '/oauth2/revoke', headers: FORM, body: form({ token }), status: 401, error: 'invalid_client' },
      { path: '/oauth2/introspect', headers: { ...FORM, authorization: basic(c.clientId, 'wrong') }, body: form({ token }), status: 401, error: 'invalid_client' },
      { path: '/oauth2/introspect', headers: { ...FORM, authorization: basic(c.clientId, c.clientSecret) }, body: '', status: 400, error: 'invalid_request' },
      { path: '/oauth2/revoke', headers: { ...FORM, authorization: basic(c.clientId, c.clientSecret) }, body: 'token=', status: 400, error: 'invalid_request' },
      { path: '/oauth2/introspect', headers: { 'content-type': 'application/json', authorization: basic(c.clientId, c.clientSecret) }, body: JSON.stringify({ token }), status: 400, error: 'invalid_request' },
      { path: '/oauth2/introspect', headers: { ...FORM, authorization: basic(c.clientId, c.clientSecret) }, body: `${form({ token })}&token=x`, status: 400, error: 'invalid_request' },
    ]
    for (const c2 of cases) {
      const res = await fetch(`${s.url}${c2.path}`, { method: 'POST', headers: c2.headers, body: c2.body })
      assert.equal(res.status, c2.status, `${c2.path} ${c2.body.slice(0, 20)}`)
      assert.equal((await res.json() as { error: string }).error, c2.error)
    }
  })

  test('a revocation on one instance holds on another sharing the database', async (t) => {
    // Instances behind one load balancer share one issuer.
    const a = await startTestServer(t, dialect, { issuer: 'http://keymint.test' })
    const c = await seedClient(a.services)
    const rs = await sibling(a, c)
    const services = await openServices(a.config)
    const b = await startServer(loadConfig({ db: a.config.database.url, port: 0, logLevel: 'silent', issuer: 'http://keymint.test' }, { KEYMINT_MASTER_KEY: a.config.masterKey.value }), { services })
    cleanup(t, () => b.close())
    const token = await tokenFor(a, c)
    assert.equal((await introspect(b.url, rs, token)).active, true)
    assert.equal((await revoke(a.url, rs, token)).status, 200)
    await b.refreshRevocations()
    assert.deepEqual(await introspect(b.url, rs, token), { active: false })
  })
})
