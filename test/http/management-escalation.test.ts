import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { test } from 'node:test'
import { createClient } from '../../src/domain/clients.js'
import { createUser } from '../../src/domain/users.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { adminOf, api, tokenOf, type ApiCall } from '../helpers/management.js'
import { startTestServer, type TestServer } from '../helpers/server.js'

// Every management scope short of keymint:admin.
const NARROW_SCOPES = [
  'keymint:users:read', 'keymint:users:write', 'keymint:clients:read', 'keymint:clients:write',
  'keymint:keys:write', 'keymint:apis:read', 'keymint:apis:write', 'keymint:audit:read',
]

const publicKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string

/** Rows that any of the attempted escalations would write. */
async function snapshot(s: TestServer): Promise<string> {
  const db = s.services.database.db
  const count = async (table: 'users' | 'clients' | 'key_pairs' | 'audit_events') =>
    Number((await db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)
  const clients = await db.selectFrom('clients').select(['id', 'scopes', 'public_jwk', 'require_dpop']).orderBy('id').execute()
  const users = await db.selectFrom('users').select(['id', 'role', 'scopes', 'disabled']).orderBy('id').execute()
  const pairs = await db.selectFrom('key_pairs').select(['id', 'revoked_at', 'expires_at']).orderBy('id').execute()
  return JSON.stringify({ n: [await count('users'), await count('clients'), await count('key_pairs'), await count('audit_events')], clients, users, pairs })
}

describeEachDialect('management API: no credential grants more than it holds', (dialect) => {
  test('every narrow scope × every escalation path is 403 and writes nothing', async (t) => {
    const s = await startTestServer(t, dialect)
    const admin = await adminOf(s)
    const accountId = admin.seed.accountId
    const deps = { store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }
    const adminUser = await createUser(deps, { accountId, email: 'boss@example.com', role: 'admin', scopes: ['keymint:admin'] })
    const member = await createUser(deps, { accountId, email: 'member@example.com', role: 'member', scopes: ['assets:read'] })
    const plain = await createClient(deps, { accountId, name: 'plain', level: 'subscription', scopes: ['assets:read'] })
    const bound = await createClient(deps, { accountId, name: 'bound', level: 'subscription', scopes: ['assets:read'], requireDPoP: true })

    for (const scope of NARROW_SCOPES) {
      const own = await createClient(deps, { accountId, name: `narrow ${scope}`, level: 'subscription', scopes: [scope] })
      const call: ApiCall = api(s, await tokenOf(s, { clientId: own.keyPair.id, clientSecret: own.keyPair.secret }))
      const attempts: [string, string, string, unknown?][] = [
        ['create a client holding keymint:admin', 'POST', '/clients', { name: 'x', level: 'subscription', scopes: ['keymint:admin'] }],
        ['create a client holding a narrow keymint scope', 'POST', '/clients', { name: 'x', level: 'subscription', scopes: [scope] }],
        ['create a user-level client acting as an admin', 'POST', '/clients', { name: 'x', level: 'user', user_id: adminUser.id }],
        ["raise its own client's scopes", 'PATCH', `/clients/${own.client.id}`, { scopes: [scope, 'keymint:admin'] }],
        ["change a client's public key", 'PATCH', `/clients/${plain.client.id}`, { public_key: publicKeyPem }],
        ["lift a client's DPoP requirement", 'PATCH', `/clients/${bound.client.id}`, { require_dpop: false }],
        ['rotate the key pair of an admin client', 'POST', `/clients/${admin.seed.clientRecordId}/key-pairs`, {}],
        ['revoke the key pairs of an admin client', 'DELETE', `/clients/${admin.seed.clientRecordId}/key-pairs`],
        ['finish the rotation of an admin client', 'POST', `/clients/${admin.seed.clientRecordId}/key-pairs/finish`],
        ['cancel the rotation of an admin client', 'POST', `/clients/${admin.seed.clientRecordId}/key-pairs/cancel`],
        ['rename an admin client', 'PATCH', `/clients/${admin.seed.clientRecordId}`, { name: 'mine now' }],
        ['create an admin user', 'POST', '/users', { email: 'evil@example.com', role: 'admin' }],
        ['create a user holding keymint:admin', 'POST', '/users', { email: 'evil2@example.com', scopes: ['keymint:admin'] }],
        ['grant a member a keymint scope', 'PATCH', `/users/${member.id}`, { scopes: ['assets:read', 'keymint:audit:read'] }],
        ['disable an admin user', 'PATCH', `/users/${adminUser.id}`, { disabled: true }],
      ]
      for (const [name, method, path, body] of attempts) {
        const before = await snapshot(s)
        const res = await call(method, path, body)
        assert.equal(res.status, 403, `${scope}: ${name} → ${res.status} ${JSON.stringify(res.body)}`)
        assert.equal(await snapshot(s), before, `${scope}: ${name} wrote nothing`)
      }
    }

    // The same paths are open to keymint:admin, so the refusals above are about authority, not shape.
    const allowed: [string, string, unknown?][] = [
      ['POST', '/clients', { name: 'x', level: 'subscription', scopes: ['keymint:audit:read'] }],
      ['POST', '/clients', { name: 'y', level: 'user', user_id: adminUser.id }],
      ['PATCH', `/clients/${plain.client.id}`, { public_key: publicKeyPem }],
      ['PATCH', `/clients/${bound.client.id}`, { require_dpop: false }],
      ['POST', '/users', { email: 'ok@example.com', role: 'admin' }],
      ['PATCH', `/users/${member.id}`, { scopes: ['keymint:audit:read'] }],
    ]
    for (const [method, path, body] of allowed) {
      const res = await admin.call(method, path, body)
      assert.ok(res.status === 200 || res.status === 201, `keymint:admin: ${method} ${path} → ${res.status}`)
    }
  })

  test('narrow scopes still do their own job on what does not exceed them', async (t) => {
    const s = await startTestServer(t, dialect)
    const admin = await adminOf(s)
    const deps = { store: s.services.store, clock: s.services.clock, secrets: s.services.secrets }
    const accountId = admin.seed.accountId
    const writer = await createClient(deps, { accountId, name: 'writer', level: 'subscription', scopes: ['keymint:clients:write', 'keymint:keys:write'] })
    const call = api(s, await tokenOf(s, { clientId: writer.keyPair.id, clientSecret: writer.keyPair.secret }))
    const created = await call('POST', '/clients', { name: 'integration', level: 'subscription', scopes: ['assets:read'] })
    assert.equal(created.status, 201)
    const id = created.body.client.id as string
    assert.equal((await call('PATCH', `/clients/${id}`, { name: 'renamed', scopes: ['assets:read', 'assets:write'] })).status, 200)
    const constrained = await call('PATCH', `/clients/${id}`, { require_dpop: true })
    assert.deepEqual([constrained.status, constrained.body.require_dpop], [200, true], 'requiring DPoP only narrows what the client gets')
    assert.equal((await call('POST', `/clients/${id}/key-pairs`, {})).status, 201)
    assert.equal((await call('DELETE', `/clients/${id}/key-pairs`)).status, 200)
    // Its own client holds no more than itself.
    assert.equal((await call('POST', `/clients/${writer.client.id}/key-pairs`, { grace_seconds: 60 })).status, 201)
  })
})
