import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { exportSPKI, generateKeyPair } from 'jose'
import * as oauth from 'oauth4webapi'
import * as client from 'openid-client'
import { createClient } from '../../src/domain/clients.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { seedClient, startTestServer, type TestServer } from '../helpers/server.js'
import { verifyAccessToken } from '../helpers/tokens.js'

const run = promisify(execFile)

async function keyClient(s: TestServer) {
  const base = await seedClient(s.services, { clientScopes: ['assets:read', 'assets:write'] })
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
  const { keyPair } = await createClient({ store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }, {
    accountId: base.accountId, name: 'signed', level: 'subscription', publicKey: await exportSPKI(publicKey),
  })
  return { base, clientId: keyPair.id, privateKey }
}

describeEachDialect('interoperability with real OAuth clients', (dialect) => {
  test('openid-client v6: discovery and clientCredentialsGrant with Basic, post and private_key_jwt', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services, { clientScopes: ['assets:read', 'assets:write'] })
    const signed = await keyClient(s)
    const auths: [string, string, client.ClientAuth][] = [
      ['client_secret_basic', c.clientId, client.ClientSecretBasic(c.clientSecret)],
      ['client_secret_post', c.clientId, client.ClientSecretPost(c.clientSecret)],
      ['private_key_jwt', signed.clientId, client.PrivateKeyJwt(signed.privateKey)],
    ]
    for (const algorithm of ['oauth2', 'oidc'] as const) {
      for (const [name, clientId, auth] of auths) {
        const config = await client.discovery(new URL(s.url), clientId, undefined, auth, { execute: [client.allowInsecureRequests], algorithm })
        const tokens = await client.clientCredentialsGrant(config, { scope: 'assets:read' })
        assert.equal(tokens.token_type.toLowerCase(), 'bearer', name)
        assert.equal(tokens.scope, 'assets:read', name)
        assert.ok((tokens.expiresIn() ?? 0) > 0)
        const { payload } = await verifyAccessToken(s.url, tokens.access_token)
        assert.equal(payload.client_id, clientId, `${algorithm} ${name}`)
      }
    }
    const bad = await client.discovery(new URL(s.url), c.clientId, undefined, client.ClientSecretBasic(`kmsk_${'Z'.repeat(43)}`), { execute: [client.allowInsecureRequests], algorithm: 'oauth2' })
    // RFC 6749 §5.2: a 401 after Basic carries a challenge; openid-client surfaces it as such.
    await assert.rejects(client.clientCredentialsGrant(bad), (err: Error & { error?: string; cause?: unknown }) =>
      err.error === 'invalid_client' || (err instanceof client.WWWAuthenticateChallengeError && (err as { status?: number }).status === 401))
  })

  test('oauth4webapi: discovery and client credentials with Basic and private_key_jwt', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const signed = await keyClient(s)
    const issuer = new URL(s.url)
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }))
    const cases: [oauth.Client, oauth.ClientAuth][] = [
      [{ client_id: c.clientId }, oauth.ClientSecretBasic(c.clientSecret)],
      [{ client_id: signed.clientId }, oauth.PrivateKeyJwt(signed.privateKey)],
    ]
    for (const [cl, auth] of cases) {
      const response = await oauth.clientCredentialsGrantRequest(as, cl, auth, new URLSearchParams(), { [oauth.allowInsecureRequests]: true })
      const result = await oauth.processClientCredentialsResponse(as, cl, response)
      assert.equal(result.token_type, 'bearer')
      await verifyAccessToken(s.url, result.access_token)
    }
  })

  test("Python requests-oauthlib BackendApplicationClient", async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const script = `
import json, sys
from oauthlib.oauth2 import BackendApplicationClient
from requests_oauthlib import OAuth2Session
session = OAuth2Session(client=BackendApplicationClient(client_id=sys.argv[2]))
token = session.fetch_token(token_url=sys.argv[1] + "/oauth2/token", client_id=sys.argv[2], client_secret=sys.argv[3])
print(json.dumps(token))
`
    const { stdout } = await run('/usr/bin/python3', ['-c', script, s.url, c.clientId, c.clientSecret], { env: { ...process.env, OAUTHLIB_INSECURE_TRANSPORT: '1' } })
    const token = JSON.parse(stdout) as { access_token: string; token_type: string; expires_in: number; scope: string[] | string }
    assert.equal(token.token_type, 'Bearer')
    assert.equal(token.expires_in, 36000)
    await verifyAccessToken(s.url, token.access_token)
  })
})
