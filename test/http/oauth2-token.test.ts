import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeEachDialect } from '../helpers/dialects.js'
import { curl } from '../helpers/curl.js'
import { seedClient, startTestServer } from '../helpers/server.js'
import { basic, form, verifyAccessToken } from '../helpers/tokens.js'

interface TokenBody { access_token: string; token_type: string; expires_in: number; scope: string }
const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

describeEachDialect('OAuth 2.0 dialect POST /oauth2/token', (dialect) => {
  test("the second seed's curl command works verbatim (trailing slash, form fields)", async (t) => {
    const { url, services } = await startTestServer(t, dialect)
    const c = await seedClient(services)
    const res = await curl(['--data', `grant_type=client_credentials&client_id=${c.clientId}&client_secret=${c.clientSecret}`, `${url}/oauth2/token/`])
    assert.equal(res.status, 200, res.body)
    assert.match(res.headers, /cache-control: no-store/i)
    assert.match(res.headers, /content-type: application\/json/i)
    const body = JSON.parse(res.body) as TokenBody
    assert.deepEqual(Object.keys(body).sort(), ['access_token', 'expires_in', 'scope', 'token_type'])
    assert.equal(body.token_type, 'Bearer')
    assert.equal(body.expires_in, 36000)
    assert.equal(body.scope, 'all', 'an unrestricted client reports scope "all"')
    const { payload } = await verifyAccessToken(url, body.access_token)
    assert.equal(payload.exp! - payload.iat!, 36000)
    assert.equal(payload.scope, 'all')
  })

  test('client_secret_basic works, at /oauth2/token too, for both client levels', async (t) => {
    const { url, services } = await startTestServer(t, dialect)
    for (const level of ['subscription', 'user'] as const) {
      const c = await seedClient(services, { level, userScopes: ['assets:read', 'assets:write'] })
      const res = await fetch(`${url}/oauth2/token`, {
        method: 'POST', headers: { ...FORM, authorization: basic(c.clientId, c.clientSecret) }, body: form({ grant_type: 'client_credentials' }),
      })
      assert.equal(res.status, 200)
      const body = await res.json() as TokenBody
      assert.equal(body.scope, level === 'user' ? 'assets:read assets:write' : 'all')
      await verifyAccessToken(url, body.access_token)
    }
  })

  test('scope: granted when a subset, invalid_scope otherwise; per-client lifetime honoured', async (t) => {
    const { url, services } = await startTestServer(t, dialect)
    const c = await seedClient(services, { clientScopes: ['assets:read', 'reports:read'], lifetimeSeconds: 600 })
    const ask = (scope: string) => fetch(`${url}/oauth2/token`, {
      method: 'POST', headers: FORM, body: form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret, scope }),
    })
    const ok = await ask('assets:read')
    assert.equal(ok.status, 200)
    const body = await ok.json() as TokenBody
    assert.equal(body.scope, 'assets:read')
    assert.equal(body.expires_in, 600)
    const refused = await ask('assets:read assets:write')
    assert.equal(refused.status, 400)
    assert.equal((await refused.json() as { error: string }).error, 'invalid_scope')
  })

  test('hostile inputs get their exact RFC 6749 §5.2 error, never a 5xx', async (t) => {
    const { url, services } = await startTestServer(t, dialect)
    const c = await seedClient(services)
    const creds = { client_id: c.clientId, client_secret: c.clientSecret }
    const cc = (extra: Record<string, string> = {}) => form({ grant_type: 'client_credentials', ...creds, ...extra })
    const hostile: { name: string; body?: string; headers?: Record<string, string>; status: number; error: string; challenge?: boolean }[] = [
      { name: 'empty body', body: '', status: 400, error: 'invalid_request' },
      { name: 'no grant_type', body: form(creds), status: 400, error: 'invalid_request' },
      { name: 'unknown grant type', body: form({ ...creds, grant_type: 'password' }), status: 400, error: 'unsupported_grant_type' },
      { name: 'no credentials', body: form({ grant_type: 'client_credentials' }), status: 401, error: 'invalid_client', challenge: true },
      { name: 'client_id without secret', body: form({ grant_type: 'client_credentials', client_id: c.clientId }), status: 401, error: 'invalid_client' },
      { name: 'secret without client_id', body: form({ grant_type: 'client_credentials', client_secret: c.clientSecret }), status: 400, error: 'invalid_request' },
      { name: 'wrong secret', body: cc({ client_secret: `kmsk_${'B'.repeat(43)}` }), status: 401, error: 'invalid_client' },
      { name: 'empty secret', body: cc({ client_secret: '' }), status: 401, error: 'invalid_client' },
      { name: '10 kB secret', body: cc({ client_secret: 'y'.repeat(10_000) }), status: 401, error: 'invalid_client' },
      { name: 'unknown client', body: cc({ client_id: '123e4567-e89b-42d3-a456-426614174000' }), status: 401, error: 'invalid_client' },
      { name: 'two auth methods', body: cc(), headers: { authorization: basic(c.clientId, c.clientSecret) }, status: 400, error: 'invalid_request' },
      { name: 'Basic with wrong secret', body: form({ grant_type: 'client_credentials' }), headers: { authorization: basic(c.clientId, 'nope') }, status: 401, error: 'invalid_client', challenge: true },
      { name: 'malformed Basic', body: form({ grant_type: 'client_credentials' }), headers: { authorization: 'Basic %%%' }, status: 400, error: 'invalid_request' },
      { name: 'Bearer instead of Basic', body: form({ grant_type: 'client_credentials' }), headers: { authorization: 'Bearer abc' }, status: 400, error: 'invalid_request' },
      { name: 'duplicated parameter', body: `${cc()}&grant_type=client_credentials`, status: 400, error: 'invalid_request' },
      { name: 'invalid percent-encoding', body: `${cc()}&x=%zz`, status: 400, error: 'invalid_request' },
      { name: 'JSON body', body: JSON.stringify({ grant_type: 'client_credentials', ...creds }), headers: { 'content-type': 'application/json' }, status: 400, error: 'invalid_request' },
      { name: 'gzip-encoded body', body: cc(), headers: { 'content-encoding': 'gzip' }, status: 400, error: 'invalid_request' },
      { name: 'Basic with bad percent-encoding', body: form({ grant_type: 'client_credentials' }), headers: { authorization: `Basic ${Buffer.from('%zz:secret').toString('base64')}` }, status: 400, error: 'invalid_request' },
      { name: 'multipart body', body: '--x--', headers: { 'content-type': 'multipart/form-data; boundary=x' }, status: 400, error: 'invalid_request' },
      { name: "keymint's own scope from an unrestricted client", body: cc({ scope: 'keymint:admin' }), status: 400, error: 'invalid_scope' },
      { name: 'malformed scope', body: cc({ scope: 'a  b' }), status: 400, error: 'invalid_scope' },
      { name: 'oversized body', body: cc({ pad: 'z'.repeat(40_000) }), status: 413, error: 'invalid_request' },
    ]
    for (const h of hostile) {
      const res = await fetch(`${url}/oauth2/token`, { method: 'POST', headers: { ...FORM, ...h.headers }, body: h.body ?? '' })
      assert.equal(res.status, h.status, `${h.name}: status`)
      const body = await res.json() as { error: string; error_description: string }
      assert.equal(body.error, h.error, `${h.name}: error`)
      assert.equal(typeof body.error_description, 'string')
      assert.ok(!JSON.stringify(body).includes(c.clientSecret), `${h.name}: no secret in the response`)
      assert.equal(res.headers.get('cache-control'), 'no-store', `${h.name}: no-store`)
      if (h.challenge) assert.match(res.headers.get('www-authenticate') ?? '', /^Basic /, `${h.name}: WWW-Authenticate`)
    }
    const after = await fetch(`${url}/oauth2/token`, { method: 'POST', headers: FORM, body: cc() })
    assert.equal(after.status, 200, 'a good request still works afterwards')
  })

  test('unknown client and wrong secret are indistinguishable in the response', async (t) => {
    const { url, services } = await startTestServer(t, dialect)
    const c = await seedClient(services)
    const post = async (fields: Record<string, string>) => {
      const res = await fetch(`${url}/oauth2/token`, { method: 'POST', headers: FORM, body: form({ grant_type: 'client_credentials', ...fields }) })
      return { status: res.status, body: await res.text() }
    }
    const wrongSecret = await post({ client_id: c.clientId, client_secret: `kmsk_${'C'.repeat(43)}` })
    const unknown = await post({ client_id: '123e4567-e89b-42d3-a456-426614174000', client_secret: `kmsk_${'C'.repeat(43)}` })
    assert.deepEqual(wrongSecret, unknown)
  })
})
