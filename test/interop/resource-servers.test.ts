import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test, type TestContext } from 'node:test'
import express, { type RequestHandler } from 'express'
import { auth as auth0Bearer } from 'express-oauth2-jwt-bearer'
import Fastify from 'fastify'
import { createClient } from '../../src/domain/clients.js'
import { revokeKeyPairs } from '../../src/domain/key-pairs.js'
import { createVerifier, keymintExpress, keymintFastify, type Verifier } from '../../src/verify/index.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { registerApi, seedClient, startTestServer, type SeededClient, type TestServer } from '../helpers/server.js'
import { basic, form } from '../helpers/tokens.js'

const AUDIENCE = 'https://assets.example.com'

async function tokenFor(s: TestServer, c: { clientId: string; clientSecret: string }, resource?: string): Promise<string> {
  const res = await fetch(`${s.url}/oauth2/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, c.clientSecret) },
    body: form({ grant_type: 'client_credentials', ...(resource ? { resource } : {}) }),
  })
  assert.equal(res.status, 200)
  return (await res.json() as { access_token: string }).access_token
}

async function listen(t: TestContext, app: express.Express): Promise<string> {
  const server = app.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** Good, tampered, expired and wrong-audience tokens of one account, plus the pieces to revoke one. */
async function tokenSet(s: TestServer) {
  const c = await seedClient(s.services)
  await registerApi(s, c.accountId, AUDIENCE)
  const good = await tokenFor(s, c, AUDIENCE)
  const [h, p, sig] = good.split('.') as [string, string, string]
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>
  const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, scope: 'keymint:admin' })).toString('base64url')}.${sig}`
  s.clock.advance(-11 * 3600)
  const expired = await tokenFor(s, c, AUDIENCE)
  s.clock.advance(11 * 3600)
  const wrongAudience = await tokenFor(s, c)
  const { keyPair } = await createClient({ store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }, { accountId: c.accountId, name: 'rs', level: 'subscription' })
  return { c, good, tampered, expired, wrongAudience, rs: { clientId: keyPair.id, clientSecret: keyPair.secret } }
}

const call = async (url: string, token?: string) => (await fetch(`${url}/assets`, token ? { headers: { authorization: `Bearer ${token}` } } : {})).status

async function assertGuards(url: string, tokens: Awaited<ReturnType<typeof tokenSet>>, name: string): Promise<void> {
  assert.equal(await call(url, tokens.good), 200, `${name}: good token`)
  for (const [what, token] of [['no token', undefined], ['tampered', tokens.tampered], ['expired', tokens.expired], ['wrong audience', tokens.wrongAudience]] as const) {
    assert.equal(await call(url, token), 401, `${name}: ${what}`)
  }
}

async function revokeAndCheck(s: TestServer, url: string, c: SeededClient, verifier: Verifier, good: string): Promise<void> {
  await revokeKeyPairs(s.services, { clientId: c.clientRecordId })
  await verifier.refreshRevocations()
  assert.equal(await call(url, good), 401, 'a revoked key pair\'s token is refused after the next poll')
}

describeEachDialect('interoperability with resource servers', (dialect) => {
  test('express-oauth2-jwt-bearer accepts keymint tokens and refuses tampered, expired and wrong-audience ones', async (t) => {
    const s = await startTestServer(t, dialect)
    const tokens = await tokenSet(s)
    const app = express()
    app.use(auth0Bearer({ issuerBaseURL: s.url, audience: AUDIENCE, tokenSigningAlg: 'RS256' }) as RequestHandler)
    app.get('/assets', (_req, res) => { res.json({ ok: true }) })
    app.use(((err, _req, res, _next) => { res.status((err as { status?: number }).status ?? 500).end() }) as express.ErrorRequestHandler)
    await assertGuards(await listen(t, app), tokens, 'express-oauth2-jwt-bearer')
  })

  test('keymint/verify as Express middleware, with revocations', async (t) => {
    const s = await startTestServer(t, dialect)
    const tokens = await tokenSet(s)
    const guard = keymintExpress({ issuer: s.url, audience: AUDIENCE, now: () => s.clock.now(), revocation: tokens.rs })
    t.after(() => guard.verifier.close())
    const app = express()
    app.get('/assets', guard as unknown as RequestHandler, (_req, res) => { res.json({ ok: true }) })
    const url = await listen(t, app)
    await assertGuards(url, tokens, 'keymint/verify Express')
    await revokeAndCheck(s, url, tokens.c, guard.verifier, tokens.good)
  })

  test('keymint/verify as a Fastify plugin, with revocations', async (t) => {
    const s = await startTestServer(t, dialect)
    const tokens = await tokenSet(s)
    const verifier = createVerifier({ issuer: s.url, audience: AUDIENCE, now: () => s.clock.now(), revocation: tokens.rs })
    t.after(() => verifier.close())
    const app = Fastify()
    t.after(() => app.close())
    await app.register(keymintFastify, { verifier })
    app.get('/assets', async () => ({ ok: true }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    await assertGuards(url, tokens, 'keymint/verify Fastify')
    await revokeAndCheck(s, url, tokens.c, verifier, tokens.good)
  })
})
