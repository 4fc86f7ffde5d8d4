import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { test } from 'node:test'
import { describeEachDialect } from '../helpers/dialects.js'
import { curl } from '../helpers/curl.js'
import { seedClient, startTestServer } from '../helpers/server.js'
import { verifyAccessToken } from '../helpers/tokens.js'

const run = promisify(execFile)

describeEachDialect('header dialect POST /auth/oauth and /auth/oidc', (dialect) => {
  test('the first seed\'s curl commands work verbatim against keymint', async (t) => {
    const { url, services } = await startTestServer(t, dialect)
    const sub = await seedClient(services, { level: 'subscription' })
    const usr = await seedClient(services, { level: 'user' })
    for (const [path, c] of [['/auth/oauth', sub], ['/auth/oidc', usr]] as const) {
      const res = await curl([
        '-X', 'POST', `${url}${path}`,
        '--header', `clientSecret: ${c.clientSecret}`,
        '--header', `clientId: ${c.clientId}`,
        '--data-raw', '',
      ])
      assert.equal(res.status, 200, res.body)
      assert.match(res.headers, /content-type: text\/plain/i)
      assert.match(res.headers, /cache-control: no-store/i)
      assert.match(res.body, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'the body is the JWT and nothing else')
      const { payload, header } = await verifyAccessToken(url, res.body)
      assert.equal(header.typ, 'at+jwt')
      assert.equal(header.alg, 'RS256')
      assert.equal(typeof header.kid, 'string')
      assert.equal(payload.client_id, c.clientId)
      assert.equal(payload.account_id, c.accountId)
      assert.equal(payload.exp! - payload.iat!, 4 * 3600, 'four hours, as the seed says')
      assert.equal(typeof payload.jti, 'string')
      if (path === '/auth/oidc') {
        assert.equal(payload.sub, c.userId)
        assert.equal(payload.client_level, 'user')
      } else {
        assert.equal(payload.sub, c.clientRecordId)
        assert.equal(payload.client_level, 'subscription')
      }
    }
  })

  test('header names are case-insensitive and a body-less POST works', async (t) => {
    const { url, services } = await startTestServer(t, dialect)
    const c = await seedClient(services)
    const res = await fetch(`${url}/auth/oauth`, { method: 'POST', headers: { CLIENTID: c.clientId, clientsecret: c.clientSecret } })
    assert.equal(res.status, 200)
    await verifyAccessToken(url, await res.text())
  })

  test('an empty body is fine whatever its Content-Type: fetch, Python requests and curl as users write them', async (t) => {
    const { url, services } = await startTestServer(t, dialect)
    const c = await seedClient(services, { clientScopes: ['api.read', 'api.write'] })
    const headers = { clientId: c.clientId, clientSecret: c.clientSecret }
    const tokens: [string, string][] = []
    for (const [name, init] of [
      ["fetch body ''", { method: 'POST', headers, body: '' }],
      ['fetch without a body', { method: 'POST', headers }],
      ['fetch empty JSON body', { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '' }],
      ['fetch empty octet-stream', { method: 'POST', headers: { ...headers, 'content-type': 'application/octet-stream' }, body: '' }],
    ] as const) {
      const res = await fetch(`${url}/auth/oauth`, init)
      tokens.push([name, await res.text()])
      assert.equal(res.status, 200, `${name}: ${tokens.at(-1)![1]}`)
    }
    for (const args of [['--data-raw', ''], []]) {
      const res = await curl(['-X', 'POST', `${url}/auth/oauth`, '--header', `clientSecret: ${c.clientSecret}`, '--header', `clientId: ${c.clientId}`, ...args])
      assert.equal(res.status, 200, `curl ${args.join(' ')}: ${res.body}`)
      tokens.push([`curl ${args.join(' ')}`, res.body])
    }
    for (const data of ["data=''", '']) {
      const { stdout } = await run('/usr/bin/python3', ['-c', `import requests, sys
r = requests.post(sys.argv[1], headers={"clientId": sys.argv[2], "clientSecret": sys.argv[3]}${data ? `, ${data}` : ''})
print(r.status_code)
print(r.text)`, `${url}/auth/oauth`, c.clientId, c.clientSecret])
      const [status, body] = stdout.trim().split('\n')
      assert.equal(status, '200', `python requests ${data}: ${body}`)
      tokens.push([`python ${data}`, body!])
    }
    for (const [name, token] of tokens) {
      const { payload } = await verifyAccessToken(url, token)
      assert.deepEqual(payload.scopes, ['api.read', 'api.write'], `${name}: scopes as an array, as the first seed's token carries them`)
      assert.equal(payload.scope, 'api.read api.write', `${name}: and RFC 9068's scope string`)
    }
    const text = await fetch(`${url}/auth/oauth`, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: 'encrypted=true' })
    assert.equal(text.status, 400, 'a non-empty body must be a form')
    assert.equal((await text.json() as { error: string }).error, 'invalid_request')
    const query = await fetch(`${url}/auth/oauth?encrypted=RSA512`, { method: 'POST', headers, body: '' })
    assert.equal(query.status, 200)
    const jwe = await query.text()
    assert.equal(jwe.split('.').length, 5, 'encrypted may come as a query parameter')
    assert.equal(JSON.parse(Buffer.from(jwe.split('.')[0]!, 'base64url').toString()).alg, 'RSA-OAEP-512')
    const both = await fetch(`${url}/auth/oauth?encrypted=true`, { method: 'POST', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, body: 'encrypted=true' })
    assert.equal(both.status, 400, 'in the query and the body at once is invalid_request')
  })

  test('a client on the wrong-level endpoint is told which endpoint is right', async (t) => {
    const { url, services } = await startTestServer(t, dialect)
    const sub = await seedClient(services, { level: 'subscription' })
    const usr = await seedClient(services, { level: 'user' })
    const wrong = [['/auth/oidc', sub, '/auth/oauth'], ['/auth/oauth', usr, '/auth/oidc']] as const
    for (const [path, c, right] of wrong) {
      const res = await fetch(`${url}${path}`, { method: 'POST', headers: { clientId: c.clientId, clientSecret: c.clientSecret } })
      assert.equal(res.status, 400)
      const body = await res.json() as { error: string; error_description: string }
      assert.equal(body.error, 'unauthorized_client')
      assert.ok(body.error_description.includes(right), body.error_description)
    }
  })

  test('DESIGN §1: user without ui or api, disabled user, and non-enterprise accounts are refused', async (t) => {
    const { url, services } = await startTestServer(t, dialect)
    const cases = [
      { path: '/auth/oidc', seed: await seedClient(services, { level: 'user', permissions: ['api'] }) },
      { path: '/auth/oidc', seed: await seedClient(services, { level: 'user', permissions: ['ui'] }) },
      { path: '/auth/oauth', seed: await seedClient(services, { level: 'subscription', plan: 'standard' }) },
    ]
    const disabled = await seedClient(services, { level: 'user' })
    await services.store.users.update(disabled.userId as never, { disabled: true, updatedAt: new Date() })
    cases.push({ path: '/auth/oidc', seed: disabled })
    for (const { path, seed } of cases) {
      const res = await fetch(`${url}${path}`, { method: 'POST', headers: { clientId: seed.clientId, clientSecret: seed.clientSecret } })
      assert.equal(res.status, 400)
      assert.equal((await res.json() as { error: string }).error, 'unauthorized_client')
    }
  })

  test('hostile inputs get their exact 4xx, never a 5xx, and the server goes on serving', async (t) => {
    const { url, services } = await startTestServer(t, dialect)
    const c = await seedClient(services)
    const good = { clientId: c.clientId, clientSecret: c.clientSecret }
    const hostile: { name: string; headers: Record<string, string>; body?: string; status: number; error: string }[] = [
      { name: 'no headers', headers: {}, status: 400, error: 'invalid_request' },
      { name: 'no clientSecret', headers: { clientId: c.clientId }, status: 400, error: 'invalid_request' },
      { name: 'no clientId', headers: { clientSecret: c.clientSecret }, status: 400, error: 'invalid_request' },
      { name: 'empty secret', headers: { clientId: c.clientId, clientSecret: '' }, status: 400, error: 'invalid_request' },
      { name: '10 kB secret', headers: { clientId: c.clientId, clientSecret: 'x'.repeat(10_000) }, status: 401, error: 'invalid_client' },
      { name: 'wrong secret', headers: { ...good, clientSecret: `kmsk_${'A'.repeat(43)}` }, status: 401, error: 'invalid_client' },
      { name: 'unknown client', headers: { ...good, clientId: '123e4567-e89b-42d3-a456-426614174000' }, status: 401, error: 'invalid_client' },
      { name: 'client id not a UUID', headers: { ...good, clientId: "' or 1=1 --" }, status: 401, error: 'invalid_client' },
      { name: 'JSON body', headers: { ...good, 'content-type': 'application/json' }, body: '{"encrypted":"x"}', status: 400, error: 'invalid_request' },
      { name: 'text body', headers: { ...good, 'content-type': 'text/plain' }, body: 'hello', status: 400, error: 'invalid_request' },
      { name: 'invalid percent-encoding', headers: { ...good, 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=%E0%A4%A', status: 400, error: 'invalid_request' },
      { name: 'duplicated parameter', headers: { ...good, 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&a=2', status: 400, error: 'invalid_request' },
      { name: 'oversized body', headers: { ...good, 'content-type': 'application/x-www-form-urlencoded' }, body: `a=${'x'.repeat(64_000)}`, status: 413, error: 'invalid_request' },
    ]
    for (const h of hostile) {
      const res = await fetch(`${url}/auth/oauth`, { method: 'POST', headers: h.headers, ...(h.body === undefined ? {} : { body: h.body }) })
      assert.equal(res.status, h.status, `${h.name}: status`)
      const body = await res.json() as { error: string; error_description: string }
      assert.equal(body.error, h.error, `${h.name}: error`)
      assert.ok(!JSON.stringify(body).includes(c.clientSecret), `${h.name}: no secret in the response`)
    }
    const duplicated = await curl(['-X', 'POST', `${url}/auth/oauth`, '-H', `clientId: ${c.clientId}`, '-H', `clientId: ${c.clientId}`, '-H', `clientSecret: ${c.clientSecret}`])
    assert.equal(duplicated.status, 400)
    assert.equal(JSON.parse(duplicated.body).error, 'invalid_request')
    const after = await fetch(`${url}/auth/oauth`, { method: 'POST', headers: good })
    assert.equal(after.status, 200, 'a good request still works afterwards')
  })
})
