import assert from 'node:assert/strict'
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import { createClient } from '../../src/domain/clients.js'
import { InvalidInput } from '../../src/domain/errors.js'
import { revokeKeyPairs } from '../../src/domain/key-pairs.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { seedClient, startTestServer, type TestServer } from '../helpers/server.js'
import { basic, form, verifyAccessToken } from '../helpers/tokens.js'
import { testKeyPair } from '../helpers/rsa-keys.js'

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

async function registered(s: TestServer, alg: 'RS256' | 'EdDSA' | 'ES256', asJwk = false) {
  const base = await seedClient(s.services)
  const { publicKey, privateKey } = await testKeyPair(alg)
  const text = asJwk ? JSON.stringify(await exportJWK(publicKey)) : await exportSPKI(publicKey)
  const { client, keyPair } = await createClient({ store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }, {
    accountId: base.accountId, name: 'signed', level: 'subscription', publicKey: text,
  })
  return { clientRecordId: client.id, clientId: keyPair.id, secret: keyPair.secret, privateKey, alg }
}

function assertion(key: CryptoKey, alg: string, claims: { iss: string; sub?: string; aud: string; exp?: number; jti?: string | null }, header: Record<string, unknown> = {}) {
  const now = Math.floor(Date.now() / 1000)
  const jwt = new SignJWT({ ...(claims.jti === null ? {} : { jti: claims.jti ?? randomUUID() }) })
    .setProtectedHeader({ alg, ...header })
    .setIssuer(claims.iss).setSubject(claims.sub ?? claims.iss).setAudience(claims.aud).setIssuedAt(now)
    .setExpirationTime(claims.exp ?? now + 60)
  return jwt.sign(key)
}

const tokenRequest = (s: TestServer, fields: Record<string, string>, headers: Record<string, string> = {}) => fetch(`${s.url}/oauth2/token`, {
  method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  body: form({ grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, ...fields }),
})

describeEachDialect('private_key_jwt client authentication (RFC 7523)', (dialect) => {
  test('RSA (PEM), EdDSA and ES256 (JWK) clients get tokens with a signed assertion', async (t) => {
    const s = await startTestServer(t, dialect)
    for (const [alg, asJwk] of [['RS256', false], ['EdDSA', true], ['ES256', true]] as const) {
      const c = await registered(s, alg, asJwk)
      const res = await tokenRequest(s, { client_id: c.clientId, client_assertion: await assertion(c.privateKey, alg, { iss: c.clientId, aud: `${s.url}/oauth2/token` }) })
      assert.equal(res.status, 200, alg)
      const { payload } = await verifyAccessToken(s.url, (await res.json() as { access_token: string }).access_token)
      assert.equal(payload.client_id, c.clientId)
    }
  })

  test('hostile assertions are refused with invalid_client or invalid_request', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await registered(s, 'RS256')
    const other = await registered(s, 'RS256')
    const secretOnly = await seedClient(s.services)
    const aud = `${s.url}/oauth2/token`
    const now = Math.floor(Date.now() / 1000)
    const replayed = await assertion(c.privateKey, 'RS256', { iss: c.clientId, aud })
    assert.equal((await tokenRequest(s, { client_assertion: replayed })).status, 200, 'first use')
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: c.clientId, sub: c.clientId, aud, exp: now + 60, jti: 'x' })).toString('base64url')}.`
    const hmac = await new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'HS256' }).setIssuer(c.clientId).setSubject(c.clientId).setAudience(aud).setExpirationTime(now + 60)
      .sign(new TextEncoder().encode('a-shared-secret-that-is-long-enough-for-hs256'))
    const cases: { name: string; fields: Record<string, string>; headers?: Record<string, string>; status: number; error: string }[] = [
      { name: 'replayed jti', fields: { client_assertion: replayed }, status: 401, error: 'invalid_client' },
      { name: 'alg none', fields: { client_assertion: unsigned }, status: 401, error: 'invalid_client' },
      { name: 'HMAC', fields: { client_assertion: hmac }, status: 401, error: 'invalid_client' },
      { name: 'wrong aud', fields: { client_assertion: await assertion(c.privateKey, 'RS256', { iss: c.clientId, aud: 'https://elsewhere.example/token' }) }, status: 401, error: 'invalid_client' },
      { name: 'expired', fields: { client_assertion: await assertion(c.privateKey, 'RS256', { iss: c.clientId, aud, exp: now - 120 }) }, status: 401, error: 'invalid_client' },
      { name: 'lives too long', fields: { client_assertion: await assertion(c.privateKey, 'RS256', { iss: c.clientId, aud, exp: now + 3600 }) }, status: 401, error: 'invalid_client' },
      { name: 'no jti', fields: { client_assertion: await assertion(c.privateKey, 'RS256', { iss: c.clientId, aud, jti: null }) }, status: 401, error: 'invalid_client' },
      { name: 'sub differs from iss', fields: { client_assertion: await assertion(c.privateKey, 'RS256', { iss: c.clientId, sub: other.clientId, aud }) }, status: 401, error: 'invalid_client' },
      { name: "another client's key", fields: { client_assertion: await assertion(other.privateKey, 'RS256', { iss: c.clientId, aud }) }, status: 401, error: 'invalid_client' },
      { name: 'client_id differs from iss', fields: { client_id: other.clientId, client_assertion: await assertion(c.privateKey, 'RS256', { iss: c.clientId, aud }) }, status: 401, error: 'invalid_client' },
      { name: 'client without a public key', fields: { client_assertion: await assertion(c.privateKey, 'RS256', { iss: secretOnly.clientId, aud }) }, status: 401, error: 'invalid_client' },
      { name: 'garbage', fields: { client_assertion: 'abc' }, status: 401, error: 'invalid_client' },
      { name: 'assertion and secret', fields: { client_assertion: await assertion(c.privateKey, 'RS256', { iss: c.clientId, aud }), client_id: c.clientId, client_secret: c.secret }, status: 400, error: 'invalid_request' },
      { name: 'assertion and Basic', fields: { client_assertion: await assertion(c.privateKey, 'RS256', { iss: c.clientId, aud }) }, headers: { authorization: basic(c.clientId, c.secret) }, status: 400, error: 'invalid_request' },
      { name: 'wrong assertion type', fields: { client_assertion_type: 'urn:example:saml', client_assertion: 'x' }, status: 400, error: 'invalid_request' },
      { name: 'type without assertion', fields: {}, status: 400, error: 'invalid_request' },
    ]
    for (const c2 of cases) {
      const res = await tokenRequest(s, c2.fields, c2.headers)
      assert.equal(res.status, c2.status, c2.name)
      assert.equal((await res.json() as { error: string }).error, c2.error, c2.name)
    }
  })

  test('the failed check reaches the audit log, never the caller', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await registered(s, 'RS256')
    const other = await registered(s, 'RS256')
    const aud = `${s.url}/oauth2/token`
    const now = Math.floor(Date.now() / 1000)
    const used = await assertion(c.privateKey, 'RS256', { iss: c.clientId, aud })
    assert.equal((await tokenRequest(s, { client_assertion: used })).status, 200)
    const hmac = await new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'HS256' }).setIssuer(c.clientId).setSubject(c.clientId).setAudience(aud).setExpirationTime(now + 60)
      .sign(new TextEncoder().encode('a-shared-secret-that-is-long-enough-for-hs256'))
    const cases: { name: string; assertion: string; fields?: Record<string, string>; target?: string | null; reason: string; detail: string }[] = [
      { name: 'expired', assertion: await assertion(c.privateKey, 'RS256', { iss: c.clientId, aud, exp: now - 120 }), reason: 'assertion_invalid', detail: 'exp_passed' },
      { name: 'wrong aud', assertion: await assertion(c.privateKey, 'RS256', { iss: c.clientId, aud: 'https://elsewhere.example/token' }), reason: 'assertion_invalid', detail: 'aud_check_failed' },
      { name: 'sub differs', assertion: await assertion(c.privateKey, 'RS256', { iss: c.clientId, sub: other.clientId, aud }), reason: 'assertion_invalid', detail: 'sub_check_failed' },
      { name: 'no jti', assertion: await assertion(c.privateKey, 'RS256', { iss: c.clientId, aud, jti: null }), reason: 'assertion_invalid', detail: 'jti_missing' },
      { name: 'bad signature', assertion: await assertion(other.privateKey, 'RS256', { iss: c.clientId, aud }), reason: 'assertion_invalid', detail: 'signature_invalid' },
      { name: 'HMAC', assertion: hmac, reason: 'assertion_invalid', detail: 'alg_not_allowed' },
      { name: 'replay', assertion: used, reason: 'assertion_replayed', detail: 'jti_seen_before' },
      { name: 'lifetime too long', assertion: await assertion(c.privateKey, 'RS256', { iss: c.clientId, aud, exp: now + 3600 }), reason: 'assertion_lifetime_too_long', detail: 'exp_more_than_300s_ahead' },
      { name: 'iss not a client_id', assertion: await assertion(c.privateKey, 'RS256', { iss: 'someone', aud }), target: null, reason: 'malformed_assertion', detail: 'iss_not_a_client_id' },
    ]
    for (const k of cases) {
      const res = await tokenRequest(s, { client_assertion: k.assertion, ...k.fields })
      assert.equal(res.status, 401, k.name)
      const body = await res.text()
      assert.deepEqual(JSON.parse(body), { error: 'invalid_client', error_description: 'client authentication failed' }, k.name)
      assert.ok(!body.includes(k.detail), `${k.name}: the caller does not learn which check failed`)
    }
    await s.server.flushUsage()
    const refused = (await s.services.store.audit.list({ limit: 100 })).filter((e) => e.action === 'authentication.refused')
    for (const k of cases) {
      const event = refused.find((e) => e.target === (k.target === undefined ? c.clientId : k.target) && e.reason === k.reason && e.details.detail === k.detail)
      assert.ok(event, `${k.name}: audited as ${k.reason} / ${k.detail}: ${JSON.stringify(refused.map((e) => [e.reason, e.details]))}`)
      assert.equal(event.count, 1, k.name)
    }
    const everything = JSON.stringify(refused)
    assert.ok(cases.every((k) => !everything.includes(k.assertion) && !everything.includes(k.assertion.split('.')[2]!)), 'no assertion in the audit log')
  })

  test('a revoked key pair cannot authenticate with its key either; introspection accepts assertions', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await registered(s, 'EdDSA')
    const res = await tokenRequest(s, { client_assertion: await assertion(c.privateKey, 'EdDSA', { iss: c.clientId, aud: s.url }) })
    assert.equal(res.status, 200, 'the issuer is an accepted audience')
    const { access_token } = await res.json() as { access_token: string }
    const introspect = await fetch(`${s.url}/oauth2/introspect`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ token: access_token, client_assertion_type: ASSERTION_TYPE, client_assertion: await assertion(c.privateKey, 'EdDSA', { iss: c.clientId, aud: `${s.url}/oauth2/introspect` }) }),
    })
    assert.equal((await introspect.json() as { active: boolean }).active, true)
    await revokeKeyPairs(s.services, { clientId: c.clientRecordId })
    const after = await tokenRequest(s, { client_assertion: await assertion(c.privateKey, 'EdDSA', { iss: c.clientId, aud: s.url }) })
    assert.equal(after.status, 401)
  })

  test('a client registered with a public key authenticates with it alone, unless created to accept its secret too', async (t) => {
    const s = await startTestServer(t, dialect)
    const keyOnly = await registered(s, 'ES256')
    const deps = { store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }
    // The pair's secret exists in the domain result only; it was never shown, and it must not work.
    const secretAttempts = [
      { url: '/oauth2/token', headers: { authorization: basic(keyOnly.clientId, keyOnly.secret) }, body: form({ grant_type: 'client_credentials' }) },
      { url: '/oauth2/token', headers: {}, body: form({ grant_type: 'client_credentials', client_id: keyOnly.clientId, client_secret: keyOnly.secret }) },
      { url: '/auth/oauth', headers: { clientId: keyOnly.clientId, clientSecret: keyOnly.secret }, body: '' },
    ]
    for (const a of secretAttempts) {
      const res = await fetch(`${s.url}${a.url}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...a.headers }, body: a.body })
      assert.equal(res.status, 401, a.url)
    }
    const ok = await tokenRequest(s, { client_assertion: await assertion(keyOnly.privateKey, 'ES256', { iss: keyOnly.clientId, aud: s.url }) })
    assert.equal(ok.status, 200, 'the key still works')

    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
    const both = await createClient(deps, { accountId: (await seedClient(s.services)).accountId, name: 'both', level: 'subscription', publicKey: await exportSPKI(publicKey), allowSecret: true })
    const bySecret = await fetch(`${s.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(both.keyPair.id, both.keyPair.secret) }, body: form({ grant_type: 'client_credentials' }) })
    assert.equal(bySecret.status, 200, 'created with both on purpose')
    const byKey = await tokenRequest(s, { client_assertion: await assertion(privateKey, 'ES256', { iss: both.keyPair.id, aud: s.url }) })
    assert.equal(byKey.status, 200)
    await assert.rejects(createClient(deps, { accountId: both.client.accountId, name: 'none', level: 'subscription', allowSecret: false }), InvalidInput, 'no key and no secret: no way in')
  })

  test('private keys, weak keys and garbage are refused at registration', async (t) => {
    const s = await startTestServer(t, dialect)
    const base = await seedClient(s.services)
    const { privateKey } = await testKeyPair('RS256')
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }).toString()
    for (const text of [JSON.stringify(await exportJWK(privateKey)), '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----', weak, 'hello', '{"kty":"oct","k":"AAAA"}']) {
      await assert.rejects(createClient({ store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }, {
        accountId: base.accountId, name: 'x', level: 'subscription', publicKey: text,
      }), InvalidInput, text.slice(0, 30))
    }
  })
})
