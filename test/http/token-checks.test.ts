import assert from 'node:assert/strict'
import { test } from 'node:test'
import { personOf, signedIn } from '../helpers/browser.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { seedClient, startTestServer, type TestServer } from '../helpers/server.js'
import { basic, form } from '../helpers/tokens.js'

const tokenFor = async (s: TestServer, id: string, secret: string): Promise<string> => {
  const res = await fetch(`${s.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form({ grant_type: 'client_credentials', client_id: id, client_secret: secret }),
  })
  assert.equal(res.status, 200)
  return (await res.json() as { access_token: string }).access_token
}

describeEachDialect('POST /api/v1/token-checks', (dialect) => {
  test("says whether a token of the caller's account is active, and why not", async (t) => {
    const s = await startTestServer(t, dialect)
    const { accountId, user } = await personOf(s)
    const admin = await signedIn(s, user.email)
    const member = await signedIn(s, (await personOf(s, { accountId, role: 'member' })).user.email)
    const created = await admin.call('POST', '/clients', { name: 'billing', level: 'subscription', scopes: ['api.read'] })
    const pair = created.body.key_pair as { client_id: string; client_secret: string }
    const token = await tokenFor(s, pair.client_id, pair.client_secret)
    const check = async (as: typeof admin, value: string) => {
      const res = await as.call('POST', '/token-checks', { token: value })
      assert.equal(res.status, 200, JSON.stringify(res.body))
      return res.body
    }
    assert.deepEqual(await check(admin, token), { active: true, reason: null, client_id: pair.client_id })
    assert.deepEqual(await check(member, token), { active: true, reason: null, client_id: pair.client_id }, 'members read clients: they may check')

    const [head, body, signature] = token.split('.') as [string, string, string]
    const cases: [string, string, string][] = [
      ['garbage', 'not a token', 'malformed'],
      ['a forged signature', `${head}.${body}.${signature.slice(0, -4)}AAAA`, 'invalid'],
    ]
    for (const [name, value, reason] of cases) {
      assert.deepEqual(await check(admin, value), { active: false, reason, client_id: null }, name)
    }
    const stranger = await seedClient(s.services)
    assert.deepEqual(await check(admin, await tokenFor(s, stranger.clientId, stranger.clientSecret)), { active: false, reason: 'other_account', client_id: null })

    const revokedToken = await tokenFor(s, pair.client_id, pair.client_secret)
    const revoked = await fetch(`${s.url}/oauth2/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(pair.client_id, pair.client_secret) },
      body: form({ token: revokedToken }),
    })
    assert.equal(revoked.status, 200)
    assert.deepEqual(await check(admin, revokedToken), { active: false, reason: 'revoked', client_id: null })

    assert.equal((await admin.call('DELETE', `/clients/${created.body.client.id}/key-pairs`)).status, 200)
    assert.deepEqual(await check(admin, token), { active: false, reason: 'key_pair_revoked', client_id: null })

    const other = await admin.call('POST', `/clients/${created.body.client.id}/key-pairs`)
    const fresh = await tokenFor(s, other.body.key_pair.client_id, other.body.key_pair.client_secret)
    s.clock.advance(10 * 3600 + 1)
    // The admin's session ended meanwhile (30 minutes unused): a new one.
    assert.deepEqual(await check(await signedIn(s, user.email), fresh), { active: false, reason: 'expired', client_id: null })
  })

  test('refused: without the CSRF token, to a standard account, malformed bodies', async (t) => {
    const s = await startTestServer(t, dialect)
    const admin = await signedIn(s, (await personOf(s)).user.email)
    const standard = await signedIn(s, (await personOf(s, { plan: 'standard' })).user.email)
    const cases: { name: string; as: typeof admin; body: unknown; csrf?: false; status: number; code?: string }[] = [
      { name: 'no CSRF token', as: admin, body: { token: 'x' }, csrf: false, status: 403, code: 'KEYMINT_CSRF_CHECK_FAILED' },
      { name: 'a standard account', as: standard, body: { token: 'x' }, status: 403, code: 'KEYMINT_PLAN_FORBIDS_KEY_PAIRS' },
      { name: 'no token', as: admin, body: {}, status: 400 },
      { name: 'an empty token', as: admin, body: { token: '' }, status: 400 },
      { name: 'an unknown field', as: admin, body: { token: 'x', extra: 1 }, status: 400 },
      { name: 'an oversized token', as: admin, body: { token: 'a'.repeat(16_385) }, status: 400 },
    ]
    for (const c of cases) {
      const res = await c.as.call('POST', '/token-checks', c.body, c.csrf === false ? { csrf: false } : {})
      assert.equal(res.status, c.status, `${c.name}: ${JSON.stringify(res.body)}`)
      if (c.code) assert.equal(res.body.code, c.code, c.name)
    }
    const anonymous = await fetch(`${s.url}/api/v1/token-checks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"token":"x"}' })
    assert.equal(anonymous.status, 401)
  })
})
