import assert from 'node:assert/strict'
import { test } from 'node:test'
import { cliDatabase, serve, type Created } from '../helpers/cli.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { basic, form, verifyAccessToken } from '../helpers/tokens.js'
import { PROPAGATION_MS, within } from '../helpers/within.js'

// The walk-through of DESIGN §8 runs bin/keymint itself on SQLite, a process per command, as a
// script would; on PostgreSQL the same commands run through the runner (what differs between
// the engines is the store, not the process).

describeEachDialect('keymint CLI: end to end (DESIGN §8)', (dialect) => {
  test('every admin command prints one JSON object with --json, and the flow works end to end', async (t) => {
    const { json, db, env, dir } = await cliDatabase(t, dialect, { process: dialect === 'sqlite' })
    assert.equal((await json<{ applied: string[] }>(['migrate'])).applied[0], '0001-create-core-tables')
    assert.deepEqual((await json<{ applied: string[] }>(['migrate'])).applied, [], 'migrating twice is a no-op')
    const account = await json(['account', 'create', '--name', 'Acme'])
    assert.equal(account.plan, 'enterprise')
    const user = await json(['user', 'create', '--account', String(account.id), '--email', 'ops@acme.io', '--role', 'admin', '--permissions', 'ui,api', '--scopes', 'assets:read'])
    assert.deepEqual(user.permissions, ['api', 'ui'])
    const updated = await json(['user', 'update', '--user', String(user.id), '--scopes', 'assets:read,assets:write', '--disabled', 'false'])
    assert.deepEqual(updated.scopes, ['assets:read', 'assets:write'])
    const client = await json<Created & { level: string; lifetime_seconds: number }>(['client', 'create', '--account', String(account.id), '--name', 'ci', '--level', 'user', '--user', String(user.id), '--lifetime', '30m'])
    assert.equal(client.lifetime_seconds, 1800)
    assert.match(client.client_id, /^[0-9a-f-]{36}$/)
    assert.match(client.client_secret, /^kmsk_[A-Za-z0-9_-]{43}$/)

    const listed = await json<{ items: Record<string, unknown>[] }>(['keys', 'list', '--client', client.id])
    assert.equal(listed.items.length, 1)
    assert.equal(listed.items[0]?.state, 'active')
    assert.ok(!JSON.stringify(listed).includes(client.client_secret.slice(5)), 'keys list never prints a secret')

    const server = await serve(t, ['--port', '0', '--db', db.url], { env, cwd: dir })
    const tokenRes = await fetch(`${server.url}/auth/oidc`, { method: 'POST', headers: { clientId: client.client_id, clientSecret: client.client_secret } })
    assert.equal(tokenRes.status, 200)
    const { payload } = await verifyAccessToken(server.url, await tokenRes.text())
    assert.equal(payload.exp! - payload.iat!, 1800)

    const rotated = await json<Created & { ended: { client_id: string; ends_at: string }[] }>(['keys', 'rotate', '--client', client.id, '--grace', '10m'])
    assert.equal(rotated.ended[0]?.client_id, client.client_id)
    const states = await json<{ items: { state: string }[] }>(['keys', 'list', '--client', client.id])
    assert.deepEqual(states.items.map((k) => k.state).sort(), ['active', 'grace'])
    const old = await fetch(`${server.url}/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.client_id, client.client_secret) }, body: form({ grant_type: 'client_credentials' }) })
    assert.equal(old.status, 200, 'old pair still works during the grace period')

    const revoked = await json<{ revoked: string[] }>(['keys', 'revoke', '--client', client.id])
    assert.equal(revoked.revoked.length, 2)
    // SQLite's data_version is read on every request, so a revocation holds at once; PostgreSQL's
    // announcement reaches the server within a second (DESIGN §5). Either way it then holds.
    const deadline = dialect === 'sqlite' ? 0 : PROPAGATION_MS
    const status = async (pair: Created) => (await fetch(`${server.url}/auth/oidc`, { method: 'POST', headers: { clientId: pair.client_id, clientSecret: pair.client_secret } })).status
    for (const pair of [client, rotated]) {
      await within(deadline, 'a revocation by the CLI holds on the running server', async () => (await status(pair)) === 401)
      assert.equal(await status(pair), 401, 'and stays refused')
    }
    server.child.kill('SIGTERM')
    assert.equal(await server.exited, 0, 'SIGTERM drains and exits 0')
  })
})
