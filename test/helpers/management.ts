import assert from 'node:assert/strict'
import { seedClient, type SeededClient, type TestServer } from './server.js'
import { basic, form } from './tokens.js'

/** A token from /oauth2/token with client_secret_basic; fails the test on anything but 200. */
export async function tokenOf(s: TestServer, c: { clientId: string; clientSecret: string }, fields: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${s.url}/oauth2/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, c.clientSecret) },
    body: form({ grant_type: 'client_credentials', ...fields }),
  })
  assert.equal(res.status, 200, await res.clone().text())
  return (await res.json() as { access_token: string }).access_token
}

export type ApiCall = (method: string, path: string, body?: unknown) => Promise<{ status: number; headers: Headers; body: Record<string, any> }> // eslint-disable-line @typescript-eslint/no-explicit-any -- untyped JSON under test

/** Calls /api/v1 with a bearer token (or none) and parses the JSON answer. */
export function api(s: TestServer, token: string | undefined): ApiCall {
  return async (method, path, body) => {
    const res = await fetch(`${s.url}/api/v1${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> }
  }
}

/** A fresh account with a subscription-level client holding `keymint:admin`, and a caller using its token. */
export async function adminOf(s: TestServer): Promise<{ seed: SeededClient; call: ApiCall }> {
  const seed = await seedClient(s.services, { clientScopes: ['keymint:admin'] })
  return { seed, call: api(s, await tokenOf(s, seed)) }
}
