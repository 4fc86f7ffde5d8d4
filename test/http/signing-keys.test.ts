import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decodeProtectedHeader } from 'jose'
import { InvalidState } from '../../src/domain/errors.js'
import { retireServerKey, rotateSigningKey } from '../../src/domain/server-keys.js'
import { createClient } from '../../src/domain/clients.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { seedClient, startTestServer, type SeededClient, type TestServer } from '../helpers/server.js'
import { basic, form, verifyAccessToken } from '../helpers/tokens.js'

const token = async (s: TestServer, c: SeededClient) => {
  const res = await fetch(`${s.url}/auth/oauth`, { method: 'POST', headers: { clientId: c.clientId, clientSecret: c.clientSecret } })
  assert.equal(res.status, 200)
  return res.text()
}
const jwks = async (s: TestServer) =>
  ((await (await fetch(`${s.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string; use: string; alg?: string }[] }).keys.filter((k) => k.use === 'sig')

describeEachDialect('signing key rotation', (dialect) => {
  test('a rotated-in key is published first, signs after the overlap, and old tokens keep verifying', async (t) => {
    const s = await startTestServer(t, dialect)
    const c = await seedClient(s.services)
    const { keyPair: rs } = await createClient({ store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }, { accountId: c.accountId, name: 'rs', level: 'subscription' })
    const first = await token(s, c)
    const oldKid = decodeProtectedHeader(first).kid
    const next = await rotateSigningKey(s.services, { alg: 'RS256', publishAheadSeconds: 600 })
    await s.server.refreshKeys()

    assert.deepEqual((await jwks(s)).map((k) => k.kid).sort(), [oldKid, next.kid].sort(), 'published before it signs')
    assert.equal(decodeProtectedHeader(await token(s, c)).kid, oldKid, 'the old key still signs during the overlap')

    s.clock.advance(601)
    const second = await token(s, c)
    assert.equal(decodeProtectedHeader(second).kid, next.kid)
    await verifyAccessToken(s.url, second)
    const introspect = await fetch(`${s.url}/oauth2/introspect`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(rs.id, rs.secret) }, body: form({ token: first }),
    })
    assert.equal((await introspect.json() as { active: boolean }).active, true, 'a token of the previous key is still valid')

    await retireServerKey(s.services, { kid: oldKid! })
    await s.server.refreshKeys()
    assert.ok((await jwks(s)).some((k) => k.kid === oldKid), 'a retired key stays published while its tokens may live')
    s.clock.advance(8 * 24 * 3600)
    await s.server.refreshKeys()
    assert.deepEqual((await jwks(s)).map((k) => k.kid), [next.kid], 'and is gone once they cannot')
  })

  test('a client can ask for another algorithm; its first key is made on first use', async (t) => {
    const s = await startTestServer(t, dialect)
    const base = await seedClient(s.services)
    for (const alg of ['EdDSA', 'ES256', 'PS256'] as const) {
      const { keyPair } = await createClient({ store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }, {
        accountId: base.accountId, name: alg, level: 'subscription', signingAlg: alg,
      })
      const results = await Promise.all([1, 2, 3].map(() => fetch(`${s.url}/auth/oauth`, { method: 'POST', headers: { clientId: keyPair.id, clientSecret: keyPair.secret } })))
      for (const res of results) {
        assert.equal(res.status, 200)
        const { header } = await verifyAccessToken(s.url, await res.text())
        assert.equal(header.alg, alg)
      }
    }
    assert.equal(decodeProtectedHeader(await token(s, base)).alg, 'RS256', 'other clients keep the default')
    const sig = (await s.services.store.serverKeys.listAll()).filter((k) => k.use === 'sig')
    assert.deepEqual(sig.map((k) => k.alg).sort(), ['ES256', 'EdDSA', 'PS256', 'RS256'], 'one key per algorithm, even under concurrent first use')
  })

  test('the only key in use cannot be retired; an unknown kid is NotFound', async (t) => {
    const s = await startTestServer(t, dialect)
    const [active] = (await s.services.store.serverKeys.listAll()).filter((k) => k.use === 'sig')
    await assert.rejects(retireServerKey(s.services, { kid: active!.kid }), InvalidState)
    await assert.rejects(retireServerKey(s.services, { kid: 'nope' }), /not found/)
  })
})
