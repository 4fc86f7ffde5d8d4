import assert from 'node:assert/strict'
import type { KeyObject } from 'node:crypto'
import type { TestContext } from 'node:test'
import { createClient } from '../../src/domain/clients.js'
import { openPrivateKey } from '../../src/domain/server-keys.js'
import { createVerifier } from '../../src/verify/index.js'
import type { Verifier, VerifierOptions } from '../../src/verify/index.js'
import type { SeededClient, TestServer } from '../helpers/server.js'
import { form } from '../helpers/tokens.js'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

/** A header-dialect token (`/auth/oauth`, or `/auth/oidc` for user-level clients); `body` may ask for encryption. */
export async function headerToken(s: TestServer, c: SeededClient, body = '', path = '/auth/oauth'): Promise<string> {
  const res = await fetch(`${s.url}${path}`, { method: 'POST', headers: { clientId: c.clientId, clientSecret: c.clientSecret, ...FORM }, body })
  assert.equal(res.status, 200, await res.clone().text())
  return res.text()
}

/** An RFC 6749 client-credentials token, optionally for a narrower scope. */
export async function oauth2Token(s: TestServer, c: { clientId: string; clientSecret: string }, scope?: string): Promise<string> {
  const res = await fetch(`${s.url}/oauth2/token`, {
    method: 'POST', headers: FORM,
    body: form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret, ...(scope ? { scope } : {}) }),
  })
  assert.equal(res.status, 200, await res.clone().text())
  return ((await res.json()) as { access_token: string }).access_token
}

/** A second key pair in the same account, as a resource server would hold to read the feed. */
export async function resourceServerClient(s: TestServer, c: SeededClient, opts: { signingAlg?: string } = {}): Promise<{ clientId: string; clientSecret: string }> {
  const { keyPair } = await createClient({ store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }, {
    accountId: c.accountId, name: 'resource-server', level: 'subscription', ...opts,
  })
  return { clientId: keyPair.id, clientSecret: keyPair.secret }
}

/** The private half of a server key, read from the store the way the server itself opens it. */
export async function serverPrivateKey(s: TestServer, use: 'sig' | 'enc'): Promise<{ kid: string; alg: string; key: KeyObject }> {
  const record = (await s.services.store.serverKeys.listAll()).find((k) => k.use === use && k.retiredAt === null)
  assert.ok(record, `no ${use} key`)
  return { kid: record.kid, alg: record.alg, key: openPrivateKey(record, s.services.sealer) }
}

/** A verifier for the test server on the server's own (movable) clock, closed after the test. */
export function verifierFor(t: TestContext, s: TestServer, options: Partial<VerifierOptions> = {}): Verifier {
  const verifier = createVerifier({ issuer: s.url, audience: s.url, now: () => s.clock.now(), ...options })
  t.after(() => verifier.close())
  return verifier
}

export const decodePart = (token: string, index: number): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[index]!, 'base64url').toString()) as Record<string, unknown>

export const encodePart = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

/** Asserts that a promise rejects with a VerifyError of this code. */
export async function assertRefused(promise: Promise<unknown>, code: 'invalid_token' | 'insufficient_scope', message?: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.equal((err as { name?: string }).name, 'VerifyError', `${message ?? ''}: ${String(err)}`)
    assert.equal((err as { code?: string }).code, code, message)
    return true
  }, message)
}
