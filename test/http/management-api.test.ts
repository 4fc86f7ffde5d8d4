import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { test } from 'node:test'
import { describeEachDialect } from '../helpers/dialects.js'
import { adminOf, api, tokenOf } from '../helpers/management.js'
import { registerApi, seedClient, startTestServer } from '../helpers/server.js'

describeEachDialect('management REST API /api/v1', (dialect) => {
  test('an admin token manages users, clients and key pairs of its account', async (t) => {
    const s = await startTestServer(t, dialect)
    const { seed, call } = await adminOf(s)
    assert.equal((await call('GET', '/account')).body.id, seed.accountId)

    const user = await call('POST', '/users', { email: 'ops@example.com', role: 'admin', permissions: ['ui', 'api'], scopes: ['assets:read'] })
    assert.equal(user.status, 201)
    const patched = await call('PATCH', `/users/${user.body.id}`, { scopes: ['assets:read', 'assets:write'] })
    assert.deepEqual(patched.body.scopes, ['assets:read', 'assets:write'])
    assert.ok((await call('GET', '/users')).body.items.some((u: { id: string }) => u.id === user.body.id))

    const created = await call('POST', '/clients', { name: 'ci', level: 'user', user_id: user.body.id, lifetime_seconds: 900 })
    assert.equal(created.status, 201)
    assert.equal(created.headers.get('cache-control'), 'no-store')
    const { client_id, client_secret } = created.body.key_pair as { client_id: string; client_secret: string }
    const minted = await tokenOf(s, { clientId: client_id, clientSecret: client_secret })
    assert.ok(minted)

    const clientId = created.body.client.id as string
    const changed = await call('PATCH', `/clients/${clientId}`, { scopes: ['assets:read'], lifetime_seconds: 600, token_encryption: 'RSA-OAEP-256' })
    assert.equal(changed.status, 200)
    assert.deepEqual([changed.body.scopes, changed.body.lifetime_seconds, changed.body.token_encryption], [['assets:read'], 600, 'RSA-OAEP-256'])
    const sealed = await tokenOf(s, { clientId: client_id, clientSecret: client_secret })
    assert.equal(sealed.split('.').length, 5, 'the change applies to the next token at once')
    assert.equal((await call('PATCH', `/clients/${clientId}`, { lifetime_seconds: 5 })).status, 400)
    const listed = await call('GET', `/clients/${clientId}/key-pairs`)
    assert.equal(listed.body.items[0].client_id, client_id)
    assert.ok(!JSON.stringify(listed.body).includes(client_secret.slice(5)), 'listing never shows a secret')
    const rotated = await call('POST', `/clients/${clientId}/key-pairs`, { grace_seconds: 600 })
    assert.equal(rotated.status, 201)
    assert.equal(rotated.body.ended[0].client_id, client_id)
    const revoked = await call('DELETE', `/clients/${clientId}/key-pairs`)
    assert.equal(revoked.body.revoked.length, 2)

    const keys = await call('GET', '/signing-keys')
    assert.deepEqual(keys.body.items.map((k: { use: string; state: string }) => `${k.use}:${k.state}`).sort(), ['enc:active', 'sig:active'])
    assert.ok(!JSON.stringify(keys.body).includes('private'), 'public material only')

    const audit = await call('GET', '/audit-events?limit=2')
    assert.equal(audit.body.items.length, 2)
    assert.ok(audit.body.next_cursor)
    const next = await call('GET', `/audit-events?limit=2&cursor=${audit.body.next_cursor}`)
    const ids = [...audit.body.items, ...next.body.items].map((e: { id: string }) => e.id)
    assert.equal(new Set(ids).size, 4, 'pages do not overlap')
    const all = (await call('GET', '/audit-events?limit=100')).body.items as { actor: string; action: string }[]
    for (const action of ['user.created', 'user.updated', 'client.created', 'key_pair.rotated', 'key_pair.revoked']) {
      assert.ok(all.some((e) => e.action === action && e.actor === `client:${seed.clientId}`), action)
    }
  })

  test('a client created with a public key shows no secret; removing the key needs the secret allowed', async (t) => {
    const s = await startTestServer(t, dialect)
    const { call } = await adminOf(s)
    const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string
    const keyOnly = await call('POST', '/clients', { name: 'signed', level: 'subscription', public_key: pem })
    assert.equal(keyOnly.status, 201)
    assert.equal(keyOnly.body.client.allow_secret, false)
    assert.equal(keyOnly.body.key_pair.client_secret, undefined, 'no secret to show')
    const id = keyOnly.body.client.id as string
    const rotated = await call('POST', `/clients/${id}/key-pairs`, {})
    assert.equal(rotated.body.key_pair.client_secret, undefined, 'nor after a rotation')
    assert.equal((await call('PATCH', `/clients/${id}`, { public_key: null })).status, 400, 'no way left to authenticate')
    const changed = await call('PATCH', `/clients/${id}`, { public_key: null, allow_secret: true })
    assert.equal(changed.status, 200)
    const fresh = await call('POST', `/clients/${id}/key-pairs`, {})
    assert.equal(typeof fresh.body.key_pair.client_secret, 'string', 'a rotation then shows a secret that works')
    await tokenOf(s, { clientId: fresh.body.key_pair.client_id as string, clientSecret: fresh.body.key_pair.client_secret as string })
    const both = await call('POST', '/clients', { name: 'both', level: 'subscription', public_key: pem, allow_secret: true })
    assert.equal(typeof both.body.key_pair.client_secret, 'string')
  })

  test('require_dpop: created, read and changed through the API; refused when not a boolean', async (t) => {
    const s = await startTestServer(t, dialect)
    const { call } = await adminOf(s)
    const plain = await call('POST', '/clients', { name: 'plain', level: 'subscription' })
    assert.equal(plain.body.client.require_dpop, false)
    const bound = await call('POST', '/clients', { name: 'bound', level: 'subscription', require_dpop: true })
    assert.equal(bound.status, 201)
    assert.equal(bound.body.client.require_dpop, true)
    const id = bound.body.client.id as string
    assert.equal((await call('GET', `/clients/${id}`)).body.require_dpop, true)
    for (const value of ['yes', 2, {}]) {
      const refused = await call('PATCH', `/clients/${id}`, { require_dpop: value })
      assert.equal(refused.status, 400, JSON.stringify(value))
    }
    assert.equal((await call('POST', '/clients', { name: 'x', level: 'subscription', require_dpop: 'sure' })).status, 400)
    assert.equal((await call('PATCH', `/clients/${id}`, { require_dpop: false })).body.require_dpop, false)
    const events = (await call('GET', '/audit-events?limit=20')).body.items as { action: string; target: string; details: Record<string, unknown> }[]
    assert.ok(events.some((e) => e.action === 'client.updated' && e.target === id && e.details.requireDPoP === false))
  })

  test("nothing of another account is visible or changeable", async (t) => {
    const s = await startTestServer(t, dialect)
    const a = await adminOf(s)
    const b = await adminOf(s)
    const user = await a.call('POST', '/users', { email: 'x@example.com' })
    const client = await a.call('POST', '/clients', { name: 'c', level: 'subscription' })
    const id = client.body.client.id as string
    const attempts: [string, string, unknown?][] = [
      ['GET', `/clients/${id}`], ['GET', `/clients/${id}/key-pairs`], ['POST', `/clients/${id}/key-pairs`, {}],
      ['DELETE', `/clients/${id}/key-pairs`], ['PATCH', `/users/${user.body.id}`, { disabled: true }], ['PATCH', `/clients/${id}`, { name: 'mine' }],
    ]
    for (const [method, path, body] of attempts) {
      const res = await b.call(method, path, body)
      assert.equal(res.status, 404, `${method} ${path}`)
    }
    assert.ok(!(await b.call('GET', '/clients')).body.items.some((c: { id: string }) => c.id === id))
    assert.ok(!(await b.call('GET', '/users')).body.items.some((u: { id: string }) => u.id === user.body.id))
    assert.equal((await a.call('GET', `/clients/${id}/key-pairs`)).body.items[0].state, 'active', 'untouched')
  })

  test('authentication and authorization: 401 without a valid token for keymint, 403 without the scope or admin role', async (t) => {
    const s = await startTestServer(t, dialect)
    const { seed } = await adminOf(s)
    const narrow = await seedClient(s.services, { clientScopes: ['keymint:audit:read'] })
    const unrestricted = await seedClient(s.services)
    const member = await seedClient(s.services, { level: 'user', userScopes: ['keymint:admin', 'assets:read'] })
    await s.services.database.db.updateTable('users').set({ role: 'member' }).where('id', '=', member.userId!).execute()
    const memberToken = await tokenOf(s, member)
    assert.equal(JSON.parse(Buffer.from(memberToken.split('.')[1]!, 'base64url').toString()).scope, 'assets:read', "a member's token never carries keymint: scopes")
    await registerApi(s, seed.accountId, 'https://assets.example.com')
    const both = await seedClient(s.services, { clientScopes: ['keymint:admin', 'assets:read'] })
    await registerApi(s, both.accountId, 'https://assets.example.org')
    const otherAud = await tokenOf(s, both, { resource: 'https://assets.example.org' })
    assert.equal(JSON.parse(Buffer.from(otherAud.split('.')[1]!, 'base64url').toString()).scope, 'assets:read', 'keymint: scopes stay out of tokens for other APIs')
    assert.equal((await fetch(`${s.url}/oauth2/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${seed.clientId}:${seed.clientSecret}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: 'https://assets.example.com' }).toString(),
    })).status, 400, 'a client holding only keymint: scopes gets no token for another API (invalid_scope)')

    const cases: [string, string | undefined, string, string, number, string][] = [
      ['no token', undefined, 'GET', '/account', 401, 'invalid_token'],
      ['garbage', 'abc.def.ghi', 'GET', '/account', 401, 'invalid_token'],
      ['token for another API', otherAud, 'GET', '/account', 401, 'invalid_token'],
      ['narrow scope, allowed', await tokenOf(s, narrow), 'GET', '/audit-events', 200, ''],
      ['narrow scope, refused', await tokenOf(s, narrow), 'GET', '/clients', 403, 'insufficient_scope'],
      ['"all" is not keymint:admin', await tokenOf(s, unrestricted), 'GET', '/users', 403, 'insufficient_scope'],
      ['member user', memberToken, 'GET', '/users', 403, 'insufficient_scope'],
    ]
    for (const [name, token, method, path, status, error] of cases) {
      const res = await api(s, token)(method, path)
      assert.equal(res.status, status, name)
      if (error) {
        assert.equal(res.body.title, error, name)
        assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/)
        assert.match(res.headers.get('www-authenticate') ?? '', new RegExp(`^Bearer .*error="${error}"`), name)
      }
    }
  })

  test('bad input gets a 400 problem document and writes nothing', async (t) => {
    const s = await startTestServer(t, dialect)
    const { call } = await adminOf(s)
    const before = (await call('GET', '/users')).body.items.length
    const bad: [string, string, unknown, number][] = [
      ['POST', '/users', { email: 'a@example.com', admin: true }, 400],
      ['POST', '/users', { email: 'not-an-email' }, 400],
      ['POST', '/users', { email: 'a@example.com', permissions: ['root'] }, 400],
      ['POST', '/clients', { name: 'x', level: 'user' }, 400],
      ['POST', '/clients', { name: 'x', level: 'subscription', public_key: '-----BEGIN PRIVATE KEY-----' }, 400],
      ['PATCH', '/users/not-a-uuid', { disabled: true }, 400],
      ['PATCH', '/users/7d444840-9dc0-41f5-8d0a-000000000000', { disabled: true }, 404],
      ['POST', '/apis', { identifier: 'no-scheme' }, 400],
    ]
    for (const [method, path, body, status] of bad) {
      const res = await call(method, path, body)
      assert.equal(res.status, status, `${method} ${path} ${JSON.stringify(body)}`)
      assert.equal(res.body.status, status)
      assert.equal(typeof res.body.detail, 'string')
    }
    const raw = await fetch(`${s.url}/api/v1/users`, { method: 'POST', headers: { authorization: `Bearer ${await tokenOf(s, (await adminOf(s)).seed)}`, 'content-type': 'application/json' }, body: '{"email": kmsk_notquoted' })
    assert.equal(raw.status, 400)
    const problem = await raw.json() as { detail: string }
    assert.equal(problem.detail, 'the body is not valid JSON')
    assert.equal((await call('GET', '/users')).body.items.length, before)
  })

  test("POST /apis: an identifier another account registered is 409; keymint's own default audience is 400", async (t) => {
    const s = await startTestServer(t, dialect)
    const a = await adminOf(s)
    const b = await adminOf(s)
    assert.equal((await a.call('POST', '/apis', { identifier: 'https://api.example.com' })).status, 201)
    const taken = await b.call('POST', '/apis', { identifier: 'https://api.example.com', name: 'mine' })
    assert.equal(taken.status, 409)
    assert.match(taken.headers.get('content-type') ?? '', /application\/problem\+json/)
    assert.deepEqual([taken.body.status, taken.body.title, taken.body.code], [409, 'conflict', 'KEYMINT_API_EXISTS'])
    assert.equal((await a.call('POST', '/apis', { identifier: 'https://api.example.com' })).status, 409, 'twice in one account too')
    assert.deepEqual((await b.call('GET', '/apis')).body.items, [])
    for (const identifier of [s.url, `${s.url}/`, s.url.replace('http://', 'HTTP://')]) {
      const res = await b.call('POST', '/apis', { identifier })
      assert.equal(res.status, 400, identifier)
      assert.equal(res.body.code, 'KEYMINT_API_IDENTIFIER_RESERVED', identifier)
    }
    assert.deepEqual((await b.call('GET', '/apis')).body.items, [])
  })

  test('schema errors name the field and rule, never the value', async (t) => {
    const s = await startTestServer(t, dialect)
    const { call } = await adminOf(s)
    const c = await call('POST', '/clients', { name: 'x', level: 'subscription' })
    const id = c.body.client.id as string
    const cases: [string, string, unknown, RegExp][] = [
      ['POST', `/clients/${id}/key-pairs`, { grace_seconds: -1 }, /grace_seconds must be >= 0/],
      ['POST', `/clients/${id}/key-pairs`, { grace_seconds: '10m-secret' }, /grace_seconds must be integer/],
      ['POST', '/users', { email: 'a@example.com', extra_secret_field: 'hunter2' }, /must NOT have additional properties/],
      ['POST', '/users', {}, /must have required property 'email'/],
    ]
    for (const [method, path, body, detail] of cases) {
      const res = await call(method, path, body)
      assert.equal(res.status, 400, `${method} ${path}`)
      assert.match(res.body.detail, detail)
      assert.ok(!JSON.stringify(res.body).includes('secret') && !JSON.stringify(res.body).includes('hunter2'), 'the value is not echoed')
    }
  })

  test('a rotation needs no body, and an empty JSON body reads as none', async (t) => {
    const s = await startTestServer(t, dialect)
    const { seed, call } = await adminOf(s)
    const token = await tokenOf(s, seed)
    const c = await call('POST', '/clients', { name: 'x', level: 'subscription' })
    const path = `${s.url}/api/v1/clients/${c.body.client.id as string}/key-pairs`
    const rotated = await fetch(path, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
    assert.equal(rotated.status, 201, await rotated.clone().text())
    const again = await fetch(path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '' })
    assert.equal(again.status, 201)
    const revoked = await fetch(path, { method: 'DELETE', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' } })
    assert.equal(revoked.status, 200)
    assert.equal((await revoked.json() as { revoked: string[] }).revoked.length, 1)
    const doc = await (await fetch(`${s.url}/api/v1/openapi.json`)).json() as { paths: Record<string, Record<string, { requestBody?: { required: boolean } }>> }
    assert.equal(doc.paths['/api/v1/clients/{id}/key-pairs']?.post?.requestBody?.required, false)
    assert.equal(doc.paths['/api/v1/users']?.post?.requestBody?.required, true)
  })

  test('the OpenAPI 3.1 document and reference page describe the routes', async (t) => {
    const s = await startTestServer(t, dialect)
    const doc = await (await fetch(`${s.url}/api/v1/openapi.json`)).json() as { openapi: string; paths: Record<string, Record<string, unknown>> }
    assert.equal(doc.openapi, '3.1.0')
    for (const path of ['/api/v1/users', '/api/v1/users/{id}', '/api/v1/clients', '/api/v1/clients/{id}/key-pairs', '/api/v1/audit-events', '/api/v1/apis']) {
      assert.ok(doc.paths[path], path)
    }
    assert.ok(doc.paths['/api/v1/clients/{id}/key-pairs']!.post)
    const page = await fetch(`${s.url}/api/v1/docs`)
    assert.match(page.headers.get('content-type') ?? '', /text\/html/)
    assert.match(await page.text(), /\/api\/v1\/clients\/\{id\}\/key-pairs/)
  })

  test('every response under /api/v1, success or error, is Cache-Control: no-store', async (t) => {
    const s = await startTestServer(t, dialect)
    const { call } = await adminOf(s)
    const narrow = api(s, await tokenOf(s, await seedClient(s.services, { clientScopes: ['keymint:audit:read'] })))
    const anonymous = api(s, undefined)
    const unknown = '7d444840-9dc0-41f5-8d0a-000000000000'
    const cases: [string, () => ReturnType<ReturnType<typeof api>>, number][] = [
      ['GET /account', () => call('GET', '/account'), 200],
      ['GET /users', () => call('GET', '/users'), 200],
      ['POST /users', () => call('POST', '/users', { email: 'cache@example.com' }), 201],
      ['GET /audit-events', () => call('GET', '/audit-events'), 200],
      ['bad body', () => call('POST', '/users', { email: 'x', extra: 1 }), 400],
      ['no token', () => anonymous('GET', '/account'), 401],
      ['no token, unknown path', () => anonymous('GET', '/nothing-here'), 404],
      ['missing scope', () => narrow('GET', '/clients'), 403],
      ['unknown client', () => call('GET', `/clients/${unknown}`), 404],
      ['unknown path', () => call('GET', '/nothing-here'), 404],
      ['wrong method', () => call('PUT', '/account'), 405],
      ['OpenAPI document', () => anonymous('GET', '/openapi.json'), 200],
    ]
    for (const [name, request, status] of cases) {
      const res = await request()
      assert.equal(res.status, status, name)
      assert.equal(res.headers.get('cache-control'), 'no-store', name)
    }
    const malformed = await fetch(`${s.url}/api/v1/clients/%zz`)
    assert.equal(malformed.status, 400)
    assert.equal(malformed.headers.get('cache-control'), 'no-store', 'malformed URL')
    const health = await fetch(`${s.url}/healthz`)
    assert.equal(health.headers.get('cache-control'), null, 'other surfaces keep their own caching')
  })
})
