import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair } from 'jose'
import { TokenClient, TokenError, type TokenClientOptions } from '../../src/client/index.js'
import { createClient } from '../../src/domain/clients.js'
import { createFederationPolicy } from '../../src/domain/federation-policies.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { OidcIssuer } from '../helpers/oidc-issuer.js'
import { seedClient, startTestServer, tempDir } from '../helpers/server.js'
import { verifyAccessToken } from '../helpers/tokens.js'

describeEachDialect('keymint/client with a platform token (workload identity federation)', (dialect) => {
  test('reads a Kubernetes token file for every token request: a rotated file is picked up, no secret anywhere', async (t) => {
    const s = await startTestServer(t, dialect, { federationAllowLoopback: 'true' })
    const cluster = await OidcIssuer.start(t, { now: () => s.clock.now() })
    const seed = await seedClient(s.services, { clientScopes: ['orders:read'] })
    const policy = await createFederationPolicy({ ...s.services, federation: s.config.federation }, {
      accountId: seed.accountId, clientId: seed.clientRecordId, issuer: cluster.url, audience: 'keymint', subject: 'system:serviceaccount:billing:sync',
    })
    const file = join(tempDir(t), 'token')
    writeFileSync(file, `${await cluster.kubernetes('keymint')}\n`)
    const client = new TokenClient({ issuer: s.url, platformToken: { file }, now: () => s.clock.now().getTime() })
    const first = await client.getTokenResponse()
    const { payload } = await verifyAccessToken(s.url, first.accessToken)
    assert.deepEqual(payload.act, { iss: cluster.url, sub: 'system:serviceaccount:billing:sync' })
    assert.equal(payload.client_id, policy.id)
    assert.equal(first.scope, 'orders:read')
    assert.equal(await client.getToken(), first.accessToken, 'cached like any token')

    // The kubelet rotates the file; the next request reads it (the old token would be a replay).
    s.clock.advance(5)
    writeFileSync(file, await cluster.kubernetes('keymint'))
    client.invalidate()
    const second = await client.getToken()
    assert.notEqual(second, first.accessToken)
    assert.equal(decodeJwt(second).client_id, policy.id)

    // Not rotated: the same token again is refused as a replay, and the error says so as RFC 8693 does.
    client.invalidate()
    const replay = await client.getToken().then(() => undefined, (err: unknown) => err)
    assert.ok(replay instanceof TokenError)
    assert.equal(replay.error, 'invalid_request')
  })

  test('calls a function for GitHub Actions tokens, as the client assertion, naming the policy', async (t) => {
    const s = await startTestServer(t, dialect, { federationAllowLoopback: 'true' })
    const github = await OidcIssuer.start(t, { now: () => s.clock.now() })
    const seed = await seedClient(s.services)
    const trust = () => createFederationPolicy({ ...s.services, federation: s.config.federation }, {
      accountId: seed.accountId, clientId: seed.clientRecordId, issuer: github.url, audience: s.url, subject: 'repo:acme/deploy:*',
    })
    await trust()
    const chosen = await trust()
    let calls = 0
    const client = new TokenClient({
      issuer: s.url, clientId: chosen.id, platformTokenUse: 'client_assertion', now: () => s.clock.now().getTime(),
      platformToken: async () => {
        calls++
        return github.github(s.url)
      },
    })
    assert.equal(decodeJwt(await client.getToken()).client_id, chosen.id)
    client.invalidate()
    await client.getToken()
    assert.equal(calls, 2, 'a new platform token per token request')
  })

  test('with dpop, the tokens are DPoP-bound; use_dpop_nonce is answered once, with the same platform token', async (t) => {
    const s = await startTestServer(t, dialect, { federationAllowLoopback: 'true', dpopNonceRequired: 'true' })
    const cluster = await OidcIssuer.start(t, { now: () => s.clock.now() })
    const seed = await seedClient(s.services)
    // A client that gets DPoP-bound tokens only: without the proof there would be no token at all.
    const { client } = await createClient({ store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }, {
      accountId: seed.accountId, name: 'sync', level: 'subscription', requireDPoP: true,
    })
    const policy = await createFederationPolicy({ ...s.services, federation: s.config.federation }, {
      accountId: seed.accountId, clientId: client.id, issuer: cluster.url, audience: 'keymint', subject: 'system:serviceaccount:billing:sync',
    })
    // What each token request carried: its proof's nonce, and the platform token.
    const sent: { nonce: unknown; platformToken: string | null }[] = []
    const recording: typeof fetch = (input, init) => {
      const url = input instanceof Request ? input.url : String(input)
      if (url.endsWith('/oauth2/token')) {
        const proof = new Headers(init?.headers).get('dpop')
        const body = new URLSearchParams(String(init?.body))
        sent.push({ nonce: proof === null ? 'no proof' : decodeJwt(proof).nonce, platformToken: body.get('subject_token') ?? body.get('client_assertion') })
      }
      return fetch(input, init)
    }
    for (const use of ['token_exchange', 'client_assertion'] as const) {
      sent.length = 0
      const file = join(tempDir(t), 'token')
      const platformToken = await cluster.kubernetes('keymint')
      writeFileSync(file, platformToken)
      const { privateKey, publicKey } = await generateKeyPair('ES256')
      const tokens = new TokenClient({
        issuer: s.url, platformToken: { file }, platformTokenUse: use, dpop: { keyPair: { alg: 'ES256', privateKey, publicKey } },
        fetch: recording, maxRetries: 0, now: () => s.clock.now().getTime(),
      })
      const issued = await tokens.getTokenResponse()
      assert.equal(issued.tokenType, 'DPoP', use)
      const claims = decodeJwt(issued.accessToken)
      assert.deepEqual(claims.cnf, { jkt: await calculateJwkThumbprint(await exportJWK(publicKey)) }, use)
      assert.equal(claims.client_id, policy.id, use)
      assert.equal(sent.length, 2, `${use}: refused for the nonce once, then answered`)
      assert.equal(sent[0]!.nonce, undefined, use)
      assert.equal(typeof sent[1]!.nonce, 'string', use)
      assert.deepEqual(sent.map((r) => r.platformToken), [platformToken, platformToken], `${use}: the refusal left the platform token usable`)

      // The answer's DPoP-Nonce is kept: the next token request carries it at once.
      s.clock.advance(5)
      writeFileSync(file, await cluster.kubernetes('keymint'))
      tokens.invalidate()
      assert.equal((await tokens.getTokenResponse()).tokenType, 'DPoP')
      assert.equal(sent.length, 3, use)
      assert.equal(typeof sent[2]!.nonce, 'string', use)
    }
  })
})

test('keymint/client with a platform token: misconfigurations fail at construction; an unreadable source fails without a request', async (t) => {
  const base: TokenClientOptions = { issuer: 'https://id.example.com', platformToken: { file: '/nonexistent/token' } }
  const wrong: [string, TokenClientOptions][] = [
    ['a secret as well', { ...base, clientId: 'x', clientSecret: 'y' }],
    ['the header dialect', { ...base, dialect: 'header' }],
    ['no file name', { ...base, platformToken: { file: '' } }],
    ['a use without a token', { issuer: 'https://id.example.com', clientId: 'x', clientSecret: 'y', platformTokenUse: 'client_assertion' }],
    ['an unknown use', { ...base, platformTokenUse: 'exchange' as never }],
    ['neither secret nor platform token', { issuer: 'https://id.example.com', clientId: 'x' }],
  ]
  for (const [name, options] of wrong) assert.throws(() => new TokenClient(options), TypeError, name)

  let requests = 0
  const fetchCounting: typeof fetch = async () => {
    requests++
    return new Response('{}', { status: 500 })
  }
  for (const platformToken of [{ file: join(tempDir(t), 'missing') }, () => 'not a token', () => Promise.reject(new Error('runner gone'))]) {
    const client = new TokenClient({ tokenEndpoint: 'https://id.example.com/oauth2/token', platformToken, fetch: fetchCounting })
    const err = await client.getToken().then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof TokenError)
    assert.equal(err.error, 'platform_token_unavailable')
  }
  assert.equal(requests, 0)
})
