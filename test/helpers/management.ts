import assert from 'node:assert/strict'
import { seedClient, type SeededClient, type TestServer } from './server.js'
import { basic, form } from './tokens.js'

export interface ApiResponse {
  readonly status: number
  readonly headers: Headers
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped JSON under test
  readonly body: Record<string, any>
}

/** A client-credentials token of `c`, optionally with more form fields. */
export async function tokenOf(s: TestServer, c: { clientId: string; clientSecret: string }, fields: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${s.url}/oauth2/token`, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(c.clientId, c.clientSecret) },
    body: form({ grant_type: 'client_credentials', ...fields }),
  })
  assert.equal(res.status, 200, await res.clone().text())
  return (await res.json() as { access_token: string }).access_token
}

/** Calls /api/v1 with a bearer token (or none). */
export function managementApi(s: TestServer, token: string | undefined) {
  return async (method: string, path: string, body?: unknown): Promise<ApiResponse> => {
    const res = await fetch(`${s.url}/api/v1${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as ApiResponse['body'] }
  }
}

/** A new account with a keymint:admin client, and a caller of its management API. */
export async function adminApi(s: TestServer): Promise<{ seed: SeededClient; call: ReturnType<typeof managementApi> }> {
  const seed = await seedClient(s.services, { clientScopes: ['keymint:admin'] })
  return { seed, call: managementApi(s, await tokenOf(s, seed)) }
}
