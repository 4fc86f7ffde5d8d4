import assert from 'node:assert/strict'
import { test } from 'node:test'
import { fakeDeps } from '../../test/fakes/deps.js'
import { TEST_PASSWORD_COST } from '../../test/helpers/password-cost.js'
import { createPasswordHasher } from '../crypto/passwords.js'
import { createAccount } from './accounts.js'
import { setUserPassword } from './passwords.js'
import { signIn, SignInRefused } from './sessions.js'
import { createUser } from './users.js'

const PASSWORD = 'a long passphrase of my own'
const POLICY = { idleSeconds: 1800, absoluteSeconds: 12 * 3600 }
const costOf = (hash: string) => Math.log2(Number(hash.split('$')[1]))

test('a password hashed at a lower cost than the current one is hashed again at its next sign-in, and only then', async () => {
  const deps = fakeDeps()
  const account = await createAccount(deps, { name: 'acme' })
  const user = await createUser(deps, { accountId: account.id, email: 'ada@example.com', role: 'admin' })
  await setUserPassword(deps, { userId: user.id, password: PASSWORD })
  const stored = async () => (await deps.store.users.findSignIn(user.email))[0]!.passwordHash
  const first = await stored()
  assert.equal(costOf(first), TEST_PASSWORD_COST)

  // The operator raises KEYMINT_PASSWORD_HASH_COST.
  const raised = { ...deps, passwords: createPasswordHasher(TEST_PASSWORD_COST + 1) }
  const attempt = (d: typeof deps, password: string) => signIn(d, { email: user.email, password, address: '192.0.2.1', userAgent: 'test', policy: POLICY })
  await assert.rejects(attempt(raised, 'not the passphrase at all'), SignInRefused)
  assert.equal(await stored(), first, 'a wrong password changes nothing')

  await attempt(raised, PASSWORD)
  const rehashed = await stored()
  assert.equal(costOf(rehashed), TEST_PASSWORD_COST + 1, 'hashed again at the new cost')
  assert.equal((await deps.store.users.findById(user.id))?.updatedAt.getTime(), user.updatedAt.getTime(), 'the same password: the user is not changed')
  await attempt(raised, PASSWORD)
  assert.equal(await stored(), rehashed, 'once only')

  // Lowered again: a stronger hash stays as it is, and still verifies.
  await attempt(deps, PASSWORD)
  assert.equal(await stored(), rehashed)
})
