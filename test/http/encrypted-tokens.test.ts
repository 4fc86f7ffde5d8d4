import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compactDecrypt, decodeProtectedHeader } from 'jose'
import { openPrivateKey } from '../../src/domain/server-keys.js'
import { createClient } from '../../src/domain/clients.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { seedClient, startTestServer, type TestServer } from '../helpers/server.js'
import { form, verifyAccessToken } from '../helpers/tokens.js'

async function decrypt(s: TestServer, jwe: string): Promise<string> {
  const record = (await s.services.store.serverKeys.listAll()).find((k) => k.use === 'enc')!
  const { plaintext } = await compactDecrypt(jwe, openPrivateKey(record, s.services.sealer), { keyManagementAlgorithms: ['RSA-OAEP-256', 'RSA-OAEP-384', 'RSA-OAEP-512'] })
  return new TextDecoder().decode(plaintext)
}

describeEachDialect('encrypted tokens (nested JWT)', (dialect) => {
  test('header dialect: encrypted=true and encrypted=RSA512 return a JWE around the signed token', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const { keys } = await (await fetch(`${s.url}/.well-known/jwks.json`)).json() as { keys: { kid: string; use: string }[] }
    const encKid = keys.find((k) => k.use === 'enc')?.kid
    for (const [value, alg] of [['true', 'RSA-OAEP-256'], ['RSA512', 'RSA-OAEP-512'], ['RSA-OAEP-384', 'RSA-OAEP-384']] as const) {
      const res = await fetch(`${s.url}/auth/oauth`, {
        method: 'POST',
        headers: { clientId: c.clientId, clientSecret: c.clientSecret, 'content-type': 'application/x-www-form-urlencoded' },
        body: form({ encrypted: value }),
      })
      assert.equal(res.status, 200, value)
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/)
      const jwe = await res.text()
      assert.equal(jwe.split('.').length, 5, 'compact JWE')
      assert.deepEqual(decodeProtectedHeader(jwe), { alg, enc: 'A256GCM', cty: 'JWT', kid: encKid })
      const { payload } = await verifyAccessToken(s.url, await decrypt(s, jwe))
      assert.equal(payload.client_id, c.clientId)
    }
  })

  test('header dialect: encrypted=false and no field give a plain signed token', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const res = await fetch(`${s.url}/auth/oauth`, {
      method: 'POST', headers: { clientId: c.clientId, clientSecret: c.clientSecret, 'content-type': 'application/x-www-form-urlencoded' }, body: 'encrypted=false',
    })
    assert.equal((await res.text()).split('.').length, 3)
  })

  test('an unsupported encrypted value is a 400 invalid_request listing the supported ones', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    for (const value of ['RSA1024', 'dir', '', 'toString', '__proto__']) {
      const res = await fetch(`${s.url}/auth/oauth`, {
        method: 'POST', headers: { clientId: c.clientId, clientSecret: c.clientSecret, 'content-type': 'application/x-www-form-urlencoded' }, body: form({ encrypted: value }),
      })
      assert.equal(res.status, 400, value)
      const body = await res.json() as { error: string; error_description: string }
      assert.equal(body.error, 'invalid_request')
      assert.match(body.error_description, /supported: true, false, RSA512, RSA-OAEP-256, RSA-OAEP-384, RSA-OAEP-512/)
    }
  })

  test('OAuth 2.0 dialect: a client set to always encrypt receives JWEs', async (t) => {
    const s = await startTestServer(t, dialect)
    const base = await seedClient(s.services)
    const { keyPair } = await createClient({ store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }, {
      accountId: base.accountId, name: 'sealed', level: 'subscription', tokenEncryption: 'RSA-OAEP-512',
    })
    const res = await fetch(`${s.url}/oauth2/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ grant_type: 'client_credentials', client_id: keyPair.id, client_secret: keyPair.secret }),
    })
    assert.equal(res.status, 200)
    const body = await res.json() as { access_token: string; token_type: string }
    assert.equal(decodeProtectedHeader(body.access_token).alg, 'RSA-OAEP-512')
    await verifyAccessToken(s.url, await decrypt(s, body.access_token))
  })
})
