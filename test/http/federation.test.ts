import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { decodeJwt } from 'jose'
import type { ConfigInput } from '../../src/config.js'
import { disableClient, enableClient } from '../../src/domain/client-lifecycle.js'
import { createClient } from '../../src/domain/clients.js'
import { createFederationPolicy, deleteFederationPolicy, type NewFederationPolicyInput } from '../../src/domain/federation-policies.js'
import { describeEachDialect, type Dialect } from '../helpers/dialects.js'
import { hmacToken, OidcIssuer, unsignedToken } from '../helpers/oidc-issuer.js'
import { seedClient, startTestServer, type SeededClient, type TestServer } from '../helpers/server.js'
import { basic, form, verifyAccessToken } from '../helpers/tokens.js'

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt'
const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token'
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token'
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- untyped JSON under test

const post = async (s: TestServer, fields: Record<string, string>, headers: Record<string, string> = {}) => {
  const res = await fetch(`${s.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: form(fields) })
  return { status: res.status, headers: res.headers, body: await res.json() as Json }
}
const exchange = (s: TestServer, token: string, extra: Record<string, string> = {}) => post(s, { grant_type: EXCHANGE, subject_token: token, subject_token_type: JWT_TYPE, ...extra })
const asAssertion = (s: TestServer, token: string, extra: Record<string, string> = {}) =>
  post(s, { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: token, ...extra })

/** A server that accepts loopback issuers, a real issuer dated by the server's clock, and a client trusting it. */
async function federated(t: TestContext, dialect: Dialect, overrides: ConfigInput = {}, policy: Partial<NewFederationPolicyInput> = {}) {
  const s = await startTestServer(t, dialect, { federationAllowLoopback: 'true', ...overrides })
  const issuer = await OidcIssuer.start(t, { now: () => s.clock.now() })
  const seed = await seedClient(s.services, { clientScopes: ['orders:read', 'orders:write'] })
  const trust = (input: Partial<NewFederationPolicyInput> = {}, on: SeededClient = seed) => createFederationPolicy({ ...s.services, federation: s.config.federation }, {
    accountId: on.accountId, clientId: on.clientRecordId, issuer: issuer.url, audience: s.url,
    subject: 'repo:acme/deploy:ref:refs/heads/*', claims: { workflow: 'release' }, ...input,
  })
  return { s, issuer, seed, trust, policy: await trust(policy) }
}

async function introspect(s: TestServer, caller: { clientId: string; clientSecret: string }, token: string): Promise<Json> {
  const res = await fetch(`${s.url}/oauth2/introspect`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(caller.clientId, caller.clientSecret) }, body: form({ token }),
  })
  assert.equal(res.status, 200)
  return await res.json() as Json
}

/** Another client of the seed's account, to introspect its tokens with. */
async function introspector(s: TestServer, seed: SeededClient) {
  const { keyPair } = await createClient({ store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }, { accountId: seed.accountId, name: 'gateway', level: 'subscription' })
  return { clientId: keyPair.id, clientSecret: keyPair.secret }
}

async function refusals(s: TestServer): Promise<{ reason: string | null; accountId: string | null; target: string | null; details: Json }[]> {
  await s.server.flushUsage()
  return (await s.services.store.audit.list({ limit: 1000 })).filter((e) => e.action === 'authentication.refused')
}

describeEachDialect('workload identity federation at /oauth2/token', (dialect) => {
  test("a GitHub Actions token is exchanged (RFC 8693) for the client's access token, the workload in act", async (t) => {
    const { s, issuer, seed, policy } = await federated(t, dialect)
    const res = await exchange(s, await issuer.github(s.url))
    assert.equal(res.status, 200, JSON.stringify(res.body))
    assert.equal(res.headers.get('cache-control'), 'no-store')
    assert.deepEqual(Object.keys(res.body).sort(), ['access_token', 'expires_in', 'issued_token_type', 'scope', 'token_type'])
    assert.equal(res.body.issued_token_type, ACCESS_TOKEN_TYPE)
    assert.equal(res.body.token_type, 'Bearer')
    assert.equal(res.body.scope, 'orders:read orders:write')
    const { payload } = await verifyAccessToken(s.url, res.body.access_token)
    assert.deepEqual(payload.act, { iss: issuer.url, sub: 'repo:acme/deploy:ref:refs/heads/main' })
    assert.equal(payload.client_id, policy.id, "the policy's id stands in for a key pair's")
    assert.equal(payload.sub, seed.clientRecordId)
    assert.equal(payload.account_id, seed.accountId)
    assert.equal(payload.client_level, 'subscription')

    // Scope narrowed as for any client; an id_token typed subject token too.
    const narrowed = await exchange(s, await issuer.github(s.url), { scope: 'orders:read', subject_token_type: ID_TOKEN_TYPE, requested_token_type: ACCESS_TOKEN_TYPE })
    assert.equal(narrowed.status, 200, JSON.stringify(narrowed.body))
    assert.equal(narrowed.body.scope, 'orders:read')
    assert.equal((await exchange(s, await issuer.github(s.url), { scope: 'orders:delete' })).body.error, 'invalid_scope')

    const seen = await introspect(s, await introspector(s, seed), res.body.access_token)
    assert.equal(seen.active, true)
    assert.equal(seen.client_id, policy.id)
    assert.deepEqual(seen.act, { iss: issuer.url, sub: 'repo:acme/deploy:ref:refs/heads/main' })
  })

  test('a Kubernetes service account token is the client assertion (RFC 7523 §2.2), with keys given in the policy', async (t) => {
    const s = await startTestServer(t, dialect)
    const issuer = await OidcIssuer.start(t, { now: () => s.clock.now() })
    const seed = await seedClient(s.services, { level: 'user' })
    // Without the loopback setting keymint could not fetch this issuer's keys; the policy carries them.
    const policy = await createFederationPolicy({ ...s.services, federation: { allowLoopback: true } }, {
      accountId: seed.accountId, clientId: seed.clientRecordId, issuer: issuer.url, audience: 'keymint', subject: 'system:serviceaccount:billing:sync',
      claims: { 'kubernetes.io/namespace': 'billing', 'kubernetes.io/serviceaccount/name': 'sync' }, jwks: issuer.jwks, maxAgeSeconds: 3600,
    })
    const res = await asAssertion(s, await issuer.kubernetes('keymint'))
    assert.equal(res.status, 200, JSON.stringify(res.body))
    assert.equal(res.body.issued_token_type, undefined)
    const { payload } = await verifyAccessToken(s.url, res.body.access_token)
    assert.deepEqual(payload.act, { iss: issuer.url, sub: 'system:serviceaccount:billing:sync' })
    assert.equal(payload.client_id, policy.id)
    assert.equal(payload.sub, seed.userId, 'a user-level client acts as its user')
    assert.equal(payload.scope, 'api.read api.write')
    assert.deepEqual(issuer.requests, { discovery: 0, jwks: 0, actions: 0 }, 'the given keys are used; the issuer is never asked')
    // client_id may name the policy.
    assert.equal((await asAssertion(s, await issuer.kubernetes('keymint'), { client_id: policy.id })).status, 200)
    const wrongNamespace = await asAssertion(s, await issuer.kubernetes('keymint', { 'kubernetes.io': { namespace: 'other', serviceaccount: { name: 'sync' } } }))
    assert.equal(wrongNamespace.status, 401)
    assert.equal(wrongNamespace.body.error, 'invalid_client')
  })

  test('every refusal answers with its RFC error and leaves an audit entry with the reason', async (t) => {
    const { s, issuer, seed, policy, trust } = await federated(t, dialect, { throttleAddressLimit: 10_000, throttleClientLimit: 10_000 }, { maxAgeSeconds: 600 })
    const stranger = await OidcIssuer.start(t, { now: () => s.clock.now() })
    const aud = s.url
    const cases: { name: string; token: () => Promise<string>; reason: string; ours?: false }[] = [
      { name: 'an issuer no policy trusts', token: () => stranger.github(aud), reason: 'federation_issuer_untrusted', ours: false },
      { name: 'wrong audience', token: () => issuer.github('https://elsewhere.example'), reason: 'federation_audience_mismatch' },
      { name: 'wrong subject', token: () => issuer.github(aud, { sub: 'repo:evil/deploy:ref:refs/heads/main' }), reason: 'federation_subject_mismatch' },
      { name: 'subject of another ref type', token: () => issuer.github(aud, { sub: 'repo:acme/deploy:pull_request' }), reason: 'federation_subject_mismatch' },
      { name: 'wrong claim', token: () => issuer.github(aud, { workflow: 'nightly' }), reason: 'federation_claim_mismatch' },
      { name: 'missing claim', token: () => issuer.github(aud, { workflow: undefined }), reason: 'federation_claim_mismatch' },
      { name: 'expired', token: () => issuer.github(aud, { iat: issuer.nowSeconds() - 400, nbf: issuer.nowSeconds() - 400, exp: issuer.nowSeconds() - 100 }), reason: 'federation_token_expired' },
      { name: 'not yet valid (nbf)', token: () => issuer.github(aud, { nbf: issuer.nowSeconds() + 600, exp: issuer.nowSeconds() + 900 }), reason: 'federation_token_not_yet_valid' },
      { name: 'issued in the future (iat)', token: () => issuer.github(aud, { iat: issuer.nowSeconds() + 600, nbf: undefined, exp: issuer.nowSeconds() + 900 }), reason: 'federation_token_not_yet_valid' },
      { name: 'older than the max age', token: () => issuer.github(aud, { iat: issuer.nowSeconds() - 1200, nbf: issuer.nowSeconds() - 1200, exp: issuer.nowSeconds() + 300 }), reason: 'federation_token_too_old' },
      // Refused unverified; the iss a policy names only picks the audit log it goes to.
      { name: 'alg none', token: async () => unsignedToken(decodeJwt(await issuer.github(aud))), reason: 'federation_alg_not_allowed' },
      { name: 'HMAC', token: async () => hmacToken(decodeJwt(await issuer.github(aud))), reason: 'federation_alg_not_allowed' },
      { name: 'alg none, an issuer no policy trusts', token: async () => unsignedToken(decodeJwt(await stranger.github(aud))), reason: 'federation_alg_not_allowed', ours: false },
      { name: 'unknown kid after a refresh', token: async () => issuer.github(aud, {}, { key: await OidcIssuer.newKey() }), reason: 'federation_unknown_kid' },
      { name: 'signed with another key under a published kid', token: async () => issuer.github(aud, {}, { key: await OidcIssuer.newKey(), kid: issuer.currentKey.kid }), reason: 'federation_signature_invalid' },
      { name: 'no exp', token: () => issuer.github(aud, { exp: undefined }), reason: 'federation_token_malformed' },
      { name: 'garbage', token: async () => 'not.a.jwt', reason: 'federation_token_malformed', ours: false },
    ]
    const roles = [
      { role: 'exchange', send: exchange, status: 400, error: 'invalid_request' },
      { role: 'client assertion', send: asAssertion, status: 401, error: 'invalid_client' },
    ] as const
    for (const r of roles) {
      for (const c of cases) {
        const res = await r.send(s, await c.token())
        assert.equal(res.status, r.status, `${r.role}: ${c.name}: ${JSON.stringify(res.body)}`)
        assert.equal(res.body.error, r.error, `${r.role}: ${c.name}`)
        assert.ok(!JSON.stringify(res.body).includes(c.reason), `${r.role}: ${c.name}: the reason is for the audit log, not the caller`)
      }
      // A token works once: by its jti, or (without one) by its hash.
      // (Without a jti, one token per role: RS256 signs the same claims into the same token.)
      for (const [name, make] of [['jti seen before', () => issuer.github(aud)], ['token without jti seen before', () => issuer.github(aud, { jti: undefined, run_id: r.role })]] as const) {
        const token = await make()
        assert.equal((await r.send(s, token)).status, 200, `${r.role}: ${name}: first use`)
        const again = await r.send(s, token)
        assert.equal(again.status, r.status, `${r.role}: ${name}`)
        assert.equal(again.body.error, r.error, `${r.role}: ${name}`)
      }
    }
    // A replay on another token path is still a replay.
    const once = await issuer.github(aud)
    assert.equal((await exchange(s, once)).status, 200)
    assert.equal((await asAssertion(s, once)).status, 401)

    const audit = await refusals(s)
    for (const c of cases) {
      const entries = audit.filter((e) => e.reason === c.reason)
      assert.ok(entries.length > 0, `${c.name}: audited as ${c.reason}`)
      if (c.ours !== false) assert.ok(entries.some((e) => e.accountId === seed.accountId && e.target === policy.id), `${c.name}: in the account's audit log, naming the policy`)
    }
    const replays = audit.filter((e) => e.reason === 'federation_token_replayed')
    assert.equal(replays.reduce((n, e) => n + (e as unknown as { count: number }).count, 0), 5)
    assert.ok(replays.some((e) => e.details.detail === 'jti_seen_before') && replays.some((e) => e.details.detail === 'token_seen_before'))
    assert.ok(audit.some((e) => e.reason === 'federation_claim_mismatch' && e.details.detail === 'claim:workflow'))
    assert.ok(audit.some((e) => e.reason === 'federation_alg_not_allowed' && e.accountId === null), "a stranger's token is logged server-wide")
    assert.ok(audit.some((e) => e.reason === 'federation_alg_not_allowed' && e.accountId === seed.accountId && e.details.detail === 'alg_HS256'))
    assert.ok(!JSON.stringify(audit).includes('eyJ'), 'no token in the audit log')

    // Several policies accept one token: the caller chooses with client_id.
    const second = await trust({ subject: 'repo:acme/deploy:*' })
    const ambiguous = await exchange(s, await issuer.github(aud))
    assert.equal(ambiguous.status, 400)
    assert.equal(ambiguous.body.error, 'invalid_request')
    const chosen = await exchange(s, await issuer.github(aud), { client_id: second.id })
    assert.equal(chosen.status, 200)
    assert.equal(decodeJwt(chosen.body.access_token).client_id, second.id)
  })

  test('malformed token exchange requests are invalid_request, and nothing is issued', async (t) => {
    const { s, issuer, seed } = await federated(t, dialect)
    const token = await issuer.github(s.url)
    const cases: { name: string; fields: Record<string, string>; headers?: Record<string, string>; error?: string }[] = [
      { name: 'no subject_token', fields: { grant_type: EXCHANGE, subject_token_type: JWT_TYPE } },
      { name: 'no subject_token_type', fields: { grant_type: EXCHANGE, subject_token: token } },
      { name: 'a SAML subject_token_type', fields: { grant_type: EXCHANGE, subject_token: token, subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' } },
      { name: 'an actor_token', fields: { grant_type: EXCHANGE, subject_token: token, subject_token_type: JWT_TYPE, actor_token: token, actor_token_type: JWT_TYPE } },
      { name: 'a refresh token requested', fields: { grant_type: EXCHANGE, subject_token: token, subject_token_type: JWT_TYPE, requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' } },
      { name: 'client credentials as well', fields: { grant_type: EXCHANGE, subject_token: token, subject_token_type: JWT_TYPE }, headers: { authorization: basic(seed.clientId, seed.clientSecret) } },
      { name: 'a client_secret as well', fields: { grant_type: EXCHANGE, subject_token: token, subject_token_type: JWT_TYPE, client_id: seed.clientId, client_secret: seed.clientSecret } },
      // Refused after the token was checked (as an assertion's jti, it is used up then).
      { name: 'a resource of no API', fields: { grant_type: EXCHANGE, subject_token: await issuer.github(s.url), subject_token_type: JWT_TYPE, resource: 'https://unknown.example' }, error: 'invalid_target' },
      { name: 'an unknown grant type', fields: { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: token }, error: 'unsupported_grant_type' },
    ]
    for (const c of cases) {
      const res = await post(s, c.fields, c.headers)
      assert.equal(res.status, 400, `${c.name}: ${JSON.stringify(res.body)}`)
      assert.equal(res.body.error, c.error ?? 'invalid_request', c.name)
    }
    // The token was never used up by a malformed request.
    assert.equal((await exchange(s, token)).status, 200)
  })

  test('issuer keys: cached, fetched again for a rotated kid, at most once a minute for unknown ones', async (t) => {
    const { s, issuer } = await federated(t, dialect, { throttleAddressLimit: 10_000 })
    assert.equal((await exchange(s, await issuer.github(s.url))).status, 200)
    assert.deepEqual(issuer.requests, { discovery: 1, jwks: 1, actions: 0 })
    assert.equal((await exchange(s, await issuer.github(s.url))).status, 200)
    assert.deepEqual(issuer.requests, { discovery: 1, jwks: 1, actions: 0 }, 'held, not fetched per request')

    s.clock.advance(61)
    await issuer.rotate()
    assert.equal((await exchange(s, await issuer.github(s.url))).status, 200, 'a new kid fetches the keys again')
    assert.equal(issuer.requests.jwks, 2)

    const unpublished = await OidcIssuer.newKey()
    for (let i = 0; i < 5; i++) assert.equal((await exchange(s, await issuer.github(s.url, {}, { key: unpublished }))).status, 400)
    assert.equal(issuer.requests.jwks, 2, 'within a minute of the last fetch an unknown kid fetches nothing')
    s.clock.advance(61)
    assert.equal((await exchange(s, await issuer.github(s.url, {}, { key: unpublished }))).status, 400)
    assert.equal(issuer.requests.jwks, 3, 'a minute later it may fetch once more')

    // The old key stays valid while published; once dropped, its tokens fail after the next fetch.
    s.clock.advance(11 * 60)
    assert.equal((await exchange(s, await issuer.github(s.url))).status, 200)
    assert.equal(issuer.requests.jwks, 4, 'fetched again after the 10-minute lifetime')
  })

  test('an issuer out of reach: 503 with Retry-After, keys held before are used meanwhile, redirects elsewhere refused', async (t) => {
    const { s, issuer, trust } = await federated(t, dialect)
    issuer.behaviour.failWith = 500
    const down = await exchange(s, await issuer.github(s.url))
    assert.equal(down.status, 503, JSON.stringify(down.body))
    assert.equal(down.body.error, 'temporarily_unavailable')
    assert.ok(Number(down.headers.get('retry-after')) > 0)
    assert.ok((await refusals(s)).some((e) => e.reason === 'federation_keys_unavailable'))
    const asked = issuer.requests.discovery
    await exchange(s, await issuer.github(s.url))
    assert.equal(issuer.requests.discovery, asked, 'a failed issuer is not asked again at once')

    issuer.behaviour.failWith = undefined
    s.clock.advance(61)
    assert.equal((await exchange(s, await issuer.github(s.url))).status, 200)
    issuer.behaviour.failWith = 503
    s.clock.advance(11 * 60)
    assert.equal((await exchange(s, await issuer.github(s.url))).status, 200, 'the keys it last published still verify')

    // Issuers never fetched before: nothing held to fall back on.
    const redirecting = await OidcIssuer.start(t, { now: () => s.clock.now() })
    redirecting.behaviour.redirectJwksTo = `${redirecting.url.replace('127.0.0.1', 'localhost')}/.well-known/jwks`
    const lying = await OidcIssuer.start(t, { now: () => s.clock.now() })
    lying.behaviour.claimIssuer = 'https://token.actions.githubusercontent.com'
    for (const [name, other] of [['a redirect to another host is not followed', redirecting], ['a discovery document naming another issuer is refused', lying]] as const) {
      await trust({ issuer: other.url })
      assert.equal((await exchange(s, await other.github(s.url))).status, 503, name)
      assert.equal(other.requests.discovery, 1, name)
    }
    assert.equal(redirecting.requests.jwks, 1, 'the redirect itself was asked for')
    assert.equal(lying.requests.jwks, 0)
  })

  test('a disabled client, a deleted policy and a standard plan stay cut off', async (t) => {
    const { s, issuer, seed, policy } = await federated(t, dialect)
    const gateway = await introspector(s, seed)
    const before = (await exchange(s, await issuer.github(s.url))).body.access_token as string
    assert.equal((await introspect(s, gateway, before)).active, true)

    await disableClient(s.services, { clientId: seed.clientRecordId })
    const disabled = await exchange(s, await issuer.github(s.url))
    assert.equal(disabled.body.error, 'invalid_request')
    assert.equal((await introspect(s, gateway, before)).active, false)
    assert.ok((await refusals(s)).some((e) => e.reason === 'federation_client_disabled' && e.accountId === seed.accountId))
    await enableClient(s.services, { clientId: seed.clientRecordId })
    assert.equal((await introspect(s, gateway, before)).active, false, 'enabling the client again revives none of its tokens')
    s.clock.advance(1)

    const during = (await exchange(s, await issuer.github(s.url))).body.access_token as string
    assert.equal((await introspect(s, gateway, during)).active, true)
    s.clock.advance(1)
    await deleteFederationPolicy(s.services, { accountId: seed.accountId, id: policy.id })
    assert.equal((await introspect(s, gateway, during)).active, false, "a deleted policy's tokens are refused")
    assert.equal((await exchange(s, await issuer.github(s.url))).body.error, 'invalid_request')
    const feed = await fetch(`${s.url}/oauth2/revocations`, { headers: { authorization: basic(gateway.clientId, gateway.clientSecret) } })
    assert.equal(feed.status, 200)
    const listed = (await feed.json() as Json).clients as Json[]
    assert.ok(listed.some((c) => c.client_id === policy.id), 'the revocation feed lists the deleted policy for offline verifiers')

    const other = await federated(t, dialect)
    await other.s.services.database.db.updateTable('accounts').set({ plan: 'standard' }).where('id', '=', other.seed.accountId).execute()
    const standard = await exchange(other.s, await other.issuer.github(other.s.url))
    assert.equal(standard.status, 400)
    assert.equal(standard.body.error, 'unauthorized_client')
  })

  test('failed platform tokens are throttled like failed client authentication', async (t) => {
    const { s, issuer } = await federated(t, dialect, { throttleAddressLimit: 4, throttleClientLimit: 100 })
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await exchange(s, await issuer.github('https://elsewhere.example'))).status)
    assert.deepEqual(statuses, [400, 400, 400, 400, 429, 429])
    assert.equal((await exchange(s, await issuer.github(s.url))).status, 429, 'an address over its limit is refused before any work')
  })

  test('the server metadata advertises token exchange', async (t) => {
    const s = await startTestServer(t, dialect)
    const metadata = await (await fetch(`${s.url}/.well-known/oauth-authorization-server`)).json() as Json
    assert.deepEqual(metadata.grant_types_supported, ['client_credentials', EXCHANGE])
  })
})
