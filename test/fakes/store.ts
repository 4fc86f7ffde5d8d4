import type { AuditEvent, AuditStore } from '../../src/domain/audit.js'
import type {
  AccountStore, ApiStore, ClientAssertionStore, ClientDayCount, ClientStore, ClientUsageStore, DPoPProofStore, ExpiringKeyPair, FederationPolicyStore, KeyPairStore, LimitOverrun, NewKeyPair, RevokedToken, RevokedTokenStore,
  SecondFactorStore, ServerKeyRecord, ServerKeyStore, Session, SessionStore, Store, TotpRecord, UserStore,
  WebhookDelivery, WebhookEndpoint, WebhookStore,
} from '../../src/domain/ports.js'
import type { Account, Api, Client, ClientCredential, FederationPolicy, FederationPolicyId, KeyPair, KeyPairId, User, UserId } from '../../src/domain/types.js'
import { Conflict } from '../../src/domain/errors.js'
import { translateUniqueViolation } from '../../src/store/errors.js'

// In-memory Store for domain and oauth unit tests (STYLE §5). It keeps the rules the database
// enforces (primary keys, foreign keys, unique emails per account, unique API identifiers) and
// the repositories' semantics (ordering, endLive, cut-offs), and test/fakes/contract.test.ts
// runs the same assertions against it and against SQLite so the two cannot drift apart.

interface KeyPairRow extends NewKeyPair {
  readonly lastUsedAt: Date | null
  readonly lastUsedAddress: string | null
  readonly lastUsedUserAgent: string | null
  readonly tokensIssued: number
}

/** Every row the fake holds, table by table. Rows are never changed in place, only replaced. */
export interface FakeTables {
  accounts: Map<string, Account>
  users: Map<string, User>
  clients: Map<string, Client>
  keyPairs: Map<string, KeyPairRow>
  serverKeys: Map<string, ServerKeyRecord>
  revokedTokens: Map<string, RevokedToken>
  audit: Map<string, AuditEvent>
  clientAssertions: Map<string, Date>
  dpopProofs: Map<string, Date>
  apis: Map<string, Api>
  /** Password hash and whether it must be replaced, by user id. */
  passwords: Map<string, { hash: string; changeRequired: boolean }>
  /** When each deleted client was deleted, by client id; its row stays in `clients`. */
  deletedClients: Map<string, Date>
  sessions: Map<string, Session>
  /** TOTP secret (pending or enabled), by user id. */
  totp: Map<string, TotpRecord>
  /** Recovery codes by `user id:code hash`. */
  recoveryCodes: Map<string, RecoveryCodeRow>
  webhookEndpoints: Map<string, WebhookEndpoint>
  webhookDeliveries: Map<string, WebhookDeliveryRow>
  federationPolicies: Map<string, FederationPolicy>
  /** Quota counts by `client id|day`. */
  tokenCounts: Map<string, ClientDayCount>
  /** Overruns noted, by `client id|limit|window start`. */
  limitOverruns: Map<string, LimitOverrun & { notedAt: Date }>
  /** Expiry reminders sent, by `key pair id:horizon`. */
  expiryNotices: Map<string, Date>
}

interface WebhookDeliveryRow extends WebhookDelivery {
  readonly leasedUntil: Date | null
  readonly leaseToken: string | null
}

interface RecoveryCodeRow {
  readonly userId: string
  readonly codeHash: string
  readonly createdAt: Date
  readonly usedAt: Date | null
}

const TABLES = ['accounts', 'users', 'clients', 'keyPairs', 'serverKeys', 'revokedTokens', 'audit', 'clientAssertions', 'dpopProofs', 'apis', 'passwords', 'deletedClients', 'sessions', 'totp', 'recoveryCodes', 'webhookEndpoints', 'webhookDeliveries', 'federationPolicies', 'tokenCounts', 'limitOverruns', 'expiryNotices'] as const

function emptyTables(): FakeTables {
  return {
    accounts: new Map(), users: new Map(), clients: new Map(), keyPairs: new Map(), serverKeys: new Map(),
    revokedTokens: new Map(), audit: new Map(), clientAssertions: new Map(), dpopProofs: new Map(), apis: new Map(),
    passwords: new Map(), deletedClients: new Map(), sessions: new Map(), totp: new Map(), recoveryCodes: new Map(),
    webhookEndpoints: new Map(), webhookDeliveries: new Map(), federationPolicies: new Map(), tokenCounts: new Map(), limitOverruns: new Map(), expiryNotices: new Map(),
  }
}

/** Copy-on-write snapshot: the maps are new, the (immutable) rows are shared. */
function cloneTables(t: FakeTables): FakeTables {
  const copy = emptyTables() as unknown as Record<string, Map<string, unknown>>
  for (const name of TABLES) copy[name] = new Map(t[name] as Map<string, unknown>)
  return copy as unknown as FakeTables
}

/** A deep copy, as a row read from a database is a new object every time. */
export function copy<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value
  if (value instanceof Date) return new Date(value.getTime()) as T
  if (Buffer.isBuffer(value)) return Buffer.from(value) as T
  if (Array.isArray(value)) return value.map(copy) as T
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v)])) as T
}

/** The error a database driver raises for a broken constraint, with a code the real store translates. */
function constraintError(code: 'SQLITE_CONSTRAINT_PRIMARYKEY' | 'SQLITE_CONSTRAINT_UNIQUE' | 'SQLITE_CONSTRAINT_FOREIGNKEY', what: string): Error {
  return Object.assign(new Error(`${what} constraint failed`), { code })
}

function requireRow(table: Map<string, unknown>, id: string, what: string): void {
  if (!table.has(id)) throw constraintError('SQLITE_CONSTRAINT_FOREIGNKEY', `FOREIGN KEY (${what})`)
}

const ms = (d: Date | null): number | null => (d === null ? null : d.getTime())
const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)
const live = (p: { revokedAt: Date | null; expiresAt: Date | null; lifetimeEndsAt: Date | null }, now: number): boolean =>
  p.revokedAt === null && (p.expiresAt === null || p.expiresAt.getTime() > now) && (p.lifetimeEndsAt === null || p.lifetimeEndsAt.getTime() > now)

type Tables = () => FakeTables

function accounts(db: Tables): AccountStore {
  return {
    async insert(account) {
      if (db().accounts.has(account.id)) throw constraintError('SQLITE_CONSTRAINT_PRIMARYKEY', 'PRIMARY KEY (accounts.id)')
      db().accounts.set(account.id, copy(account))
      return account
    },
    async findById(id) { return copy(db().accounts.get(id)) },
    async count() { return db().accounts.size },
    async setRequireAdminSecondFactor(id, required) {
      const before = db().accounts.get(id)
      if (!before) return undefined
      const after: Account = { ...before, requireAdminSecondFactor: required }
      db().accounts.set(id, copy(after))
      return copy(after)
    },
    async update(id, patch) {
      const before = db().accounts.get(id)
      if (!before) return undefined
      const after: Account = { ...before, ...patch }
      db().accounts.set(id, copy(after))
      return copy(after)
    },
    async listAll() {
      return [...db().accounts.values()].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || byString(a.id, b.id)).map(copy)
    },
  }
}

function users(db: Tables): UserStore {
  return {
    async insert(user) {
      const t = db()
      const taken = t.users.has(user.id) || [...t.users.values()].some((u) => u.accountId === user.accountId && u.email === user.email)
      if (taken) throw translateUniqueViolation(constraintError('SQLITE_CONSTRAINT_UNIQUE', 'UNIQUE (users)'), `a user with email ${user.email} already exists in this account`)
      requireRow(t.accounts, user.accountId, 'users.account_id')
      t.users.set(user.id, copy(user))
      return user
    },
    async findById(id) { return copy(db().users.get(id)) },
    async findSignIn(email) {
      const t = db()
      return [...t.users.values()].filter((u) => u.email === email.toLowerCase() && t.passwords.has(u.id)).map((u) => {
        const password = t.passwords.get(u.id)!
        return { user: copy(u), passwordHash: password.hash, passwordChangeRequired: password.changeRequired }
      })
    },
    async findPasswordState(id) {
      const t = db()
      if (!t.users.has(id)) return undefined
      const password = t.passwords.get(id)
      return { hasPassword: password !== undefined, changeRequired: password?.changeRequired ?? false }
    },
    async setPassword(id, hash, changeRequired, at) {
      const t = db()
      const before = t.users.get(id)
      if (!before) return
      t.passwords.set(id, { hash, changeRequired })
      t.users.set(id, copy({ ...before, updatedAt: at }))
    },
    async replacePasswordHash(id, current, rehashed) {
      const password = db().passwords.get(id)
      if (password?.hash !== current) return false
      db().passwords.set(id, { ...password, hash: rehashed })
      return true
    },
    async update(id, patch) {
      const before = db().users.get(id)
      if (!before) return undefined
      const after: User = {
        ...before,
        updatedAt: patch.updatedAt,
        ...(patch.permissions ? { permissions: patch.permissions } : {}),
        ...(patch.scopes ? { scopes: patch.scopes } : {}),
        ...(patch.disabled === undefined ? {} : { disabled: patch.disabled }),
        ...(patch.tokensCutOffAt ? { tokensCutOffAt: patch.tokensCutOffAt } : {}),
      }
      db().users.set(id, copy(after))
      return copy(after)
    },
    async listByAccount(accountId) {
      return [...db().users.values()].filter((u) => u.accountId === accountId).sort((a, b) => byString(a.email, b.email)).map(copy)
    },
    async listCutOffForAccount(accountId, since) {
      return [...db().users.values()]
        .filter((u) => u.accountId === accountId && u.tokensCutOffAt !== null && u.tokensCutOffAt.getTime() > since.getTime())
        .map((u) => ({ id: u.id, tokensCutOffAt: new Date(u.tokensCutOffAt!.getTime()) }))
    },
  }
}

function clients(db: Tables): ClientStore {
  return {
    async insert(client) {
      const t = db()
      if (t.clients.has(client.id)) throw constraintError('SQLITE_CONSTRAINT_PRIMARYKEY', 'PRIMARY KEY (clients.id)')
      requireRow(t.accounts, client.accountId, 'clients.account_id')
      if (client.userId !== null) requireRow(t.users, client.userId, 'clients.user_id')
      t.clients.set(client.id, copy(client))
      return client
    },
    async findById(id) { return db().deletedClients.has(id) ? undefined : copy(db().clients.get(id)) },
    async markDeleted(id, at) {
      const t = db()
      if (!t.clients.has(id) || t.deletedClients.has(id)) return false
      t.deletedClients.set(id, new Date(at.getTime()))
      return true
    },
    async listCutOffForAccount(accountId, since) {
      return [...db().clients.values()]
        .filter((c) => c.accountId === accountId && c.tokensCutOffAt !== null && c.tokensCutOffAt.getTime() > since.getTime())
        .map((c) => ({ id: c.id, tokensCutOffAt: new Date(c.tokensCutOffAt!.getTime()) }))
    },
    async listByAccount(accountId) {
      return [...db().clients.values()].filter((c) => c.accountId === accountId && !db().deletedClients.has(c.id))
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || byString(a.id, b.id)).map(copy)
    },
    async update(id, patch) {
      const before = db().clients.get(id)
      if (!before || db().deletedClients.has(id)) return undefined
      const set = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined))
      const after: Client = { ...before, ...set }
      db().clients.set(id, copy(after))
      return copy(after)
    },
  }
}

function keyPairs(db: Tables): KeyPairStore {
  const toKeyPair = (r: KeyPairRow): KeyPair => copy({
    id: r.id, clientId: r.clientId, createdAt: r.createdAt, expiresAt: r.expiresAt, revokedAt: r.revokedAt, lifetimeEndsAt: r.lifetimeEndsAt, lastUsedAt: r.lastUsedAt,
    lastUsedAddress: r.lastUsedAddress, lastUsedUserAgent: r.lastUsedUserAgent, tokensIssued: r.tokensIssued,
  })
  const put = (row: KeyPairRow) => db().keyPairs.set(row.id, row)
  return {
    async insert(pair) {
      const t = db()
      if (t.keyPairs.has(pair.id)) throw constraintError('SQLITE_CONSTRAINT_PRIMARYKEY', 'PRIMARY KEY (key_pairs.id)')
      requireRow(t.clients, pair.clientId, 'key_pairs.client_id')
      put({ ...copy(pair), lastUsedAt: null, lastUsedAddress: null, lastUsedUserAgent: null, tokensIssued: 0 })
    },
    async listByClient(clientId) {
      return [...db().keyPairs.values()].filter((p) => p.clientId === clientId)
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || byString(a.id, b.id)).map(toKeyPair)
    },
    async endLive(clientId, at, expiresAt) {
      const now = at.getTime()
      const ending = [...db().keyPairs.values()].filter((p) => p.clientId === clientId && live(p, now))
      if (expiresAt === null) {
        for (const p of ending) put({ ...p, revokedAt: new Date(now) })
        return ending.map((p) => ({ id: p.id, endsAt: at }))
      }
      // A pair already in a shorter grace keeps its earlier end.
      const end = expiresAt.getTime()
      return ending.map((p) => {
        const endsAt = p.expiresAt === null ? end : Math.min(p.expiresAt.getTime(), end)
        put({ ...p, expiresAt: new Date(endsAt) })
        return { id: p.id, endsAt: new Date(endsAt) }
      })
    },
    async revokeOne(clientId, id, at) {
      const pair = db().keyPairs.get(id)
      if (!pair || pair.clientId !== clientId || !live(pair, at.getTime())) return false
      put({ ...pair, revokedAt: new Date(at.getTime()) })
      return true
    },
    async clearGrace(clientId, id, at) {
      const pair = db().keyPairs.get(id)
      if (!pair || pair.clientId !== clientId || pair.expiresAt === null || !live(pair, at.getTime())) return false
      put({ ...pair, expiresAt: null })
      return true
    },
    async findCredential(id): Promise<ClientCredential | undefined> {
      const t = db()
      const pair = t.keyPairs.get(id)
      const client = pair && !t.deletedClients.has(pair.clientId) ? t.clients.get(pair.clientId) : undefined
      const account = client && t.accounts.get(client.accountId)
      if (!pair || !client || !account) return undefined
      const user = client.userId === null ? undefined : t.users.get(client.userId)
      return copy({
        keyPair: { id: pair.id, secretHash: pair.secretHash, expiresAt: pair.expiresAt, revokedAt: pair.revokedAt, lifetimeEndsAt: pair.lifetimeEndsAt },
        client,
        accountPlan: account.plan,
        user: user
          ? { id: user.id, permissions: user.permissions, scopes: user.scopes, disabled: user.disabled, role: user.role, tokensCutOffAt: user.tokensCutOffAt }
          : null,
      })
    },
    async listEndedForAccount(accountId, since, now) {
      const [from, to] = [since.getTime(), now.getTime()]
      const t = db()
      const inRange = (d: Date | null) => d !== null && d.getTime() > from && d.getTime() <= to
      const after = (d: Date | null, end: Date) => d === null || d > end
      const expired = (p: KeyPairRow) => p.lifetimeEndsAt !== null && inRange(p.lifetimeEndsAt) && after(p.revokedAt, p.lifetimeEndsAt) && after(p.expiresAt, p.lifetimeEndsAt)
      return [...t.keyPairs.values()]
        .filter((p) => t.clients.get(p.clientId)?.accountId === accountId)
        .filter((p) => inRange(p.revokedAt) || (p.revokedAt === null && inRange(p.expiresAt)) || expired(p))
        .map((p) => ({ id: p.id, endedAt: new Date(Math.min(ms(p.revokedAt) ?? Infinity, ms(p.expiresAt) ?? Infinity, ms(p.lifetimeEndsAt) ?? Infinity)) }))
    },
    async listLiveForUsers(userIds, now) {
      const t = db()
      const out: { id: KeyPairId; userId: User['id'] }[] = []
      for (const p of t.keyPairs.values()) {
        const userId = t.clients.get(p.clientId)?.userId
        if (userId && userIds.includes(userId) && live(p, now.getTime())) out.push({ id: p.id, userId })
      }
      return out
    },
    async replaceSecretHash(id, hash, hashKeyId) {
      const p = db().keyPairs.get(id)
      if (p) put({ ...p, secretHash: Buffer.from(hash), hashKeyId })
    },
    async countLiveHashedOtherwise(hashKeyId, now) {
      return [...db().keyPairs.values()].filter((p) => live(p, now.getTime()) && p.hashKeyId !== hashKeyId).length
    },
    async recordUsage(uses) {
      for (const [id, use] of uses) {
        const p = db().keyPairs.get(id)
        if (!p) continue
        // Last use only moves forward, whichever instance flushes last; its address and User-Agent go with it.
        const newer = p.lastUsedAt === null || p.lastUsedAt <= use.lastUsedAt
        put({
          ...p,
          ...(newer ? { lastUsedAt: new Date(use.lastUsedAt.getTime()), lastUsedAddress: use.address, lastUsedUserAgent: use.userAgent } : {}),
          tokensIssued: p.tokensIssued + use.tokens,
        })
      }
    },
    async listExpiring(query) {
      const t = db()
      const until = query.until.getTime()
      const out: ExpiringKeyPair[] = []
      for (const p of t.keyPairs.values()) {
        const end = ms(p.lifetimeEndsAt)
        const client = t.clients.get(p.clientId)
        if (end === null || end > until || !client || t.deletedClients.has(client.id)) continue
        if (query.accountId !== undefined && client.accountId !== query.accountId) continue
        if ((p.revokedAt !== null && p.revokedAt.getTime() <= end) || (p.expiresAt !== null && p.expiresAt.getTime() <= end)) continue
        if (t.expiryNotices.has(`${p.id}:expired`)) continue
        const noticesSent = (['30d', '7d', '1d', 'expired'] as const).filter((h) => t.expiryNotices.has(`${p.id}:${h}`))
        out.push({ id: p.id, clientId: client.id, clientName: client.name, accountId: client.accountId, lifetimeEndsAt: new Date(end), noticesSent })
      }
      return out.sort((a, b) => a.lifetimeEndsAt.getTime() - b.lifetimeEndsAt.getTime() || byString(a.id, b.id)).map(copy)
    },
    async recordExpiryNotice(id, horizon, at) {
      const t = db()
      requireRow(t.keyPairs, id, 'key_pair_expiry_notices.key_pair_id')
      const key = `${id}:${horizon}`
      if (t.expiryNotices.has(key)) return false
      t.expiryNotices.set(key, new Date(at.getTime()))
      return true
    },
  }
}

function serverKeys(db: Tables): ServerKeyStore {
  return {
    async insert(key) {
      if (db().serverKeys.has(key.kid)) throw constraintError('SQLITE_CONSTRAINT_PRIMARYKEY', 'PRIMARY KEY (server_keys.kid)')
      db().serverKeys.set(key.kid, copy(key))
    },
    async listAll() {
      return [...db().serverKeys.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()).map(copy)
    },
    async reseal(kid, privateKeySealed) {
      const key = db().serverKeys.get(kid)
      if (key) db().serverKeys.set(kid, { ...key, privateKeySealed })
    },
    async retire(kid, at) {
      const key = db().serverKeys.get(kid)
      if (!key || key.retiredAt !== null) return false
      db().serverKeys.set(kid, { ...key, retiredAt: new Date(at.getTime()) })
      return true
    },
  }
}

function revokedTokens(db: Tables): RevokedTokenStore {
  const ordered = (rows: RevokedToken[]) => rows.sort((a, b) => a.revokedAt.getTime() - b.revokedAt.getTime() || byString(a.jti, b.jti)).map(copy)
  return {
    async insert(token) {
      if (!db().revokedTokens.has(token.jti)) db().revokedTokens.set(token.jti, copy(token))
    },
    async listRevokedSince(since, limit) {
      return ordered([...db().revokedTokens.values()].filter((r) => r.revokedAt.getTime() > since.getTime())).slice(0, limit)
    },
    async listForAccount(accountId, since, now) {
      return ordered([...db().revokedTokens.values()].filter((r) =>
        r.accountId === accountId && r.revokedAt.getTime() > since.getTime() && r.expiresAt.getTime() > now.getTime()))
    },
    async purgeExpired(now) {
      const expired = [...db().revokedTokens.values()].filter((r) => r.expiresAt.getTime() <= now.getTime())
      for (const r of expired) db().revokedTokens.delete(r.jti)
      return expired.length
    },
  }
}

function audit(db: Tables): AuditStore {
  return {
    async insert(events) {
      const t = db()
      if (events.some((e) => t.audit.has(e.id))) throw constraintError('SQLITE_CONSTRAINT_PRIMARYKEY', 'PRIMARY KEY (audit_events.id)')
      // Details are stored as JSON: what JSON cannot hold does not come back.
      for (const e of events) t.audit.set(e.id, { ...copy(e), details: JSON.parse(JSON.stringify(e.details)) as Record<string, unknown> })
    },
    async list(query) {
      return [...db().audit.values()]
        .filter((e) => !query.accountId || e.accountId === query.accountId)
        .filter((e) => !query.since || e.createdAt.getTime() >= query.since.getTime())
        .filter((e) => !query.after || e.createdAt.getTime() < query.after.time.getTime()
          || (e.createdAt.getTime() === query.after.time.getTime() && e.id > query.after.id))
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || byString(a.id, b.id))
        .slice(0, query.limit)
        .map(copy)
    },
  }
}

function clientAssertions(db: Tables): ClientAssertionStore {
  return {
    async remember(id, expiresAt, now) {
      const seen = db().clientAssertions
      for (const [key, until] of seen) if (until.getTime() <= now.getTime()) seen.delete(key)
      if (seen.has(id)) return false
      seen.set(id, new Date(expiresAt.getTime()))
      return true
    },
  }
}

function dpopProofs(db: Tables): DPoPProofStore {
  return {
    async remember(id, expiresAt, now) {
      const seen = db().dpopProofs
      const until = seen.get(id)
      if (until !== undefined && until.getTime() > now.getTime()) return false
      seen.set(id, new Date(expiresAt.getTime()))
      return true
    },
    async purgeExpired(now) {
      const seen = db().dpopProofs
      let purged = 0
      for (const [id, until] of seen) {
        if (until.getTime() <= now.getTime()) {
          seen.delete(id)
          purged++
        }
      }
      return purged
    },
  }
}

function apis(db: Tables): ApiStore {
  return {
    async insert(api) {
      const t = db()
      if (t.apis.has(api.id) || [...t.apis.values()].some((a) => a.identifier === api.identifier)) {
        // Unique across accounts: the identifier is what tokens carry in `aud`.
        throw new Conflict('KEYMINT_API_EXISTS', `the API identifier ${api.identifier.slice(0, 200)} is already registered`)
      }
      requireRow(t.accounts, api.accountId, 'apis.account_id')
      t.apis.set(api.id, copy(api))
      return api
    },
    async listByAccount(accountId) {
      return [...db().apis.values()].filter((a) => a.accountId === accountId).sort((a, b) => byString(a.identifier, b.identifier)).map(copy)
    },
    async findByIdentifier(accountId, identifier) {
      return copy([...db().apis.values()].find((a) => a.accountId === accountId && a.identifier === identifier))
    },
  }
}

/** One writer at a time, as on SQLite's single connection: a transaction holds it until it ends. */
class Mutex {
  #tail: Promise<unknown> = Promise.resolve()
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn)
    this.#tail = result.catch(() => undefined)
    return result
  }
}

function sessions(db: Tables): SessionStore {
  const set = (idHash: string, change: Partial<Session>) => {
    const before = db().sessions.get(idHash)
    if (before) db().sessions.set(idHash, copy({ ...before, ...change }))
  }
  return {
    async insert(session) {
      const t = db()
      if (t.sessions.has(session.idHash)) throw constraintError('SQLITE_CONSTRAINT_PRIMARYKEY', 'PRIMARY KEY (sessions.id_hash)')
      requireRow(t.users, session.userId, 'sessions.user_id')
      t.sessions.set(session.idHash, copy(session))
    },
    async findByIdHash(idHash) { return copy(db().sessions.get(idHash)) },
    async touch(idHash, at) { set(idHash, { lastSeenAt: at }) },
    async revoke(idHash, at) {
      const before = db().sessions.get(idHash)
      if (!before || before.revokedAt !== null) return false
      set(idHash, { revokedAt: at })
      return true
    },
    async revokeAllForUser(userId, at) {
      const live = [...db().sessions.values()].filter((s) => s.userId === userId && s.revokedAt === null)
      for (const s of live) set(s.idHash, { revokedAt: at })
      return live.length
    },
    async listLiveForUser(userId, now) {
      return [...db().sessions.values()]
        .filter((s) => s.userId === userId && s.revokedAt === null && s.expiresAt.getTime() > now.getTime())
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime()).map(copy)
    },
    async deleteEndedForUser(userId, before) {
      const ended = [...db().sessions.values()].filter((s) => s.userId === userId
        && ((s.revokedAt !== null && s.revokedAt < before) || s.expiresAt < before))
      for (const s of ended) db().sessions.delete(s.idHash)
      return ended.length
    },
  }
}

function secondFactors(db: Tables): SecondFactorStore {
  const touchUser = (userId: string, at: Date) => {
    const user = db().users.get(userId)
    if (user) db().users.set(userId, copy({ ...user, updatedAt: at }))
  }
  const codesOf = (userId: string) => [...db().recoveryCodes.values()].filter((c) => c.userId === userId)
  return {
    async findTotp(userId) { return copy(db().totp.get(userId)) },
    async setPendingTotp(userId, secretSealed) {
      const t = db()
      if (!t.users.has(userId) || t.totp.get(userId)?.enabledAt) return false
      t.totp.set(userId, { secretSealed, enabledAt: null, lastStep: null })
      return true
    },
    async enableTotp(userId, step, at) {
      const before = db().totp.get(userId)
      if (!before || before.enabledAt !== null) return false
      db().totp.set(userId, { ...before, enabledAt: new Date(at.getTime()), lastStep: step })
      touchUser(userId, at)
      return true
    },
    async acceptTotpStep(userId, step) {
      const before = db().totp.get(userId)
      if (!before?.enabledAt || (before.lastStep !== null && before.lastStep >= step)) return false
      db().totp.set(userId, { ...before, lastStep: step })
      return true
    },
    async clear(userId, at) {
      const t = db()
      for (const c of codesOf(userId)) t.recoveryCodes.delete(`${userId}:${c.codeHash}`)
      if (!t.totp.delete(userId)) return false
      touchUser(userId, at)
      return true
    },
    async replaceRecoveryCodes(userId, codeHashes, at) {
      const t = db()
      if (codeHashes.length > 0) requireRow(t.users, userId, 'recovery_codes.user_id')
      if (new Set(codeHashes).size !== codeHashes.length) throw constraintError('SQLITE_CONSTRAINT_PRIMARYKEY', 'PRIMARY KEY (recovery_codes)')
      for (const c of codesOf(userId)) t.recoveryCodes.delete(`${userId}:${c.codeHash}`)
      for (const codeHash of codeHashes) t.recoveryCodes.set(`${userId}:${codeHash}`, { userId, codeHash, createdAt: new Date(at.getTime()), usedAt: null })
    },
    async useRecoveryCode(userId, codeHash, at) {
      const before = db().recoveryCodes.get(`${userId}:${codeHash}`)
      if (!before || before.usedAt !== null) return false
      db().recoveryCodes.set(`${userId}:${codeHash}`, { ...before, usedAt: new Date(at.getTime()) })
      return true
    },
    async countRecoveryCodesLeft(userId) { return codesOf(userId).filter((c) => c.usedAt === null).length },
    async listSealedSecrets() {
      return [...db().totp.entries()].sort(([a], [b]) => byString(a, b)).map(([userId, t]) => ({ userId: userId as UserId, secretSealed: t.secretSealed }))
    },
    async resealSecret(userId, secretSealed) {
      const before = db().totp.get(userId)
      if (before) db().totp.set(userId, { ...before, secretSealed })
    },
  }
}

function webhooks(db: Tables): WebhookStore {
  const toDelivery = ({ leasedUntil: _, leaseToken: __, ...d }: WebhookDeliveryRow): WebhookDelivery => copy(d)
  return {
    async insertEndpoint(e) {
      const t = db()
      if (t.webhookEndpoints.has(e.id)) throw constraintError('SQLITE_CONSTRAINT_PRIMARYKEY', 'PRIMARY KEY (webhook_endpoints.id)')
      requireRow(t.accounts, e.accountId, 'webhook_endpoints.account_id')
      t.webhookEndpoints.set(e.id, copy(e))
    },
    async listEndpoints(accountId) {
      return [...db().webhookEndpoints.values()].filter((e) => e.accountId === accountId)
        .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || byString(a.id, b.id)).map(copy)
    },
    async findEndpoint(id) {
      const e = db().webhookEndpoints.get(id)
      return e && copy(e)
    },
    async deleteEndpoint(id) {
      const t = db()
      for (const d of [...t.webhookDeliveries.values()]) if (d.endpointId === id) t.webhookDeliveries.delete(d.id)
      return t.webhookEndpoints.delete(id)
    },
    async enqueue(deliveries) {
      const t = db()
      for (const d of deliveries) {
        if (t.webhookDeliveries.has(d.id)) throw constraintError('SQLITE_CONSTRAINT_PRIMARYKEY', 'PRIMARY KEY (webhook_deliveries.id)')
        requireRow(t.webhookEndpoints, d.endpointId, 'webhook_deliveries.endpoint_id')
      }
      for (const d of deliveries) {
        t.webhookDeliveries.set(d.id, {
          ...copy(d), attempts: 0, nextAttemptAt: copy(d.createdAt), deliveredAt: null, failedAt: null, lastStatus: null, lastError: null, leasedUntil: null, leaseToken: null,
        })
      }
    },
    async listDeliveries(endpointId, limit) {
      return [...db().webhookDeliveries.values()].filter((d) => d.endpointId === endpointId)
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || byString(a.id, b.id)).slice(0, limit).map(toDelivery)
    },
    async claimDue(now, lease, limit) {
      const t = db()
      const due = [...t.webhookDeliveries.values()]
        .filter((d) => d.deliveredAt === null && d.failedAt === null && d.nextAttemptAt <= now && (d.leasedUntil === null || d.leasedUntil <= now))
        .sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime() || byString(a.id, b.id)).slice(0, limit)
      return due.map((d) => {
        t.webhookDeliveries.set(d.id, { ...d, leasedUntil: new Date(lease.until.getTime()), leaseToken: lease.token })
        const e = t.webhookEndpoints.get(d.endpointId) as WebhookEndpoint
        return { ...toDelivery(d), url: e.url, secretSealed: e.secretSealed }
      })
    },
    async listSealedSecrets() {
      return [...db().webhookEndpoints.values()].sort((a, b) => byString(a.id, b.id)).map((e) => ({ id: e.id, secretSealed: e.secretSealed }))
    },
    async resealSecret(id, secretSealed) {
      const e = db().webhookEndpoints.get(id)
      if (e) db().webhookEndpoints.set(id, { ...e, secretSealed })
    },
    async extendLease(id, lease) {
      const t = db()
      const d = t.webhookDeliveries.get(id)
      if (d?.leaseToken !== lease.token) return false
      t.webhookDeliveries.set(id, { ...d, leasedUntil: new Date(lease.until.getTime()) })
      return true
    },
    async recordAttempt(id, token, outcome) {
      const t = db()
      const d = t.webhookDeliveries.get(id)
      if (d?.leaseToken !== token) return false
      t.webhookDeliveries.set(id, {
        ...d, attempts: d.attempts + 1, leasedUntil: null, leaseToken: null, lastStatus: outcome.status, lastError: outcome.kind === 'delivered' ? null : outcome.error,
        ...(outcome.kind === 'delivered' ? { deliveredAt: new Date(outcome.at.getTime()) } : {}),
        ...(outcome.kind === 'failed' ? { failedAt: new Date(outcome.at.getTime()) } : {}),
        ...(outcome.kind === 'retry' ? { nextAttemptAt: new Date(outcome.next.getTime()) } : {}),
      })
      return true
    },
  }
}

function federationPolicies(db: Tables): FederationPolicyStore {
  const live = () => {
    const t = db()
    return [...t.federationPolicies.values()].filter((p) => p.deletedAt === null && !t.deletedClients.has(p.clientId))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))
  }
  const end = (p: FederationPolicy, at: Date) => db().federationPolicies.set(p.id, { ...p, deletedAt: new Date(at.getTime()) })
  return {
    async insert(policy) {
      const t = db()
      if (t.federationPolicies.has(policy.id)) throw translateUniqueViolation({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' }, 'federation policy exists')
      if (!t.accounts.has(policy.accountId) || !t.clients.has(policy.clientId)) throw new Error('FOREIGN KEY constraint failed')
      t.federationPolicies.set(policy.id, copy(policy))
    },
    async findById(id) {
      const p = live().find((x) => x.id === id)
      return p && copy(p)
    },
    async listByAccount(accountId) { return live().filter((p) => p.accountId === accountId).map(copy) },
    async listByIssuer(issuer) { return live().filter((p) => p.issuer === issuer).map(copy) },
    async markDeleted(id, at) {
      const p = db().federationPolicies.get(id)
      if (!p || p.deletedAt !== null) return false
      end(p, at)
      return true
    },
    async markDeletedForClient(clientId, at) {
      const ended = [...db().federationPolicies.values()].filter((p) => p.clientId === clientId && p.deletedAt === null)
      for (const p of ended) end(p, at)
      return ended.map((p) => p.id)
    },
    async findCredential(id): Promise<ClientCredential | undefined> {
      const t = db()
      const policy = t.federationPolicies.get(id)
      const client = policy && !t.deletedClients.has(policy.clientId) ? t.clients.get(policy.clientId) : undefined
      const account = client && t.accounts.get(client.accountId)
      if (!policy || !client || !account) return undefined
      const user = client.userId === null ? undefined : t.users.get(client.userId)
      return copy({
        keyPair: { id: policy.id as string as KeyPairId, secretHash: Buffer.alloc(0), expiresAt: null, lifetimeEndsAt: null, revokedAt: policy.deletedAt },
        client,
        accountPlan: account.plan,
        user: user
          ? { id: user.id, permissions: user.permissions, scopes: user.scopes, disabled: user.disabled, role: user.role, tokensCutOffAt: user.tokensCutOffAt }
          : null,
      })
    },
    async listEndedForAccount(accountId, since, now) {
      return [...db().federationPolicies.values()]
        .filter((p) => p.accountId === accountId && p.deletedAt !== null && p.deletedAt.getTime() > since.getTime() && p.deletedAt.getTime() <= now.getTime())
        .map((p) => ({ id: p.id, endedAt: new Date((p.deletedAt as Date).getTime()) }))
    },
    async listByClients(clientIds) {
      return [...db().federationPolicies.values()].filter((p) => clientIds.includes(p.clientId))
        .map((p) => ({ id: p.id as FederationPolicyId, clientId: p.clientId, createdAt: new Date(p.createdAt.getTime()) }))
    },
    async listLiveForUsers(userIds) {
      const t = db()
      return [...t.federationPolicies.values()].filter((p) => p.deletedAt === null).flatMap((p) => {
        const userId = t.clients.get(p.clientId)?.userId
        return userId !== null && userId !== undefined && userIds.includes(userId) ? [{ id: p.id, userId }] : []
      })
    },
  }
}

function clientUsage(db: Tables): ClientUsageStore {
  return {
    async addTokenCounts(counts) {
      for (const c of counts) {
        requireRow(db().clients, c.clientId, 'client_token_counts.client_id')
        const key = `${c.clientId}|${c.day}`
        db().tokenCounts.set(key, { ...c, tokens: (db().tokenCounts.get(key)?.tokens ?? 0) + c.tokens })
      }
    },
    async listTokenCounts(clientIds, fromDay) {
      return [...db().tokenCounts.values()].filter((c) => clientIds.includes(c.clientId) && c.day >= fromDay).map(copy)
    },
    async noteOverrun(overrun, at) {
      requireRow(db().clients, overrun.clientId, 'client_limit_overruns.client_id')
      const key = `${overrun.clientId}|${overrun.limit}|${overrun.windowStart.getTime()}`
      if (db().limitOverruns.has(key)) return false
      db().limitOverruns.set(key, copy({ ...overrun, notedAt: at }))
      return true
    },
    async prune(beforeDay, now) {
      for (const [key, c] of db().tokenCounts) if (c.day < beforeDay) db().tokenCounts.delete(key)
      for (const [key, o] of db().limitOverruns) if (o.windowEnd.getTime() <= now.getTime()) db().limitOverruns.delete(key)
    },
  }
}

function repositories(db: Tables) {
  return {
    accounts: accounts(db), users: users(db), clients: clients(db), keyPairs: keyPairs(db), serverKeys: serverKeys(db),
    revokedTokens: revokedTokens(db), audit: audit(db), clientAssertions: clientAssertions(db), dpopProofs: dpopProofs(db), apis: apis(db), sessions: sessions(db),
    secondFactors: secondFactors(db), webhooks: webhooks(db), federationPolicies: federationPolicies(db), clientUsage: clientUsage(db),
  }
}

/** Wraps every method of every repository so it runs through `through`. */
function wrapped<R extends object>(repos: R, through: <T>(fn: () => Promise<T>) => Promise<T>): R {
  return Object.fromEntries(Object.entries(repos).map(([name, repo]) => [name, Object.fromEntries(
    Object.entries(repo as Record<string, (...args: unknown[]) => Promise<unknown>>).map(([method, fn]) => [method, (...args: unknown[]) => through(() => fn(...args))]),
  )])) as R
}

export interface FakeStore extends Store {
  /** A deep copy of every row, table by table: compare two to prove that nothing was written. */
  dump(): Record<keyof FakeTables, unknown[]>
}

/**
 * An in-memory Store. Calls made outside a transaction queue behind a running transaction,
 * as on one SQLite connection; a transaction works on a snapshot that replaces the committed
 * rows only when its function returns, so a throw writes nothing.
 */
export function createFakeStore(): FakeStore {
  let committed = emptyTables()
  const mutex = new Mutex()
  const root = wrapped(repositories(() => committed), (fn) => mutex.run(fn))

  function transactionStore(draft: FakeTables, isOpen: () => boolean): Store {
    const guard = <T>(fn: () => Promise<T>): Promise<T> => {
      if (!isOpen()) return Promise.reject(new Error('the transaction has already ended'))
      return fn()
    }
    const tx: Store = {
      ...wrapped(repositories(() => draft), guard),
      // Nested: runs inside the open transaction, as the Kysely store does.
      transaction: (fn) => guard(() => fn(tx)),
    }
    return tx
  }

  return {
    ...root,
    transaction: (fn) => mutex.run(async () => {
      const draft = cloneTables(committed)
      let open = true
      try {
        const result = await fn(transactionStore(draft, () => open))
        committed = draft
        return result
      } finally {
        open = false
      }
    }),
    dump: () => Object.fromEntries(TABLES.map((name) => [name, [...committed[name].values()].map(copy)])) as Record<keyof FakeTables, unknown[]>,
  }
}
