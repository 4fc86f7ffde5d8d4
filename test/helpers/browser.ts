import assert from 'node:assert/strict'
import { createAccount } from '../../src/domain/accounts.js'
import { createUser } from '../../src/domain/users.js'
import type { Permission, Plan, Role } from '../../src/domain/types.js'
import type { TestServer } from './server.js'

export const PASSWORD = 'a long passphrase of my own'

export interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly body: Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- untyped JSON under test
}

/** How a call is dressed: by default as keymint's own pages would send it. */
export interface CallOptions {
  /** false: leave the CSRF header out; a string: send that instead of the session's. */
  readonly csrf?: false | string
  /** null: no Origin header; a string: that Origin instead of the server's own. */
  readonly origin?: string | null
  readonly headers?: Record<string, string>
}

/**
 * A browser's side of a dashboard session: the cookie it keeps, the CSRF token the page keeps,
 * and the Origin it sends. Real HTTP to the real server.
 */
export class Browser {
  cookie: string | undefined
  csrf: string | undefined
  constructor(readonly s: TestServer, readonly headers: Record<string, string> = {}) {}

  async call(method: string, path: string, body?: unknown, opts: CallOptions = {}): Promise<Answer> {
    const origin = opts.origin === undefined ? new URL(this.s.url).origin : opts.origin
    const csrf = opts.csrf === undefined ? this.csrf : opts.csrf === false ? undefined : opts.csrf
    const res = await fetch(`${this.s.url}/api/v1${path}`, {
      method,
      headers: {
        ...this.headers,
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(csrf && method !== 'GET' ? { 'x-csrf-token': csrf } : {}),
        ...(origin !== null && method !== 'GET' ? { origin } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...opts.headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const setCookie = res.headers.getSetCookie().find((c) => c.includes('keymint_session='))
    if (setCookie) {
      const pair = setCookie.split(';')[0] ?? ''
      this.cookie = pair.endsWith('=') || /Expires=Thu, 01 Jan 1970/i.test(setCookie) ? undefined : pair
    }
    const text = await res.text()
    const parsed = (text ? JSON.parse(text) : undefined) as Answer['body']
    if (res.status < 300 && typeof parsed?.csrf_token === 'string') this.csrf = parsed.csrf_token
    return { status: res.status, headers: res.headers, body: parsed }
  }

  async signIn(email: string, password = PASSWORD, extra: Record<string, string> = {}): Promise<Answer> {
    return this.call('POST', '/sessions', { email, password, ...extra })
  }
}

/** A user who may sign in (by default an admin of a fresh enterprise account), with PASSWORD. */
export async function personOf(s: TestServer, opts: { role?: Role; plan?: Plan; permissions?: Permission[]; email?: string; accountId?: string } = {}) {
  const deps = { store: s.services.store, clock: s.services.clock }
  const accountId = opts.accountId ?? (await createAccount(deps, { name: 'acme', plan: opts.plan ?? 'enterprise' })).id
  const user = await createUser(deps, {
    accountId, email: opts.email ?? `${opts.role ?? 'admin'}-${Math.random().toString(36).slice(2)}@example.com`,
    role: opts.role ?? 'admin', permissions: opts.permissions ?? ['ui', 'api'], scopes: ['api.read'],
  })
  // What setting PASSWORD would store, hashed once per process: an scrypt hash is made to be slow.
  await s.services.store.users.setPassword(user.id, await passwordHash(s), false, s.services.clock.now())
  return { user, accountId }
}

let hashed: Promise<string> | undefined
function passwordHash(s: TestServer): Promise<string> {
  hashed ??= s.services.passwords.hash(PASSWORD)
  return hashed
}

/** A browser signed in as `email`; fails the test unless sign-in answers 201. */
export async function signedIn(s: TestServer, email: string, headers: Record<string, string> = {}): Promise<Browser> {
  const browser = new Browser(s, headers)
  const res = await browser.signIn(email)
  assert.equal(res.status, 201, JSON.stringify(res.body))
  return browser
}
