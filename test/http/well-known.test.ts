import assert from 'node:assert/strict'
import { test } from 'node:test'
import { describeEachDialect } from '../helpers/dialects.js'
import { startTestServer } from '../helpers/server.js'

describeEachDialect('discovery, JWKS and health', (dialect) => {
  test('RFC 8414 metadata at both well-known paths names this server', async (t) => {
    const { url } = await startTestServer(t, dialect)
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const res = await fetch(`${url}${path}`)
      assert.equal(res.status, 200)
      const meta = await res.json() as Record<string, unknown>
      assert.equal(meta.issuer, url)
      assert.equal(meta.token_endpoint, `${url}/oauth2/token`)
      assert.equal(meta.jwks_uri, `${url}/.well-known/jwks.json`)
      assert.deepEqual(meta.grant_types_supported, ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'])
      assert.deepEqual(meta.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'private_key_jwt'])
    }
  })

  test('--issuer overrides the default http://HOST:PORT', async (t) => {
    const { url } = await startTestServer(t, dialect, { issuer: 'https://auth.example.com/' })
    const meta = await (await fetch(`${url}/.well-known/oauth-authorization-server`)).json() as Record<string, unknown>
    assert.equal(meta.issuer, 'https://auth.example.com')
  })

  test('the JWKS holds the signing key, RFC 7638 kid, and no private members', async (t) => {
    const { url } = await startTestServer(t, dialect)
    const { keys } = await (await fetch(`${url}/.well-known/jwks.json`)).json() as { keys: Record<string, string>[] }
    assert.deepEqual(keys.map((k) => k.use).sort(), ['enc', 'sig'])
    const key = keys.find((k) => k.use === 'sig')!
    assert.equal(key.kty, 'RSA')
    assert.equal(key.alg, 'RS256')
    assert.equal(key.use, 'sig')
    const { calculateJwkThumbprint } = await import('jose')
    assert.equal(key.kid, await calculateJwkThumbprint({ kty: 'RSA', n: key.n!, e: key.e! }))
    assert.equal(Buffer.from(key.n!, 'base64url').length * 8, 2048)
    for (const k of keys) {
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(k[member], undefined, `no ${member}`)
    }
  })

  test('the private key is stored encrypted', async (t) => {
    const { services } = await startTestServer(t, dialect)
    const [record] = await services.store.serverKeys.listAll()
    assert.ok(record)
    assert.match(record.privateKeySealed, /^v1\./)
    assert.ok(!record.privateKeySealed.includes('PRIVATE KEY'))
    assert.equal((record.publicJwk as { d?: string }).d, undefined)
  })

  test('/healthz and /readyz answer; unknown paths get a problem+json 404', async (t) => {
    const { url } = await startTestServer(t, dialect)
    assert.deepEqual(await (await fetch(`${url}/healthz`)).json(), { status: 'ok' })
    assert.deepEqual(await (await fetch(`${url}/readyz`)).json(), { status: 'ready' })
    const missing = await fetch(`${url}/.well-known/nope`)
    assert.equal(missing.status, 404)
    assert.match(missing.headers.get('content-type') ?? '', /application\/problem\+json/)
  })
})
