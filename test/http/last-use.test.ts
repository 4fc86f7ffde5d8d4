import assert from 'node:assert/strict'
import { request } from 'node:http'
import { test } from 'node:test'
import { describeEachDialect } from '../helpers/dialects.js'
import { adminOf, type ApiCall } from '../helpers/management.js'
import { startTestServer, type TestServer } from '../helpers/server.js'
import { form } from '../helpers/tokens.js'

// A key pair's last use keeps where it came from (issue 15, item 3): the address (through
// KEYMINT_TRUST_PROXY) and the User-Agent, shortened and printable, written by the usage flush.

interface Pair { readonly client_id: string; readonly client_secret: string }

/** A token request with exactly these headers (node:http lets through tabs and bytes ≥ 0x80, as a hostile client may send). */
function tokenRequest(s: TestServer, path: '/oauth2/token' | '/auth/oauth', p: Pair, headers: Record<string, string>): Promise<number> {
  const body = path === '/oauth2/token' ? form({ grant_type: 'client_credentials', client_id: p.client_id, client_secret: p.client_secret }) : ''
  const credentials = path === '/auth/oauth' ? { clientId: p.client_id, clientSecret: p.client_secret } : { 'content-type': 'application/x-www-form-urlencoded' }
  return new Promise((resolve, reject) => {
    const req = request(`${s.url}${path}`, { method: 'POST', headers: { ...credentials, ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function pairs(call: ApiCall, clientId: string): Promise<Record<string, unknown>[]> {
  const listed = await call('GET', `/clients/${clientId}/key-pairs`)
  assert.equal(listed.status, 200, JSON.stringify(listed.body))
  return listed.body.items as Record<string, unknown>[]
}

async function newClient(call: ApiCall): Promise<{ id: string; pair: Pair }> {
  const created = await call('POST', '/clients', { name: 'integration', level: 'subscription' })
  assert.equal(created.status, 201)
  return { id: created.body.client.id as string, pair: created.body.key_pair as Pair }
}

describeEachDialect('key pair last use', (dialect) => {
  test('behind a trusted proxy: the forwarded address and a shortened, printable User-Agent, written by the flush', async (t) => {
    const s = await startTestServer(t, dialect, { trustProxy: 'true' })
    const { call } = await adminOf(s)
    const c = await newClient(call)
    // A tab, a UTF-8 right-to-left override read as Latin-1 (C1 control bytes), and far too much of it.
    const hostileAgent = `billing-sync/2.4\tbuild ${Buffer.from('\u202e', 'utf8').toString('latin1')}evil ${'x'.repeat(500)}`
    assert.equal(await tokenRequest(s, '/oauth2/token', c.pair, { 'x-forwarded-for': '203.0.113.9', 'user-agent': hostileAgent }), 200)
    const [unwritten] = await pairs(call, c.id)
    assert.deepEqual([unwritten?.last_used_at, unwritten?.last_used_address, unwritten?.last_used_user_agent], [null, null, null], 'nothing written on the token path')

    await s.server.flushUsage()
    const [written] = await pairs(call, c.id)
    assert.equal(written?.last_used_address, '203.0.113.9')
    const agent = String(written?.last_used_user_agent)
    assert.ok(agent.startsWith('billing-sync/2.4 build '), agent)
    assert.ok(Array.from(agent).length <= 200, `at most 200 characters (${Array.from(agent).length})`)
    assert.doesNotMatch(agent, /[\p{Cc}\p{Cf}]/u, 'no control or format characters')
    assert.ok(agent.endsWith('…'), 'a shortened agent says so')

    // The header dialect too; a later use replaces the address and agent of the earlier one.
    assert.equal(await tokenRequest(s, '/auth/oauth', c.pair, { 'x-forwarded-for': '198.51.100.4, 203.0.113.9', 'user-agent': 'curl/8.5.0' }), 200)
    s.clock.advance(5)
    assert.equal(await tokenRequest(s, '/auth/oauth', c.pair, { 'x-forwarded-for': '2001:db8::7' }), 200)
    await s.server.flushUsage()
    const [latest] = await pairs(call, c.id)
    assert.deepEqual([latest?.last_used_address, latest?.last_used_user_agent], ['2001:db8::7', null], 'the last use had no User-Agent')
    assert.equal(latest?.tokens_issued, 3)
    assert.equal(latest?.last_used_at, s.clock.now().toISOString())
  })

  test('without a trusted proxy, X-Forwarded-For is ignored: the peer address is kept', async (t) => {
    const s = await startTestServer(t, dialect)
    const { call } = await adminOf(s)
    const c = await newClient(call)
    assert.equal(await tokenRequest(s, '/oauth2/token', c.pair, { 'x-forwarded-for': '203.0.113.9', 'user-agent': 'curl/8.5.0' }), 200)
    await s.server.flushUsage()
    const [pair] = await pairs(call, c.id)
    assert.match(String(pair?.last_used_address), /^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/)
    assert.equal(pair?.last_used_user_agent, 'curl/8.5.0')
  })
})
