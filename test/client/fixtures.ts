import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import { createClient } from '../../src/domain/clients.js'
import type { SeededClient, TestServer } from '../helpers/server.js'
import { basic, form } from '../helpers/tokens.js'

/** A `fetch` that records `METHOD /path` of every call, to count requests per endpoint. */
export function recordingFetch(): { fetch: typeof fetch; calls: string[]; count: (path: string) => number } {
  const calls: string[] = []
  const wrapped: typeof fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input)
    calls.push(`${init?.method ?? (input instanceof Request ? input.method : 'GET')} ${url.pathname}`)
    return fetch(input, init)
  }
  return { fetch: wrapped, calls, count: (path) => calls.filter((c) => c.endsWith(` ${path}`)).length }
}

/** A clock for the client that tests move by hand. */
export function manualClock(): { now: () => number; advance: (seconds: number) => void } {
  let ms = Date.now()
  return { now: () => ms, advance: (seconds) => { ms += seconds * 1000 } }
}

/** A node:http server on loopback port 0, closed after the test. */
export async function listen(t: TestContext, handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>): Promise<string> {
  const server = createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((err: unknown) => {
      res.statusCode = 500
      res.end(String(err))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  }))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A second client in the account of `c`: what the resource server introspects with. */
export async function sibling(s: TestServer, c: SeededClient): Promise<SeededClient> {
  const { client, keyPair } = await createClient(
    { store: s.services.store, clock: s.services.clock, secrets: s.services.secrets },
    { accountId: c.accountId, name: 'resource-server', level: 'subscription' },
  )
  return { ...c, clientRecordId: client.id, clientId: keyPair.id, clientSecret: keyPair.secret, userId: undefined }
}

export interface ProtectedApi {
  readonly url: string
  /** The Authorization header of every request, in order. */
  readonly seen: string[]
}

/**
 * A resource server that accepts a bearer token when keymint's introspection (RFC 7662) says it
 * is active, and answers 401 with an RFC 6750 challenge otherwise; `refuseAll` refuses every call.
 */
export async function startProtectedApi(t: TestContext, s: TestServer, rs: SeededClient, opts: { refuseAll?: boolean } = {}): Promise<ProtectedApi> {
  const seen: string[] = []
  const url = await listen(t, async (req, res) => {
    const authorization = req.headers.authorization ?? ''
    seen.push(authorization)
    const token = /^Bearer (\S+)$/.exec(authorization)?.[1]
    let claims: Record<string, unknown> = { active: false }
    if (token !== undefined && !opts.refuseAll) {
      const answer = await fetch(`${s.url}/oauth2/introspect`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(rs.clientId, rs.clientSecret) },
        body: form({ token }),
      })
      claims = await answer.json() as Record<string, unknown>
    }
    if (claims.active !== true) {
      res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end()
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ client_id: claims.client_id, jti: claims.jti, method: req.method }))
  })
  return { url, seen }
}
