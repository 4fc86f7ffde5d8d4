import assert from 'node:assert/strict'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { rotateSigningKey } from '../../src/domain/server-keys.js'
import { describeEachDialect, type Dialect } from '../helpers/dialects.js'
import { seedClient, startAnotherInstance, startTestServer, type SeededClient } from '../helpers/server.js'
import { basic, form } from '../helpers/tokens.js'

const FORM = { 'content-type': 'application/x-www-form-urlencoded' }

async function token(url: string, c: SeededClient): Promise<string> {
  const res = await fetch(`${url}/oauth2/token`, { method: 'POST', headers: FORM, body: form({ grant_type: 'client_credentials', client_id: c.clientId, client_secret: c.clientSecret }) })
  assert.equal(res.status, 200)
  return (await res.json() as { access_token: string }).access_token
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

/** Polls until `check` holds; returns how long it took. */
async function within(ms: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now()
  while (!(await check())) {
    if (Date.now() - start > ms) assert.fail(`${what}: not within ${ms} ms`)
    await sleep(50)
  }
  return Date.now() - start
}

/**
 * PostgreSQL instances hear of each other's changes at once (LISTEN/NOTIFY), so their polls are
 * set to an hour here; SQLite has no such channel and relies on polling, set short.
 */
const instanceSettings = (dialect: Dialect) => dialect === 'postgres'
  ? { revocationPoll: '1h', keyRefresh: '1h' }
  : { revocationPoll: '1s', keyRefresh: '1s' }

describeEachDialect('several instances over one database', (dialect) => {
  test('a token revoked on one instance is refused by the other', async (t) => {
    const a = await startTestServer(t, dialect, instanceSettings(dialect))
    const b = await startAnotherInstance(t, a, instanceSettings(dialect))
    const client = await seedClient(a.services)
    const accessToken = await token(a.url, client)
    assert.equal(await active(b.url, client, accessToken), true)
    await revoke(a.url, client, accessToken)
    assert.equal(await active(a.url, client, accessToken), false, 'at once on the instance that revoked it')
    await within(5000, 'the other instance refuses it', async () => !(await active(b.url, client, accessToken)))
  })

  test('a signing key rotated through one instance is published by the other', async (t) => {
    const a = await startTestServer(t, dialect, instanceSettings(dialect))
    const b = await startAnotherInstance(t, a, instanceSettings(dialect))
    const rotated = await rotateSigningKey({ store: a.services.store, clock: a.services.clock, sealer: a.services.sealer }, { alg: 'ES256', publishAheadSeconds: 600 })
    await within(5000, 'the other instance publishes the new key', async () => {
      const { keys } = await (await fetch(`${b.url}/.well-known/jwks.json`)).json() as { keys: { kid: string }[] }
      return keys.some((k) => k.kid === rotated.kid)
    })
  })

  if (dialect === 'postgres') {
    test('the change listener reconnects after its connection is killed, and catches up', async (t) => {
      const a = await startTestServer(t, dialect, instanceSettings(dialect))
      const b = await startAnotherInstance(t, a, instanceSettings(dialect))
      const client = await seedClient(a.services)
      const admin = new pg.Client({ connectionString: a.config.database.url })
      await admin.connect()
      // Ended in the test itself: after-hooks drop the database (with force) before later hooks run.
      admin.on('error', () => {})
      try {
      const listeners = async (): Promise<number> => (await admin.query(
        `select count(*)::int as n from pg_stat_activity where datname = current_database() and query = 'LISTEN keymint_changes'`,
      )).rows[0].n as number
      await within(5000, 'both instances listen', async () => (await listeners()) === 2)
      const killed = await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and query = 'LISTEN keymint_changes' and pid <> pg_backend_pid()`,
      )
      assert.equal(killed.rowCount, 2)
      const accessToken = await token(a.url, client)
      await revoke(a.url, client, accessToken)
      // Announced while B may have been away: B reloads everything when it is back.
      await within(10_000, 'the other instance refuses it after reconnecting', async () => !(await active(b.url, client, accessToken)))
      await within(10_000, 'both instances listen again', async () => (await listeners()) === 2)
      } finally {
        await admin.end()
      }
    })
  }
})
