import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { test } from 'node:test'
import { fakeDeps } from '../../test/fakes/deps.js'
import { createAccount } from './accounts.js'
import { ADMIN_SCOPE, type Authority } from './authority.js'
import { createClient, updateClient } from './clients.js'
import { Forbidden } from './errors.js'
import { revokeKeyPairs, rotateKeyPair } from './key-pairs.js'
import { createUser, updateUser } from './users.js'

// DESIGN §1: no credential can create, change or obtain anything that holds more than it
// holds itself. Every management scope short of keymint:admin, against every path that could
// raise what some credential holds; each refusal is Forbidden and writes nothing.

const NARROW_SCOPES = [
  'keymint:users:read', 'keymint:users:write', 'keymint:clients:read', 'keymint:clients:write',
  'keymint:keys:write', 'keymint:apis:read', 'keymint:apis:write', 'keymint:audit:read',
]

const publicKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string

async function world() {
  const deps = fakeDeps()
  const accountId = (await createAccount(deps, { name: 'acme' })).id
  const adminUser = await createUser(deps, { accountId, email: 'boss@example.com', role: 'admin', scopes: [ADMIN_SCOPE] })
  const member = await createUser(deps, { accountId, email: 'member@example.com', role: 'member', scopes: ['assets:read'] })
  const adminClient = await createClient(deps, { accountId, name: 'admin', level: 'subscription', scopes: [ADMIN_SCOPE] })
  const plain = await createClient(deps, { accountId, name: 'plain', level: 'subscription', scopes: ['assets:read'] })
  return { deps, accountId, adminUser, member, adminClient, plain }
}

type World = Awaited<ReturnType<typeof world>>

/** Each path, as the caller holding `scope` (its own client holds exactly that scope) would take it. */
const ESCALATIONS: [string, (w: World, authority: Authority, own: string, scope: string) => Promise<unknown>][] = [
  ['create a client holding keymint:admin', (w, authority) =>
    createClient(w.deps, { accountId: w.accountId, name: 'x', level: 'subscription', scopes: [ADMIN_SCOPE], authority })],
  ['create a client holding a narrow keymint: scope, even its own', (w, authority, _own, scope) =>
    createClient(w.deps, { accountId: w.accountId, name: 'x', level: 'subscription', scopes: [scope], authority })],
  ['create a user-level client acting as an admin', (w, authority) =>
    createClient(w.deps, { accountId: w.accountId, name: 'x', level: 'user', userId: w.adminUser.id, authority })],
  ["raise its own client's scopes", (w, authority, own, scope) =>
    updateClient(w.deps, { clientId: own, scopes: [scope, ADMIN_SCOPE], authority })],
  ["change a client's public key", (w, authority) =>
    updateClient(w.deps, { clientId: w.plain.client.id, publicKey: publicKeyPem, authority })],
  ["remove a client's public key", (w, authority) =>
    updateClient(w.deps, { clientId: w.plain.client.id, publicKey: null, authority })],
  ['rename an admin client', (w, authority) =>
    updateClient(w.deps, { clientId: w.adminClient.client.id, name: 'mine now', authority })],
  ['rotate the key pair of an admin client', (w, authority) =>
    rotateKeyPair(w.deps, { clientId: w.adminClient.client.id, authority })],
  ['rotate the key pair of an admin client with a grace', (w, authority) =>
    rotateKeyPair(w.deps, { clientId: w.adminClient.client.id, graceSeconds: 60, authority })],
  ['revoke the key pairs of an admin client', (w, authority) =>
    revokeKeyPairs(w.deps, { clientId: w.adminClient.client.id, authority })],
  ['create an admin user', (w, authority) =>
    createUser(w.deps, { accountId: w.accountId, email: 'evil@example.com', role: 'admin', authority })],
  ['create a user holding keymint:admin', (w, authority) =>
    createUser(w.deps, { accountId: w.accountId, email: 'evil@example.com', scopes: [ADMIN_SCOPE], authority })],
  ['create a user holding a narrow keymint: scope, even its own', (w, authority, _own, scope) =>
    createUser(w.deps, { accountId: w.accountId, email: 'evil@example.com', scopes: [scope], authority })],
  ['grant a member a keymint: scope', (w, authority) =>
    updateUser(w.deps, { userId: w.member.id, scopes: ['assets:read', 'keymint:audit:read'], authority })],
  ['disable an admin user', (w, authority) =>
    updateUser(w.deps, { userId: w.adminUser.id, disabled: true, authority })],
  ["take an admin user's permissions", (w, authority) =>
    updateUser(w.deps, { userId: w.adminUser.id, permissions: [], authority })],
]

const forbidden = (err: unknown) => err instanceof Forbidden && err.code === 'KEYMINT_ADMIN_REQUIRED'

for (const [path, attempt] of ESCALATIONS) {
  test(`every narrow scope: ${path} is Forbidden and writes nothing`, async () => {
    const w = await world()
    for (const scope of NARROW_SCOPES) {
      const own = await createClient(w.deps, { accountId: w.accountId, name: `narrow ${scope}`, level: 'subscription', scopes: [scope] })
      const before = w.deps.store.dump()
      await assert.rejects(attempt(w, { scopes: new Set([scope]) }, own.client.id, scope), forbidden, `${scope}: ${path}`)
      assert.deepEqual(w.deps.store.dump(), before, `${scope}: ${path} wrote nothing`)
    }
  })
}

test('the same paths are open to keymint:admin and to the command line, so the refusals are about authority', async () => {
  for (const authority of [{ scopes: new Set([ADMIN_SCOPE]) }, undefined]) {
    for (const [path, attempt] of ESCALATIONS) {
      const w = await world()
      const own = await createClient(w.deps, { accountId: w.accountId, name: 'own', level: 'subscription', scopes: ['keymint:audit:read'] })
      await attempt(w, authority as Authority, own.client.id, 'keymint:audit:read').catch((err: unknown) => {
        assert.fail(`${authority ? 'keymint:admin' : 'cli'}: ${path}: ${String(err)}`)
      })
    }
  }
})

test('narrow scopes still do their own job on what does not exceed them', async () => {
  const w = await world()
  const authority: Authority = { scopes: new Set(['keymint:clients:write', 'keymint:keys:write']) }
  const writer = await createClient(w.deps, { accountId: w.accountId, name: 'writer', level: 'subscription', scopes: [...authority.scopes] })
  const created = await createClient(w.deps, { accountId: w.accountId, name: 'integration', level: 'subscription', scopes: ['assets:read'], authority })
  await updateClient(w.deps, { clientId: created.client.id, name: 'renamed', scopes: ['assets:read', 'assets:write'], authority })
  await rotateKeyPair(w.deps, { clientId: created.client.id, authority })
  await revokeKeyPairs(w.deps, { clientId: created.client.id, authority })
  // Its own client holds no more than itself.
  await rotateKeyPair(w.deps, { clientId: writer.client.id, graceSeconds: 60, authority })
  // A member's client carries no keymint: scope whatever its list says (see allowedScopes).
  await createClient(w.deps, { accountId: w.accountId, name: 'member', level: 'user', userId: w.member.id, scopes: ['keymint:admin'], authority })
  const users: Authority = { scopes: new Set(['keymint:users:write']) }
  await createUser(w.deps, { accountId: w.accountId, email: 'new@example.com', scopes: ['assets:read'], authority: users })
  await updateUser(w.deps, { userId: w.member.id, disabled: true, authority: users })
})
