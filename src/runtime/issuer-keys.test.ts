import assert from 'node:assert/strict'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test, type TestContext } from 'node:test'
import { exportJWK, generateKeyPair } from 'jose'
import { ISSUER_KEYS_DEFAULTS, IssuerKeys, IssuerKeysUnavailable } from './issuer-keys.js'

/** An issuer on loopback whose JWKS answer the test writes. */
async function issuerAnswering(t: TestContext, jwks: (res: ServerResponse) => void): Promise<string> {
  let url = ''
  const server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: url, jwks_uri: `${url}/jwks` }))
    } else jwks(res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  t.after(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return url
}

const keysWith = (opts: Partial<typeof ISSUER_KEYS_DEFAULTS> = {}, allowLoopback = true) =>
  new IssuerKeys({ ...ISSUER_KEYS_DEFAULTS, ...opts, allowLoopback }, { now: () => Date.now() })

test('issuer keys: a JWKS is read; symmetric, private and malformed keys in it are left out', async (t) => {
  const { publicKey } = await generateKeyPair('ES256', { extractable: true })
  const good = { ...await exportJWK(publicKey), kid: 'a' }
  const listed = [good, { kty: 'oct', k: 'c2VjcmV0', kid: 's' }, { ...good, kid: 'p', d: 'x' }, { kty: 'RSA', kid: 'm' }]
  const url = await issuerAnswering(t, (res) => res.writeHead(200).end(JSON.stringify({ keys: listed })))
  const set = await keysWith().keys(url)
  assert.deepEqual(set.keys.map((k) => k.kid), ['a'])
})

test('issuer keys: refused over plain http without the development setting, past the size cap, and when too slow', async (t) => {
  const { publicKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = await exportJWK(publicKey)
  const fine = await issuerAnswering(t, (res) => res.writeHead(200).end(JSON.stringify({ keys: [jwk] })))
  await assert.rejects(keysWith({}, false).keys(fine), (err) => err instanceof IssuerKeysUnavailable && /KEYMINT_FEDERATION_ALLOW_LOOPBACK/.test(err.message))

  const huge = await issuerAnswering(t, (res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    // No Content-Length: the cap holds while reading, too.
    res.write(`{"keys": [${JSON.stringify(jwk)}], "padding": "`)
    res.end(`${'x'.repeat(300 * 1024)}"}`)
  })
  await assert.rejects(keysWith().keys(huge), (err) => err instanceof IssuerKeysUnavailable && /larger than/.test(err.message))

  const slow = await issuerAnswering(t, () => { /* never answers */ })
  const started = Date.now()
  await assert.rejects(keysWith({ timeoutMs: 300 }).keys(slow), IssuerKeysUnavailable)
  assert.ok(Date.now() - started < 5000, 'gave up after the timeout')
})
