import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { deleteClient, disableClient } from '../../src/domain/client-lifecycle.js'
import { createClient, updateClient } from '../../src/domain/clients.js'
import { revokeKeyPairs, rotateKeyPair } from '../../src/domain/key-pairs.js'
import { rotateSigningKey } from '../../src/domain/server-keys.js'
import { updateUser } from '../../src/domain/users.js'
import { LISTENER_APPLICATION_NAME } from '../../src/store/changes.js'
import { keymintJson } from '../helpers/cli.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { seedClient, startAnotherInstance, startTestServer, type SeededClient, type TestServer } from '../helpers/server.js'
import { basic, form } from '../helpers/tokens.js'
import { PROPAGATION_MS, within } from '../helpers/within.js'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

interface Answer { status: number; error: string | undefined; scope: string | undefined; token: string | undefined }

async function ask(url: string, c: { clientId: string; clientSecret: string }): Promise<Answer> {
  const res = await fetch(`${url}/oauth2/token`, { method: 'POST', headers: FORM, body: form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }) })
  const body = await res.json() as { access_token?: string; scope?: string; error?: string }
  return { status: res.status, error: body.error, scope: body.scope, token: body.access_token }
}

async function token(url: string, c: { clientId: string; clientSecret: string }): Promise<string> {
  const answer = await ask(url, c)
  assert.equal(answer.status, 200, `token: ${answer.error}`)
  return answer.token!
}

async function active(url: string, c: SeededClient, accessToken: string): Promise<boolean> {
  const res = await fetch(`${url}/oauth2/introspect`, { method: 'POST', headers: { ...FORM, authorization: basic(c.clientId, c.clientSecret) }, body: form({ token: accessToken }) })
  assert.equal(res.status, 200)
  return (await res.json() as { active: boolean }).active
}

async function revoke(url: string, c: SeededClient, accessToken: string): Promise<void> {
  const res = await fetch(`${url}/oauth2/revoke`, { method: 'POST', headers: { ...FORM, authorization: basic(c.clientId, c.clientSecret) }, body: form({ token: accessToken }) })
  assert.equal(res.status, 200)
}

const refused = (a: Answer): boolean => a.status === 400 || a.status === 401

/**
 * The polls of revocations and server keys are set to an hour: what is tested is that changes
 * travel by the change feeds (PostgreSQL LISTEN/NOTIFY, SQLite's data_version).
 */
const QUIET = { revocationPoll: '1h', keyRefresh: '1h' }

async function pair(t: Parameters<typeof startTestServer>[0], dialect: Parameters<typeof startTestServer>[1]): Promise<[TestServer, TestServer]> {
  const a = await startTestServer(t, dialect, QUIET)
  const b = await startAnotherInstance(t, a, QUIET)
  return [a, b]
}

interface Change {
  readonly name: string
  readonly level: 'user' | 'subscription'
  readonly apply: (a: TestServer, c: SeededClient) => Promise<unknown>
}

// Each is made on instance A while both instances hold the key pair in memory.
const CHANGES: readonly Change[] = [
  { name: 'key pairs revoked', level: 'subscription', apply: (a, c) => revokeKeyPairs(a.services, { clientId: c.clientRecordId }) },
  { name: 'key pair rotated without grace', level: 'subscription', apply: (a, c) => rotateKeyPair(a.services, { clientId: c.clientRecordId }) },
  { name: 'user disabled', level: 'user', apply: (a, c) => updateUser(a.services, { userId: c.userId!, disabled: true }) },
  { name: 'user lost api', level: 'user', apply: (a, c) => updateUser(a.services, { userId: c.userId!, permissions: ['ui'] }) },
  { name: 'user lost ui', level: 'user', apply: (a, c) => updateUser(a.services, { userId: c.userId!, permissions: ['api'] }) },
  { name: 'client disabled', level: 'subscription', apply: (a, c) => disableClient(a.services, { clientId: c.clientRecordId }) },
  { name: 'client deleted', level: 'user', apply: (a, c) => deleteClient(a.services, { clientId: c.clientRecordId }) },
  {
    name: 'plan downgraded (by SQL, as no command does it)', level: 'subscription',
    apply: (a, c) => a.services.database.db.updateTable('accounts').set({ plan: 'standard' }).where('id', '=', c.accountId).execute(),
  },
]

describeEachDialect('several instances over one database', (dialect) => {
  test('a key pair both instances hold in memory: each change made on one is refused there at once, on the other within a second', async (t) => {
    const [a, b] = await pair(t, dialect)
    for (const change of CHANGES) {
      const c = await seedClient(a.services, { level: change.level })
      await token(a.url, c)
      await token(b.url, c)
      await change.apply(a, c)
      const here = await ask(a.url, c)
      assert.ok(refused(here), `${change.name}: refused at once by the instance that made it (got ${here.status})`)
      await within(PROPAGATION_MS, `${change.name}: refused by the other instance`, async () => refused(await ask(b.url, c)))
    }
  })

  test('a changed scope shows in the next token on both instances', async (t) => {
    const [a, b] = await pair(t, dialect)
    const c = await seedClient(a.services, { clientScopes: ['orders:read', 'orders:write'] })
    assert.equal((await ask(b.url, c)).scope, 'orders:read orders:write')
    await updateClient(a.services, { clientId: c.clientRecordId, scopes: ['orders:read'] })
    assert.equal((await ask(a.url, c)).scope, 'orders:read')
    await within(PROPAGATION_MS, 'the other instance grants the narrower scope', async () => (await ask(b.url, c)).scope === 'orders:read')
  })

  test('a key pair made on one instance works on the other at once; unknown ids stay unknown', async (t) => {
    const [a, b] = await pair(t, dialect)
    const c = await seedClient(a.services)
    await token(b.url, c)
    const rotated = await rotateKeyPair(a.services, { clientId: c.clientRecordId, graceSeconds: 600 })
    assert.equal((await ask(b.url, { clientId: rotated.keyPair.id, clientSecret: rotated.keyPair.secret })).status, 200, 'the new pair, never seen by B')
    assert.equal((await ask(b.url, c)).status, 200, 'the old pair, in its grace')
    const fresh = await createClient(a.services, { accountId: c.accountId, name: 'new', level: 'subscription' })
    assert.equal((await ask(b.url, { clientId: fresh.keyPair.id, clientSecret: fresh.keyPair.secret })).status, 200)
    assert.equal((await ask(b.url, { clientId: '00000000-0000-4000-8000-000000000000', clientSecret: c.clientSecret })).error, 'invalid_client')
  })

  test('a known key pair is served from memory: only its first request reads the database', async (t) => {
    const [a] = await pair(t, dialect)
    const c = await seedClient(a.services)
    const lookups = async (): Promise<Record<string, number>> => {
      const text = await (await fetch(`${a.url}/metrics`)).text()
      return Object.fromEntries([...text.matchAll(/^keymint_credential_lookups_total\{result="(\w+)"\} (\d+)/gm)].map((m) => [m[1]!, Number(m[2])]))
    }
    const before = await lookups()
    for (let i = 0; i < 20; i++) await token(a.url, c)
    const after = await lookups()
    assert.equal((after.miss ?? 0) - (before.miss ?? 0), 1)
    assert.equal((after.hit ?? 0) - (before.hit ?? 0), 19)
  })

  test('a token revoked on one instance is refused by the other', async (t) => {
    const [a, b] = await pair(t, dialect)
    const client = await seedClient(a.services)
    const accessToken = await token(a.url, client)
    assert.equal(await active(b.url, client, accessToken), true)
    await revoke(a.url, client, accessToken)
    assert.equal(await active(a.url, client, accessToken), false, 'at once on the instance that revoked it')
    await within(PROPAGATION_MS, 'the other instance refuses it', async () => !(await active(b.url, client, accessToken)))
  })

  test('a signing key rotated through one instance is published by the other', async (t) => {
    const [a, b] = await pair(t, dialect)
    const rotated = await rotateSigningKey({ store: a.services.store, clock: a.services.clock, sealer: a.services.sealer }, { alg: 'ES256', publishAheadSeconds: 600 })
    await within(PROPAGATION_MS, 'the other instance publishes the new key', async () => {
      const { keys } = await (await fetch(`${b.url}/.well-known/jwks.json`)).json() as { keys: { kid: string }[] }
      return keys.some((k) => k.kid === rotated.kid)
    })
  })

  test('the CLI changing the database while a server runs: the server follows within a second', async (t) => {
    const a = await startTestServer(t, dialect, QUIET)
    const env = { KEYMINT_MASTER_KEY: a.config.masterKey.value! }
    const cli = <T = Record<string, unknown>>(args: string[]) => keymintJson<T>([...args, '--db', a.config.database.url], { env })
    const sub = await seedClient(a.services)
    const person = await seedClient(a.services, { level: 'user' })
    await token(a.url, sub)
    await token(a.url, person)
    // SQLite: the server reads the file's data version on use, so another process's change counts at once.
    const deadline = dialect === 'sqlite' ? 0 : PROPAGATION_MS
    await cli(['keys', 'revoke', '--client', sub.clientRecordId])
    // The CLI revokes as of its own (real) clock; the server's test clock stands still until moved past it.
    a.clock.advance(60)
    await within(deadline, 'a key pair revoked by the CLI is refused', async () => refused(await ask(a.url, sub)))
    await cli(['user', 'update', '--user', person.userId!, '--disabled', 'true'])
    await within(deadline, 'a user disabled by the CLI is refused', async () => refused(await ask(a.url, person)))
    const rotated = await cli<{ kid: string }>(['signing-keys', 'rotate', '--alg', 'ES256'])
    await within(PROPAGATION_MS, 'a signing key rotated by the CLI is published', async () => {
      const { keys } = await (await fetch(`${a.url}/.well-known/jwks.json`)).json() as { keys: { kid: string }[] }
      return keys.some((k) => k.kid === rotated.kid)
    })
  })

  if (dialect === 'postgres') {
    test('the change listener reconnects after its connection is killed, and catches up', async (t) => {
      const [a, b] = await pair(t, dialect)
      const client = await seedClient(a.services)
      const other = await createClient(a.services, { accountId: client.accountId, name: 'introspector', level: 'subscription' })
      const introspector = { ...client, clientId: other.keyPair.id, clientSecret: other.keyPair.secret }
      const admin = new pg.Client({ connectionString: a.config.database.url })
      await admin.connect()
      // Ended in the test itself: after-hooks drop the database (with force) before later hooks run.
      admin.on('error', () => {})
      try {
        const listeners = async (): Promise<number> => (await admin.query(
          'select count(*)::int as n from pg_stat_activity where datname = current_database() and application_name = $1', [LISTENER_APPLICATION_NAME],
        )).rows[0].n as number
        await within(5000, 'both instances listen', async () => (await listeners()) === 2)
        await token(b.url, client)
        const killed = await admin.query(
          'select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and application_name = $1', [LISTENER_APPLICATION_NAME],
        )
        assert.equal(killed.rowCount, 2)
        const accessToken = await token(a.url, client)
        await revoke(a.url, client, accessToken)
        await revokeKeyPairs(a.services, { clientId: client.clientRecordId })
        // Announced while B may have been away: B polls what it holds meanwhile, and reloads everything when it is back.
        await within(PROPAGATION_MS, 'the other instance refuses the revoked pair while its listener is away', async () => refused(await ask(b.url, client)))
        await within(10_000, 'the other instance refuses the token after reconnecting', async () => !(await active(b.url, introspector, accessToken)))
        await within(10_000, 'both instances listen again', async () => (await listeners()) === 2)
      } finally {
        await admin.end()
      }
    })
  }
})
