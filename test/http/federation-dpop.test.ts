import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import type { ConfigInput } from '../../src/config.js'
import { createClient } from '../../src/domain/clients.js'
import { createFederationPolicy } from '../../src/domain/federation-policies.js'
import { describeEachDialect, type Dialect } from '../helpers/dialects.js'
import { dpopKey, dpopProof, type DPoPKey } from '../helpers/dpop.js'
import { OidcIssuer } from '../helpers/oidc-issuer.js'
import { seedClient, startTestServer, type TestServer } from '../helpers/server.js'
import { basic, form, verifyAccessToken } from '../helpers/tokens.js'

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const JWT_TYPE = 'urn:ietf:params:oauth:token-type:jwt'
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- untyped JSON under test
interface Answer { status: number; body: Json; nonce: string | null }

const post = async (s: TestServer, fields: Record<string, string>, proof?: string): Promise<Answer> => {
  const res = await fetch(`${s.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(proof === undefined ? {} : { DPoP: proof }) },
    body: form(fields),
  })
  return { status: res.status, body: await res.json() as Json, nonce: res.headers.get('dpop-nonce') }
}

const ways = {
  exchange: (s: TestServer, token: string, proof?: string) => post(s, { grant_type: EXCHANGE, subject_token: token, subject_token_type: JWT_TYPE }, proof),
  assertion: (s: TestServer, token: string, proof?: string) =>
    post(s, { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: token }, proof),
}
// How each way answers a refused platform token.
const REFUSED = { exchange: [400, 'invalid_request'], assertion: [401, 'invalid_client'] } as const

const proofFor = (s: TestServer, key: DPoPKey, opts: Partial<Parameters<typeof dpopProof>[1]> = {}) =>
  dpopProof(key, { htu: `${s.url}/oauth2/token`, iat: Math.floor(s.clock.now().getTime() / 1000), ...opts })

/** A server trusting a real loopback issuer for a client, which may require DPoP. */
async function federated(t: TestContext, dialect: Dialect, opts: { requireDPoP?: boolean; scopes?: string[]; config?: ConfigInput } = {}) {
  const s = await startTestServer(t, dialect, { federationAllowLoopback: 'true', ...opts.config })
  const issuer = await OidcIssuer.start(t, { now: () => s.clock.now() })
  const seed = await seedClient(s.services)
  const { client } = await createClient({ store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }, {
    accountId: seed.accountId, name: 'deploy', level: 'subscription', ...(opts.requireDPoP ? { requireDPoP: true } : {}), ...(opts.scopes ? { scopes: opts.scopes } : {}),
  })
  const policy = await createFederationPolicy({ ...s.services, federation: s.config.federation }, {
    accountId: seed.accountId, clientId: client.id, issuer: issuer.url, audience: s.url, subject: 'repo:acme/deploy:ref:refs/heads/main',
  })
  return { s, issuer, seed, policy }
}

async function introspect(s: TestServer, caller: { clientId: string; clientSecret: string }, token: string): Promise<Json> {
  const res = await fetch(`${s.url}/oauth2/introspect`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(caller.clientId, caller.clientSecret) }, body: form({ token }),
  })
  assert.equal(res.status, 200)
  return await res.json() as Json
}

async function refusals(s: TestServer) {
  await s.server.flushUsage()
  return (await s.services.store.audit.list({ limit: 1000 })).filter((e) => e.action === 'authentication.refused')
}

describeEachDialect('DPoP with workload identity federation (RFC 9449 with RFC 8693 and RFC 7523)', (dialect) => {
  test('a platform token with a DPoP proof, exchanged or as the client assertion, gets a token bound to the proof key', async (t) => {
    const { s, issuer, seed, policy } = await federated(t, dialect)
    for (const way of ['exchange', 'assertion'] as const) {
      const key = await dpopKey()
      const answer = await ways[way](s, await issuer.github(s.url), await proofFor(s, key))
      assert.equal(answer.status, 200, `${way}: ${JSON.stringify(answer.body)}`)
      assert.equal(answer.body.token_type, 'DPoP', way)
      assert.equal(answer.nonce, null, 'no nonce unless nonces are required')
      const { payload } = await verifyAccessToken(s.url, answer.body.access_token as string)
      assert.deepEqual(payload.cnf, { jkt: key.jkt }, way)
      assert.equal(payload.client_id, policy.id, way)
      assert.deepEqual(payload.act, { iss: issuer.url, sub: 'repo:acme/deploy:ref:refs/heads/main' }, way)
      const seen = await introspect(s, seed, answer.body.access_token as string)
      assert.equal(seen.token_type, 'DPoP', way)
      assert.deepEqual(seen.cnf, { jkt: key.jkt }, way)

      // Without a proof, as before: a bearer token.
      const bearer = await ways[way](s, await issuer.github(s.url))
      assert.equal(bearer.status, 200, `${way}: ${JSON.stringify(bearer.body)}`)
      assert.equal(bearer.body.token_type, 'Bearer', way)
      assert.equal((await verifyAccessToken(s.url, bearer.body.access_token as string)).payload.cnf, undefined, way)
    }
  })

  test('a client that requires DPoP: a request refused for its proof leaves the platform token usable', async (t) => {
    const { s, issuer, seed, policy } = await federated(t, dialect, { requireDPoP: true })
    for (const way of ['exchange', 'assertion'] as const) {
      const token = await issuer.github(s.url)
      const key = await dpopKey()
      const without = await ways[way](s, token)
      assert.deepEqual([without.status, without.body.error], [400, 'invalid_dpop_proof'], `${way}: ${JSON.stringify(without.body)}`)
      const wrongUrl = await ways[way](s, token, await proofFor(s, key, { htu: `${s.url}/auth/oauth` }))
      assert.deepEqual([wrongUrl.status, wrongUrl.body.error], [400, 'invalid_dpop_proof'], `${way}: ${JSON.stringify(wrongUrl.body)}`)
      const bound = await ways[way](s, token, await proofFor(s, key))
      assert.equal(bound.status, 200, `${way}: the refusals did not spend the platform token: ${JSON.stringify(bound.body)}`)
      assert.equal(bound.body.token_type, 'DPoP', way)
      assert.deepEqual((await verifyAccessToken(s.url, bound.body.access_token as string)).payload.cnf, { jkt: key.jkt })
      // Spent now: the same platform token with a new, valid proof is a replay.
      const again = await ways[way](s, token, await proofFor(s, key))
      assert.deepEqual([again.status, again.body.error], REFUSED[way], way)
    }
    const audit = await refusals(s)
    assert.ok(audit.some((e) => e.reason === 'dpop_proof_missing' && e.accountId === seed.accountId && e.target === policy.id), 'a missing proof is in the account\'s audit log')
    assert.ok(audit.some((e) => e.reason === 'dpop_proof_invalid' && e.accountId === seed.accountId && e.target === policy.id))
    assert.equal(audit.filter((e) => e.reason === 'federation_token_replayed').reduce((n, e) => n + (e as unknown as { count: number }).count, 0), 2)
  })

  test('server nonces: use_dpop_nonce leaves the platform token usable; the retry with the nonce gets the token and the next nonce', async (t) => {
    const { s, issuer } = await federated(t, dialect, { config: { dpopNonceRequired: 'true' } })
    for (const way of ['exchange', 'assertion'] as const) {
      const token = await issuer.github(s.url)
      const key = await dpopKey()
      const first = await ways[way](s, token, await proofFor(s, key))
      assert.deepEqual([first.status, first.body.error], [400, 'use_dpop_nonce'], `${way}: ${JSON.stringify(first.body)}`)
      assert.ok(first.nonce, 'the nonce comes in DPoP-Nonce')
      const retry = await ways[way](s, token, await proofFor(s, key, { nonce: first.nonce }))
      assert.equal(retry.status, 200, `${way}: ${JSON.stringify(retry.body)}`)
      assert.equal(retry.body.token_type, 'DPoP')
      assert.equal(retry.nonce, first.nonce, 'the current nonce comes with the token')
    }
  })

  test('a replayed proof is refused on the exchange path, and the platform token it came with stays usable', async (t) => {
    const { s, issuer, seed, policy } = await federated(t, dialect)
    const key = await dpopKey()
    const proof = await proofFor(s, key)
    assert.equal((await ways.exchange(s, await issuer.github(s.url), proof)).status, 200)
    const token = await issuer.github(s.url)
    const replayed = await ways.exchange(s, token, proof)
    assert.deepEqual([replayed.status, replayed.body.error], [400, 'invalid_dpop_proof'], JSON.stringify(replayed.body))
    const fresh = await ways.exchange(s, token, await proofFor(s, key))
    assert.equal(fresh.status, 200, JSON.stringify(fresh.body))
    assert.equal(fresh.body.token_type, 'DPoP')
    // On the client assertion path too, even across paths: a proof works once.
    const across = await ways.assertion(s, await issuer.github(s.url), proof)
    assert.deepEqual([across.status, across.body.error], [400, 'invalid_dpop_proof'])
    const audit = await refusals(s)
    assert.ok(audit.some((e) => e.reason === 'dpop_proof_replayed' && e.accountId === seed.accountId && e.target === policy.id))
  })
  test('a request refused for its scope or its resource leaves the platform token usable, by either way in', async (t) => {
    const { s, issuer } = await federated(t, dialect, { scopes: ['orders:read'] })
    for (const way of ['exchange', 'assertion'] as const) {
      const token = await issuer.github(s.url)
      const base = way === 'exchange'
        ? { grant_type: EXCHANGE, subject_token: token, subject_token_type: JWT_TYPE }
        : { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: token }
      const scoped = await post(s, { ...base, scope: 'orders:delete' })
      assert.deepEqual([scoped.status, scoped.body.error], [400, 'invalid_scope'], `${way}: ${JSON.stringify(scoped.body)}`)
      const targeted = await post(s, { ...base, resource: 'https://nobody.example/api' })
      assert.deepEqual([targeted.status, targeted.body.error], [400, 'invalid_target'], `${way}: ${JSON.stringify(targeted.body)}`)
      const granted = await post(s, base)
      assert.equal(granted.status, 200, `${way}: ${JSON.stringify(granted.body)}`)
      const again = await post(s, base)
      assert.deepEqual([again.status, again.body.error], REFUSED[way], `${way}: its one use is spent by the token it got`)
    }
  })
})
