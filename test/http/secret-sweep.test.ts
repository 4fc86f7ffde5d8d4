import assert from 'node:assert/strict'
import { randomBytes, randomUUID } from 'node:crypto'
import { Agent } from 'node:http'
import { test } from 'node:test'
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose'
import { sql } from 'kysely'
import { generateMasterKey } from '../../src/crypto/master-key.js'
import { totpCode } from '../../src/crypto/totp.js'
import { openDatabase } from '../../src/store/database.js'
import { keymint, serve } from '../helpers/cli.js'
import { createTestDatabase, describeEachDialect } from '../helpers/dialects.js'
import { dpopKey, dpopProof, type DPoPKey, type ProofOptions } from '../helpers/dpop.js'
import { OidcIssuer } from '../helpers/oidc-issuer.js'
import { rawRequest, type RawAnswer } from '../helpers/raw-request.js'
import { routesOf } from '../helpers/routes.js'
import { startTestServer, tempDir } from '../helpers/server.js'

// Every kind of secret keymint handles, sent through every route the app has, in requests that
// succeed and in requests that fail; then none may be found in the log (at trace), the audit
// table or any other, or any answer but the one that issued it. Adding a kind is one entry in KINDS.

type Json = Record<string, unknown>

/** How one request carries a secret. */
interface Carrier {
  readonly headers?: Record<string, string>
  readonly query?: Record<string, string>
  readonly form?: Record<string, string>
  readonly json?: Json
}

interface SecretKind {
  readonly name: string
  /** The secret to send now: made through the server (its answer may show it) or taken from the environment. */
  readonly current: (s: Sweep) => Promise<string>
  /** The ways a request carries it: each is sent to every route, with the secret and with a near miss. */
  readonly carriers: (secret: string, s: Sweep) => Carrier[] | Promise<Carrier[]>
  /**
   * Sent badly formed too (a wrong media type, a malformed body) to every route, on SQLite. Such
   * a request is refused by the body parser before a route reads what it carries, so neither the
   * kind of secret nor the engine makes a difference there: the kinds carried in every header, parameter and field keymint reads
   * stand for all the others, and the sweep is half as long.
   */
  readonly badlyFormed?: boolean
  /** Routes (`METHOD /pattern`) whose answers show it again by design. */
  readonly reshownBy?: readonly string[]
  /** Routes where the sweep's right request with it must succeed: the sweep used it for real. */
  readonly accepted?: readonly string[]
  /** Routes where a right request with it must be refused, with an answer like this: the refusal is about it, so the check that refuses it ran. */
  readonly refused?: readonly (readonly [string, RegExp])[]
}

interface Person {
  readonly email: string
  password: string
  cookie: string
  csrf: string
  /** Codes left to sign in with while a second factor is on. */
  recoveryCodes: string[]
  secondFactor: boolean
}

interface Answer extends RawAnswer {
  readonly route: string
  readonly variant: string
  readonly kind: string
  /** Status line, headers and body: everything the caller got. */
  readonly text: string
}

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
const JWT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:jwt'
const SESSION_COOKIE = 'keymint_session'
/** Answer fields that carry something issued once; harvested wherever they appear. */
const ISSUED_FIELDS: Readonly<Record<string, string>> = {
  client_secret: 'client secret (issued)', secret: 'secret (issued)', access_token: 'access token (issued)',
  csrf_token: 'CSRF token', recovery_codes: 'recovery code',
}
/** Routes that undo what the rest of the sweep uses (sessions, the second factor) go last. */
const UNDOING = new Set(['DELETE /api/v1/me/second-factor', 'DELETE /api/v1/sessions/current', 'DELETE /api/v1/sessions'])

const b64 = (text: string): string => Buffer.from(text).toString('base64')
/** The same length and alphabet, one character off: what a wrong secret looks like. */
const nearMiss = (secret: string): string => secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A')

class Sweep {
  readonly secrets = new Map<string, { kind: string; shownIn: Set<number> }>()
  readonly answers: Answer[] = []
  readonly ids = new Map<string, string>()
  readonly people = new Map<string, Person>()
  #once = new Map<string, Promise<string>>()
  /**
   * Connections kept open from one request to the next: a connection per request cost the sweep
   * more than the requests. Oversized requests, which the server may answer by closing the
   * connection, each get one of their own.
   */
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1 })
  #perRoute = new Map<string, Promise<string>>()
  route = ''
  variant = ''
  kind = ''
  signingKey: CryptoKey | undefined
  /** The key the sweep's DPoP proofs are made with. */
  dpopKey: DPoPKey | undefined

  constructor(
    readonly url: string,
    /** Secrets the server was started with. */
    readonly environment: { readonly masterKey: string; readonly metricsToken: string },
    /** `keymint` over the server's database, reading `input` on stdin. */
    readonly cli: (args: string[], input: string) => Promise<{ code: number; stdout: string; stderr: string }>,
    /** A platform's OpenID issuer on loopback (GitHub Actions' tokens), for workload identity federation. */
    readonly platform: OidcIssuer,
  ) {}

  get origin(): string { return new URL(this.url).origin }

  register(kind: string, value: string, shownIn?: number): string {
    const known = this.secrets.get(value)
    if (known) {
      if (shownIn !== undefined) known.shownIn.add(shownIn)
    } else {
      this.secrets.set(value, { kind, shownIn: new Set(shownIn === undefined ? [] : [shownIn]) })
    }
    return value
  }

  once(name: string, make: () => Promise<string>): Promise<string> {
    let value = this.#once.get(name)
    if (!value) this.#once.set(name, value = make())
    return value
  }

  /** Made again for each route: what one route's requests may use up (a revoked token). */
  perRoute(name: string, make: () => Promise<string>): Promise<string> {
    let value = this.#perRoute.get(name)
    if (!value) this.#perRoute.set(name, value = make())
    return value
  }

  startRoute(route: string): void {
    this.route = route
    this.#perRoute.clear()
  }

  id(name: string): string {
    const id = this.ids.get(name)
    if (id === undefined) throw new Error(`no ${name} made yet`)
    return id
  }

  /** HTTP Basic credentials; the encoded form is as secret as the secret in it. */
  basic(id: string, secret: string): string {
    return `Basic ${this.register('Basic credentials', b64(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`))}`
  }

  person(email: string): Person {
    const p = this.people.get(email)
    if (!p) throw new Error(`no person ${email}`)
    return p
  }

  async sessionHeaders(email: string): Promise<Record<string, string>> {
    const p = this.person(email)
    if (p.cookie === '') await this.signIn(p)
    return { cookie: `${SESSION_COOKIE}=${p.cookie}`, 'x-csrf-token': p.csrf, origin: this.origin }
  }

  async signIn(p: Person): Promise<void> {
    const variant = this.variant
    this.variant = 'making it'
    const otp = p.secondFactor ? p.recoveryCodes[0] : undefined
    const answer = await this.send('POST', '/api/v1/sessions', { headers: { 'content-type': 'application/json', origin: this.origin }, body: JSON.stringify({ email: p.email, password: p.password, ...(otp ? { otp } : {}) }) })
    const body = parse(answer)
    const cookie = sessionCookieOf(answer)
    if (answer.status === 201 && cookie && typeof body?.csrf_token === 'string') {
      p.cookie = cookie
      p.csrf = body.csrf_token
    }
    this.variant = variant
  }

  /** A management API call as a signed-in person; fails the test unless it answers 2xx. */
  async asPerson(email: string, method: string, path: string, json?: Json): Promise<Json> {
    const answer = await this.send(method, `/api/v1${path}`, {
      headers: { ...await this.sessionHeaders(email), ...(json === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
    })
    assert.ok(answer.status >= 200 && answer.status < 300, `${method} ${path}: ${answer.status} ${answer.body}`)
    return parse(answer) ?? {}
  }

  /** Sends one request, keeps its answer, and notes what it issued or ended. */
  async send(method: string, path: string, req: { headers?: Record<string, string>; body?: string | Buffer }): Promise<Answer> {
    const raw = await rawRequest(this.url + path, { method, ...req, ...(this.variant.startsWith('oversized') ? {} : { agent: this.#agent }) })
    const text = `${raw.status}\n${Object.entries(raw.headers).map(([k, v]) => `${k}: ${String(v)}`).join('\n')}\n\n${raw.body}`
    const answer: Answer = { ...raw, route: this.route === 'setup' ? `${method} ${path.split('?')[0]}` : this.route, variant: this.variant, kind: this.kind, text }
    const index = this.answers.push(answer) - 1
    this.#spend(answer, req)
    this.#harvest(index, answer, method, path.split('?')[0] ?? '', req)
    return answer
  }

  #harvest(index: number, answer: Answer, method: string, path: string, req: { headers?: Record<string, string>; body?: string | Buffer }): void {
    const sentCookie = /(?:^|;\s*)keymint_session=([^;]*)/.exec(req.headers?.cookie ?? '')?.[1]
    const caller = [...this.people.values()].find((p) => sentCookie !== undefined && p.cookie === sentCookie)
    // The API document's examples look like secrets and are shown to everyone by design.
    const body = path === '/api/v1/openapi.json' ? undefined : parse(answer)
    const walk = (value: unknown, key: string): void => {
      if (Array.isArray(value)) value.forEach((v) => walk(v, key))
      else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, k)
      else if (typeof value === 'string' && ISSUED_FIELDS[key] && value.length >= 8) {
        const known = this.secrets.get(value)
        // Shown again only where the design says so (the CSRF token of a reloaded page); anywhere else it is a leak.
        const reshown = KINDS.find((k) => k.name === known?.kind)?.reshownBy?.includes(`${method} ${path}`) === true
        if (!known || reshown) this.register(ISSUED_FIELDS[key], value, index)
      }
    }
    walk(body, '')
    if (answer.status === 200 && /^\/auth\/(oauth|oidc)/.test(path) && String(answer.headers['content-type']).startsWith('text/plain')) {
      this.register('access token (issued)', answer.body, index)
    }
    const cookie = sessionCookieOf(answer)
    if (cookie) this.register('session cookie (issued)', cookie, index)
    if (!caller) return
    // What a person's own calls changed about them.
    if (cookie && typeof body?.csrf_token === 'string') {
      caller.cookie = cookie
      caller.csrf = body.csrf_token
      const sent = typeof req.body === 'string' ? tryJson(req.body) : undefined
      if (path === '/api/v1/me/password' && typeof sent?.new_password === 'string') caller.password = sent.new_password
    } else if (cookie === '' || (answer.status === 401 && body?.code === 'KEYMINT_SESSION_ENDED')) {
      caller.cookie = ''
    }
    if (Array.isArray(body?.recovery_codes)) {
      caller.recoveryCodes = body.recovery_codes as string[]
      caller.secondFactor = true
    }
    if (path === '/api/v1/me/second-factor' && answer.status === 204) caller.secondFactor = false
  }

  /** A recovery code that worked is used up. */
  #spend(answer: Answer, req: { body?: string | Buffer }): void {
    const otp = typeof req.body === 'string' ? tryJson(req.body)?.otp : undefined
    if (answer.status >= 200 && answer.status < 300 && typeof otp === 'string') {
      for (const p of this.people.values()) p.recoveryCodes = p.recoveryCodes.filter((c) => c !== otp)
    }
  }
}

function tryJson(text: string): Json | undefined {
  try {
    const value: unknown = JSON.parse(text)
    return value !== null && typeof value === 'object' ? value as Json : undefined
  } catch {
    return undefined
  }
}

const parse = (answer: RawAnswer): Json | undefined => /json/.test(String(answer.headers['content-type'])) ? tryJson(answer.body) : undefined

/** The session cookie an answer sets: its value, '' when it clears it, undefined when it sets none. */
function sessionCookieOf(answer: RawAnswer): string | undefined {
  const set = ([] as string[]).concat(answer.headers['set-cookie'] ?? []).find((c) => c.startsWith(`${SESSION_COOKIE}=`))
  return set?.split(';')[0]?.slice(SESSION_COOKIE.length + 1)
}

const ADMIN = 'root@example.com'
const MEMBER = 'member@example.com'

/** A client of the admin's account, made through the API: its secret shown once, in that answer. */
async function clientOf(s: Sweep, name: string, extra: Json = {}): Promise<{ clientId: string; secret: string | undefined }> {
  const created = await s.asPerson(ADMIN, 'POST', '/clients', { name, level: 'subscription', ...extra })
  const keyPair = created.key_pair as { client_id: string; client_secret?: string }
  s.ids.set(`${name} client`, (created.client as { id: string }).id)
  s.ids.set(`${name} key pair`, keyPair.client_id)
  return { clientId: keyPair.client_id, secret: keyPair.client_secret }
}

async function opsSecret(s: Sweep): Promise<string> {
  return s.once('ops', async () => {
    const { secret } = await clientOf(s, 'ops', { scopes: ['keymint:admin'] })
    assert.ok(secret)
    return secret
  })
}

async function oauth2Token(s: Sweep, fields: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<string> {
  const secret = await opsSecret(s)
  const answer = await s.send('POST', '/oauth2/token', {
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: s.basic(s.id('ops key pair'), secret), ...headers },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...fields }).toString(),
  })
  assert.equal(answer.status, 200, answer.body)
  return (parse(answer) as { access_token: string }).access_token
}

/** A DPoP proof (RFC 9449) made with the sweep's key, for the token endpoint unless `opts` names another target. */
async function proofOf(s: Sweep, opts: Partial<ProofOptions> = {}, kind = 'DPoP proof'): Promise<string> {
  s.dpopKey ??= await dpopKey()
  return s.register(kind, await dpopProof(s.dpopKey, { ...opts, htu: opts.htu ?? `${s.url}/oauth2/token` }))
}

/** A proof for the request the sweep makes now: the route's method and pattern. */
function proofTarget(s: Sweep): { htm: string; htu: string } {
  const [htm = 'GET', pattern = '/'] = s.route.split(' ')
  return { htm, htu: `${s.url}${pattern}` }
}

/** A token bound to the sweep's DPoP key (`token_type` DPoP, `cnf.jkt`), for the ops client. */
async function dpopBoundToken(s: Sweep): Promise<string> {
  const token = await oauth2Token(s, {}, { dpop: await proofOf(s) })
  assert.equal((decodeJwt(token).cnf as { jkt?: string } | undefined)?.jkt, s.dpopKey?.jkt, "the token is bound to the proof's key")
  return token
}

/** A platform token (GitHub Actions' shape) that a trust policy of the account accepts for a client of its own. */
async function platformToken(s: Sweep): Promise<string> {
  await s.once('trust policies', async () => {
    await clientOf(s, 'federated')
    const trust = (client: string, subject: string) => s.asPerson(ADMIN, 'POST', '/federation-policies', { client, issuer: s.platform.url, audience: s.url, subject, claims: { workflow: 'release' } })
    await trust(s.id('federated client'), 'repo:acme/deploy:ref:refs/heads/*')
    // For the routes that name a policy; it accepts none of the sweep's tokens, so it may go.
    s.ids.set('spare trust policy', (await trust(s.id('spare client'), 'repo:acme/spare:*')).id as string)
    return ''
  })
  return s.platform.github(s.url)
}

async function headerToken(s: Sweep, query = ''): Promise<string> {
  const secret = await opsSecret(s)
  const answer = await s.send('POST', `/auth/oauth${query}`, { headers: { clientId: s.id('ops key pair'), clientSecret: secret } })
  assert.equal(answer.status, 200, answer.body)
  return answer.body
}

/** A second person, with a password set from the command line and a second factor. */
async function member(s: Sweep): Promise<Person> {
  const existing = s.people.get(MEMBER)
  if (existing) return existing
  const user = await s.asPerson(ADMIN, 'POST', '/users', { email: MEMBER, role: 'member', permissions: ['ui'] })
  s.ids.set('member', user.id as string)
  const password = s.register('password (set from the command line)', `cli-${randomBytes(18).toString('base64url')}`)
  const res = await s.cli(['user', 'set-password', '--user', user.id as string], `${password}\n`)
  assert.equal(res.code, 0, res.stderr)
  for (const secret of [password, s.environment.masterKey]) assert.ok(!`${res.stdout}${res.stderr}`.includes(secret), 'set-password prints no secret')
  const p: Person = { email: MEMBER, password, cookie: '', csrf: '', recoveryCodes: [], secondFactor: false }
  s.people.set(MEMBER, p)
  return p
}

const everywhere = (v: string): Carrier[] => [
  {
    headers: {
      authorization: `Bearer ${v}`, 'proxy-authorization': `Basic ${b64(`${v}:${v}`)}`, cookie: `${SESSION_COOKIE}=${v}; other=${v}`,
      'x-csrf-token': v, clientid: v, clientsecret: v, 'x-api-key': v, dpop: v, 'x-request-id': v, 'request-id': v, 'webhook-signature': `v1,${v}`,
    },
    query: { token: v, access_token: v, client_secret: v, password: v, code: v },
  },
  { form: { grant_type: 'client_credentials', client_id: v, client_secret: v, client_assertion: v, client_assertion_type: ASSERTION_TYPE, token: v, password: v } },
  { json: { password: v, current_password: v, new_password: v, otp: v, token: v, secret: v, client_secret: v, public_key: v } },
]

/** Every kind of secret keymint handles; one entry each. */
const KINDS: readonly SecretKind[] = [
  {
    name: 'client secret',
    current: opsSecret,
    carriers: (v, s) => [
      { headers: { clientId: s.id('ops key pair'), clientSecret: v } },
      { form: { grant_type: 'client_credentials', client_id: s.id('ops key pair'), client_secret: v } },
      { headers: { authorization: s.basic(s.id('ops key pair'), v) }, form: { grant_type: 'client_credentials' } },
    ],
    accepted: ['POST /auth/oauth', 'POST /oauth2/token', 'POST /oauth2/token/', 'GET /oauth2/revocations'],
  },
  {
    name: "an admin's own key pair secret",
    current: (s) => s.once('own key pair', async () => {
      // A user-level client carries its user's scopes; the first admin has none until given one.
      const me = await s.asPerson(ADMIN, 'GET', '/sessions/current')
      await s.asPerson(ADMIN, 'PATCH', `/users/${(me.user as { id: string }).id}`, { scopes: ['sweep:read'] })
      const generated = await s.asPerson(ADMIN, 'POST', '/me/key-pair', {})
      const keyPair = generated.key_pair as { client_id: string; client_secret: string }
      s.ids.set('own key pair', keyPair.client_id)
      return keyPair.client_secret
    }),
    carriers: (v, s) => [
      { headers: { clientId: s.id('own key pair'), clientSecret: v } },
      { headers: { authorization: s.basic(s.id('own key pair'), v) }, form: { grant_type: 'client_credentials' } },
    ],
    accepted: ['POST /auth/oidc'],
  },
  {
    name: 'client assertion',
    // Single use (RFC 7523 §3 jti): a new one for every request.
    current: async (s) => {
      await s.once('signed client', async () => {
        const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
        s.signingKey = privateKey
        await clientOf(s, 'signed', { public_key: JSON.stringify(await exportJWK(publicKey)) })
        return ''
      })
      const id = s.id('signed key pair')
      return await new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'ES256' }).setIssuer(id).setSubject(id)
        .setAudience(`${s.url}/oauth2/token`).setIssuedAt().setExpirationTime('1m').sign(s.signingKey as CryptoKey)
    },
    carriers: (v, s) => [{ form: { grant_type: 'client_credentials', client_id: s.id('signed key pair'), client_assertion_type: ASSERTION_TYPE, client_assertion: v } }],
    accepted: ['POST /oauth2/token'],
  },
  {
    name: 'DPoP proof',
    // Single use (RFC 9449 §11.1 jti): a new one for every route.
    current: (s) => proofOf(s),
    carriers: async (v, s) => {
      const basic = s.basic(s.id('ops key pair'), await opsSecret(s))
      const proving = (proof: string): Carrier => ({ headers: { authorization: basic, dpop: proof }, form: { grant_type: 'client_credentials' } })
      return [
        proving(v),
        // Refused: the same proof again, one signed by a key other than the one in its header, one made for another URL.
        proving(v),
        proving(await proofOf(s, { signWith: (await dpopKey()).privateKey }, 'DPoP proof (signed by another key)')),
        proving(await proofOf(s, { htu: `${s.url}/oauth2/introspect` }, 'DPoP proof (for another URL)')),
      ]
    },
    accepted: ['POST /oauth2/token'],
    refused: [['POST /oauth2/token', /used before/], ['POST /oauth2/token', /signature is invalid/], ['POST /oauth2/token', /not for this URL/]],
  },
  {
    name: 'platform token (client assertion)',
    // Single use, like any assertion: a new one for every route.
    current: platformToken,
    carriers: async (v, s) => [
      { form: { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: v } },
      // Refused: made for another audience than the policy trusts.
      { form: { grant_type: 'client_credentials', client_assertion_type: ASSERTION_TYPE, client_assertion: s.register('platform token (another audience)', await s.platform.github('https://elsewhere.example')) } },
    ],
    accepted: ['POST /oauth2/token'],
  },
  {
    name: 'platform token (token exchange)',
    current: platformToken,
    carriers: async (v, s) => [
      { form: { grant_type: TOKEN_EXCHANGE, subject_token: v, subject_token_type: JWT_TOKEN_TYPE } },
      { form: { grant_type: TOKEN_EXCHANGE, subject_token: s.register('platform token (another audience)', await s.platform.github('https://elsewhere.example')), subject_token_type: JWT_TOKEN_TYPE } },
    ],
    accepted: ['POST /oauth2/token'],
  },
  {
    name: 'password',
    current: async (s) => s.person(ADMIN).password,
    carriers: async (v, s) => [
      { json: { email: ADMIN, password: v } },
      // Right, it changes the password: the sweep goes on with the new one.
      { headers: await s.sessionHeaders(ADMIN), json: { current_password: v, new_password: s.register('password', `new-${randomBytes(18).toString('base64url')}`) } },
    ],
    accepted: ['POST /api/v1/sessions', 'POST /api/v1/me/password'],
  },
  {
    name: 'password (set from the command line)',
    current: async (s) => (await member(s)).password,
    // With a recovery code of its own: the second factor is on by the time the sweep signs in.
    carriers: (v, s) => [{ json: { email: MEMBER, password: v, otp: s.person(MEMBER).recoveryCodes.at(-1) ?? 'AAAA-BBBB-CCCC' } }],
    accepted: ['POST /api/v1/sessions'],
  },
  {
    name: 'session cookie (issued)',
    current: async (s) => {
      await s.sessionHeaders(ADMIN)
      return s.person(ADMIN).cookie
    },
    carriers: (v, s) => [{ headers: { cookie: `${SESSION_COOKIE}=${v}`, origin: s.origin } }],
    accepted: ['GET /api/v1/sessions/current', 'GET /api/v1/users'],
  },
  {
    name: 'CSRF token',
    current: async (s) => {
      await s.sessionHeaders(ADMIN)
      return s.person(ADMIN).csrf
    },
    carriers: (v, s) => [{ headers: { cookie: `${SESSION_COOKIE}=${s.person(ADMIN).cookie}`, 'x-csrf-token': v, origin: s.origin } }],
    reshownBy: ['GET /api/v1/sessions/current'],
    accepted: ['POST /api/v1/clients/:id/key-pairs', 'DELETE /api/v1/sessions/current'],
  },
  {
    name: 'access token (issued)',
    current: (s) => s.perRoute('oauth2 token', () => oauth2Token(s)),
    carriers: async (v, s) => [
      { headers: { authorization: `Bearer ${v}` } },
      { headers: { authorization: s.basic(s.id('ops key pair'), await opsSecret(s)) }, form: { token: v } },
      { headers: await s.sessionHeaders(ADMIN), json: { token: v } },
    ],
    accepted: ['GET /api/v1/users', 'POST /oauth2/introspect', 'POST /oauth2/revoke', 'POST /api/v1/token-checks'],
  },
  {
    name: 'access token (DPoP-bound)',
    current: (s) => s.perRoute('DPoP-bound token', () => dpopBoundToken(s)),
    carriers: async (v, s) => [
      // As a resource server takes it (RFC 9449 §7.1), with a proof for this request; keymint's own API takes bearer tokens only.
      { headers: { authorization: `DPoP ${v}`, dpop: await proofOf(s, { ...proofTarget(s), accessToken: v }, 'DPoP proof (with an access token)') } },
      { headers: { authorization: `Bearer ${v}` } },
      { headers: { authorization: s.basic(s.id('ops key pair'), await opsSecret(s)) }, form: { token: v } },
      { headers: await s.sessionHeaders(ADMIN), json: { token: v } },
    ],
    accepted: ['POST /oauth2/introspect', 'POST /oauth2/revoke', 'POST /api/v1/token-checks'],
    refused: [['GET /api/v1/users', /DPoP-bound/]],
  },
  {
    name: 'access token (header dialect)',
    current: (s) => s.perRoute('header token', () => headerToken(s)),
    carriers: async (v, s) => [
      { headers: { authorization: `Bearer ${v}` } },
      { headers: { authorization: s.basic(s.id('ops key pair'), await opsSecret(s)) }, form: { token: v } },
    ],
    accepted: ['GET /api/v1/users', 'POST /oauth2/introspect'],
  },
  {
    name: 'access token (encrypted)',
    current: (s) => s.perRoute('encrypted token', () => headerToken(s, '?encrypted=true')),
    carriers: async (v, s) => [
      { headers: { authorization: s.basic(s.id('ops key pair'), await opsSecret(s)) }, form: { token: v } },
      { headers: await s.sessionHeaders(ADMIN), json: { token: v } },
    ],
    accepted: ['POST /oauth2/introspect', 'POST /api/v1/token-checks'],
  },
  {
    name: 'TOTP secret',
    current: (s) => s.once('totp', async () => {
      await member(s)
      const started = await s.asPerson(MEMBER, 'POST', '/me/second-factor')
      const secret = started.secret as string
      await s.asPerson(MEMBER, 'POST', '/me/second-factor/confirm', { otp: totpCode(secret, new Date()) })
      return secret
    }),
    carriers: async (v, s) => [{ headers: await s.sessionHeaders(MEMBER), json: { otp: v } }],
  },
  {
    name: 'recovery code',
    current: async (s) => {
      await KINDS.find((k) => k.name === 'TOTP secret')?.current(s)
      return s.person(MEMBER).recoveryCodes[0] ?? s.register('recovery code', 'AAAA-BBBB-CCCC')
    },
    carriers: async (v, s) => [
      { headers: await s.sessionHeaders(MEMBER), json: { otp: v } },
      { json: { email: MEMBER, password: s.person(MEMBER).password, otp: v } },
    ],
    accepted: ['POST /api/v1/sessions', 'POST /api/v1/me/recovery-codes'],
  },
  {
    name: 'webhook secret',
    current: (s) => s.once('webhook', async () => {
      const registered = await s.asPerson(ADMIN, 'POST', '/webhooks', { url: 'http://127.0.0.1:9/hook', events: ['key_pair.rotated'] })
      s.ids.set('webhook', (registered.webhook as { id: string }).id)
      return registered.secret as string
    }),
    carriers: async (v, s) => [{ headers: await s.sessionHeaders(ADMIN), json: { secret: v } }, { headers: { 'webhook-secret': v, authorization: `Bearer ${v}` } }],
  },
  { name: 'metrics bearer token', current: async (s) => s.environment.metricsToken, carriers: (v) => [{ headers: { authorization: `Bearer ${v}` } }], accepted: ['GET /metrics'] },
  { name: 'master key', current: async (s) => s.environment.masterKey, carriers: everywhere, badlyFormed: true },
  { name: 'canary', current: (s) => s.once('canary', async () => s.register('canary', `canary-${randomBytes(24).toString('base64url')}`)), carriers: everywhere, badlyFormed: true },
]

const KEY_LENGTH = 8

/** The first four characters of `text` from `at`, seven bits each, as one number. */
function prefixOf(text: string, at: number): number {
  let packed = 0
  for (let i = at; i < at + 4; i++) packed = ((packed << 7) | (text.charCodeAt(i) & 0x7f)) & 0xfffffff
  return packed
}

/**
 * Where each needle occurs in a haystack (every needle at least 8 characters): one pass over the
 * haystack, rather than a search per needle. A rolling number of the last four characters rules
 * out almost every position before an 8-character window is looked up; `startsWith` decides.
 */
function* occurrences(haystack: string, needles: Iterable<string>): Generator<[string, number]> {
  const byKey = new Map<string, string[]>()
  const prefixes = new Set<number>()
  for (const needle of needles) {
    if (needle.length < KEY_LENGTH) throw new Error(`too short to search for: a needle of ${needle.length} characters`)
    const key = needle.slice(0, KEY_LENGTH)
    byKey.set(key, [...byKey.get(key) ?? [], needle])
    prefixes.add(prefixOf(needle, 0))
  }
  let window = 0
  for (let end = 0; end < haystack.length; end++) {
    window = ((window << 7) | (haystack.charCodeAt(end) & 0x7f)) & 0xfffffff
    const at = end - 3
    if (at < 0 || at + KEY_LENGTH > haystack.length || !prefixes.has(window)) continue
    const candidates = byKey.get(haystack.slice(at, at + KEY_LENGTH))
    if (candidates) for (const needle of candidates) if (haystack.startsWith(needle, at)) yield [needle, at]
  }
}

/** A route pattern made into a path: its parameters name the sweep's own spare resources, or nothing. */
function pathOf(s: Sweep, url: string): string {
  return url.replace(/:(\w+)|\*/g, (whole, name: string | undefined) => {
    if (whole === '*') return 'sweep'
    if (name === 'client_id') return s.ids.get('spare key pair') ?? randomUUID()
    if (url.startsWith('/api/v1/clients/')) return s.ids.get('spare client') ?? randomUUID()
    if (url.startsWith('/api/v1/users/')) return s.ids.get('member') ?? randomUUID()
    if (url.startsWith('/api/v1/webhooks/')) return s.ids.get('webhook') ?? randomUUID()
    if (url.startsWith('/api/v1/federation-policies/')) return s.ids.get('spare trust policy') ?? randomUUID()
    if (url.startsWith('/api/v1/sessions/')) return randomBytes(32).toString('hex')
    return randomUUID()
  })
}

/** The request a carrier makes, as sent right, then spoiled in each of the ways a caller can spoil it. */
function requestsOf(c: Carrier, path: string, secret: string): { variant: string; path: string; headers: Record<string, string>; body?: string }[] {
  const query = c.query ? `?${new URLSearchParams(c.query).toString()}` : ''
  const base = { path: path + query, headers: { ...c.headers } }
  const [type, body] = c.json ? ['application/json', JSON.stringify(c.json)] : c.form ? ['application/x-www-form-urlencoded', new URLSearchParams(c.form).toString()] : [undefined, undefined]
  return [
    { variant: 'as sent', ...base, ...(body === undefined ? {} : { body, headers: { ...base.headers, 'content-type': type ?? '' } }) },
    { variant: 'wrong media type', ...base, headers: { ...base.headers, 'content-type': 'text/xml' }, body: body ?? `<secret>${secret}</secret>` },
    { variant: 'malformed body', ...base, headers: { ...base.headers, 'content-type': type ?? 'application/json' }, body: body === undefined ? `{"password":"${secret}"` : type === 'application/json' ? body.slice(0, -1) : `${body}&%zz=${secret}` },
  ]
}

describeEachDialect('no secret keymint handles is written down or answered where it should not be', (dialect) => {
  test('every kind of secret through every route, right and wrong, well and badly formed', async (t) => {
    // HEAD answers through its GET route's handler: swept once, as GET.
    const listed = routesOf((await startTestServer(t, 'sqlite')).server.app)
    const routes = listed.filter((r) => r.method !== 'HEAD' || !listed.some((g) => g.method === 'GET' && g.url === r.url))
    assert.ok(routes.length > 40 && routes.some((r) => r.url === '/oauth2/token' && r.method === 'POST'), `the routes were read: ${JSON.stringify(routes)}`)
    routes.sort((a, b) => Number(UNDOING.has(`${a.method} ${a.url}`)) - Number(UNDOING.has(`${b.method} ${b.url}`)))

    const dir = tempDir(t)
    const db = await createTestDatabase(t, dialect, dir)
    const environment = { masterKey: generateMasterKey(), metricsToken: `metrics-${randomBytes(24).toString('base64url')}` }
    const env = {
      KEYMINT_MASTER_KEY: environment.masterKey, KEYMINT_METRICS_TOKEN: environment.metricsToken, KEYMINT_LOG_LEVEL: 'trace', KEYMINT_LAST_USED_FLUSH: '1s',
      KEYMINT_BOOTSTRAP_ADMIN_EMAIL: ADMIN, KEYMINT_WEBHOOKS_ALLOW_LOOPBACK: 'true', KEYMINT_FEDERATION_ALLOW_LOOPBACK: 'true',
      // Nothing the sweep sends is slowed or refused for repetition: each request is judged on what it carries.
      KEYMINT_THROTTLE_ADDRESS_LIMIT: '1000000', KEYMINT_THROTTLE_CLIENT_LIMIT: '1000000', KEYMINT_SIGN_IN_ADDRESS_LIMIT: '1000000', KEYMINT_SIGN_IN_EMAIL_LIMIT: '1000000',
    }
    const server = await serve(t, ['--db', db.url, '--port', '0'], { cwd: dir, env })
    const welcome = server.output()
    const oneTime = /one-time password[^\n]*\n\s+(\S+)/.exec(welcome)?.[1]
    assert.ok(oneTime, welcome)

    const cli = (args: string[], input: string) => keymint([...args, '--db', db.url], { env: { KEYMINT_MASTER_KEY: environment.masterKey }, cwd: dir, input })
    const s = new Sweep(server.url, environment, cli, await OidcIssuer.start(t))
    s.register('master key', environment.masterKey)
    s.register('metrics bearer token', environment.metricsToken)
    s.register('one-time password', oneTime)
    const admin: Person = { email: ADMIN, password: oneTime, cookie: '', csrf: '', recoveryCodes: [], secondFactor: false }
    s.people.set(ADMIN, admin)
    s.startRoute('setup')
    await s.asPerson(ADMIN, 'POST', '/me/password', { current_password: oneTime, new_password: s.register('password', `first-${randomBytes(18).toString('base64url')}`) })
    // Spare things for routes that name one, so their right requests act on something that matters to nobody.
    await clientOf(s, 'spare')
    for (const kind of KINDS) {
      s.kind = kind.name
      await kind.current(s)
    }

    // Badly formed and oversized requests are refused by the HTTP layer before a route or the
    // database sees them: the engine makes no difference to them, and they are swept once, on SQLite.
    const onlyWellFormed = dialect !== 'sqlite'
    const began = performance.now()
    for (const route of routes) {
      const key = `${route.method} ${route.url}`
      s.startRoute(key)
      for (const kind of KINDS) {
        s.kind = kind.name
        // Requests made to get the secret or a session are not the sweep's own.
        s.variant = 'making it'
        const right = s.register(kind.name, await kind.current(s))
        const wrong = s.register(`${kind.name} (wrong)`, nearMiss(right))
        for (const [secret, which] of [[right, 'right'], [wrong, 'wrong']] as const) {
          s.variant = 'making it'
          for (const carrier of await kind.carriers(secret, s)) {
            for (const r of requestsOf(carrier, pathOf(s, route.url), secret).slice(0, which === 'right' && kind.badlyFormed === true && !onlyWellFormed ? undefined : 1)) {
              s.variant = `${which} secret, ${r.variant}`
              await s.send(route.method, r.path, { headers: r.headers, ...(r.body === undefined ? {} : { body: r.body }) })
            }
          }
        }
      }
      if (onlyWellFormed) continue
      // Too large: every secret at once, in a body past every limit and in headers past Node's.
      s.kind = 'all'
      const all = [...s.secrets.keys()].slice(-200)
      s.variant = 'oversized body'
      await s.send(route.method, pathOf(s, route.url), { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secrets: all, pad: 'x'.repeat(1_100_000) }) })
      await s.send(route.method, pathOf(s, route.url), { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `${all.map((v) => `client_secret=${encodeURIComponent(v)}`).join('&')}&pad=${'x'.repeat(20_000)}` })
      s.variant = 'oversized headers'
      await s.send(route.method, pathOf(s, route.url), { headers: { authorization: `Bearer ${all.at(-1) ?? ''}`, 'x-pad': 'x'.repeat(20_000) } })
    }

    // Batched audit writes and last-used times are flushed as the server stops.
    server.child.kill('SIGTERM')
    assert.equal(await server.exited, 0)
    const log = server.output().slice(welcome.length)
    const database = await openDatabase(db.url, { poolSize: 1 })
    // Every table, not the audit log alone: nothing may be kept in the clear (hashes and sealed values do not match).
    const tables = new Map<string, string>()
    for (const table of await database.db.introspection.getTables()) {
      const rows = await sql<Json>`select * from ${sql.table(table.name)}`.execute(database.db)
      tables.set(table.name, JSON.stringify(rows.rows, (_key, value: unknown) => {
        const bytes = value !== null && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' ? Buffer.from((value as { data: number[] }).data) : undefined
        return bytes ? bytes.toString('utf8') : value
      }))
    }
    const audit = tables.get('audit_events') ?? ''
    await database.close()

    t.diagnostic(`${s.answers.length} requests over ${routes.length} routes in ${((performance.now() - began) / 1000).toFixed(1)} s, ${s.secrets.size} secrets of ${KINDS.length} kinds; log ${log.length} bytes`)
    // The sweep did what it says: every route answered, every kind of secret was accepted somewhere,
    // nothing answered 5xx, and the log and audit table hold what they should (so a search in them means something).
    const answered = new Set(s.answers.map((a) => a.route))
    for (const route of routes) assert.ok(answered.has(`${route.method} ${route.url}`), `${route.method} ${route.url} was swept`)
    for (const kind of KINDS) {
      for (const route of kind.accepted ?? []) {
        const accepted = s.answers.some((a) => a.kind === kind.name && a.route === route && a.variant === 'right secret, as sent' && a.status >= 200 && a.status < 300)
        assert.ok(accepted, `${kind.name}: accepted at ${route}`)
      }
      for (const [route, answer] of kind.refused ?? []) {
        const refused = s.answers.some((a) => a.kind === kind.name && a.route === route && a.variant === 'right secret, as sent' && a.status >= 400 && a.status < 500 && answer.test(a.body))
        assert.ok(refused, `${kind.name}: refused at ${route} with ${String(answer)}`)
      }
    }
    // An answer that never came would hide what it held: only an oversized request may go without one.
    const unanswered = s.answers.filter((a) => a.status === 0 && !a.variant.startsWith('oversized'))
    assert.deepEqual(unanswered.map((a) => `${a.route} [${a.kind}, ${a.variant}]`), [], 'every request was answered')
    const failures = s.answers.filter((a) => a.status >= 500)
    assert.deepEqual(failures.map((a) => `${a.route} [${a.kind}, ${a.variant}]: ${a.status} ${a.body.slice(0, 200)}`), [], 'no answer is a 5xx')
    assert.ok(log.includes(`"client_id":"${s.id('ops key pair')}"`), 'the request log names the key pair that authenticated')
    const lines = log.split('\n').filter((l) => l.includes('"msg":"request completed"')).length
    assert.ok(lines >= s.answers.length * 0.9, `a line per request: ${lines} lines for ${s.answers.length} requests`)
    assert.match(audit, /authentication\.refused/)
    assert.match(audit, /sign_in\.refused/)
    assert.match(audit, /dpop_proof_replayed/)
    assert.match(audit, /federation_audience_mismatch/)

    // Each secret as sent, form-encoded and JSON-escaped.
    const forms = new Map<string, string>()
    for (const secret of s.secrets.keys()) {
      for (const form of [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)]) forms.set(form, secret)
    }
    const leaks: string[] = []
    for (const [form, at] of occurrences(log, forms.keys())) {
      leaks.push(`the log holds a ${s.secrets.get(forms.get(form) ?? '')?.kind}: …${log.slice(Math.max(0, at - 300), at + form.length + 100)}…`)
    }
    for (const [table, rows] of tables) {
      for (const [form] of occurrences(rows, forms.keys())) leaks.push(`the table ${table} holds a ${s.secrets.get(forms.get(form) ?? '')?.kind}`)
    }
    const starts: number[] = []
    let all = ''
    for (const a of s.answers) {
      starts.push(all.length)
      all += `${a.text}\u0000`
    }
    for (const [form, at] of occurrences(all, forms.keys())) {
      const secret = s.secrets.get(forms.get(form) ?? '')
      let i = 0
      for (let lo = 0, hi = starts.length - 1; lo <= hi;) {
        const mid = (lo + hi) >> 1
        if ((starts[mid] ?? 0) <= at) { i = mid; lo = mid + 1 } else hi = mid - 1
      }
      const a = s.answers[i]
      if (a && !secret?.shownIn.has(i)) leaks.push(`the answer to ${a.route} [${a.kind}, ${a.variant}] holds a ${secret?.kind}: ${a.text.slice(0, 400)}`)
    }
    assert.deepEqual(leaks.slice(0, 20), [], `${leaks.length} leaks`)
  })
})
