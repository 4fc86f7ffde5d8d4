import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createAccount } from '../../src/domain/accounts.js'
import { Conflict, InvalidInput } from '../../src/domain/errors.js'
import { setUserPassword } from '../../src/domain/passwords.js'
import { endAllSessions, endSession, resumeSession, signIn, SignInRefused } from '../../src/domain/sessions.js'
import { createUser, updateUser } from '../../src/domain/users.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { startTestServer } from '../helpers/server.js'

const POLICY = { idleSeconds: 1800, absoluteSeconds: 12 * 3600 }
const PASSWORD = 'a long passphrase of my own'

describeEachDialect('passwords and sessions', (dialect) => {
  test('sign-in opens a session that ends when idle, at its absolute end, at sign-out or when the user may no longer sign in', async (t) => {
    const { services, clock } = await startTestServer(t, dialect)
    const deps = { store: services.store, clock, sealer: services.sealer, passwords: services.passwords }
    const account = await createAccount(deps, { name: 'acme' })
    const user = await createUser(deps, { accountId: account.id, email: 'ada@example.com', role: 'admin' })
    await assert.rejects(setUserPassword(deps, { userId: user.id, password: 'short' }), InvalidInput)
    await assert.rejects(setUserPassword(deps, { userId: user.id, password: '123456789012' }), InvalidInput)
    await setUserPassword(deps, { userId: user.id, password: PASSWORD })
    const stored = await services.database.db.selectFrom('users').select('password_hash').where('id', '=', user.id).executeTakeFirstOrThrow()
    assert.ok(stored.password_hash?.startsWith('scrypt$') && !stored.password_hash.includes(PASSWORD), 'stored as an scrypt hash')

    const input = { email: 'Ada@Example.com', password: PASSWORD, address: '127.0.0.1', userAgent: 'test', policy: POLICY }
    const first = await signIn(deps, input)
    assert.equal(first.user.id, user.id)
    assert.equal(first.account.id, account.id)
    const rows = await services.database.db.selectFrom('sessions').select('id_hash').execute()
    assert.ok(rows.every((r) => r.id_hash !== first.sessionId), 'only a hash of the session id is stored')
    assert.ok(await resumeSession(deps, { sessionId: first.sessionId, policy: POLICY }))
    clock.advance(1799)
    assert.ok(await resumeSession(deps, { sessionId: first.sessionId, policy: POLICY }), 'still within the idle timeout, and touched')
    clock.advance(1799)
    assert.ok(await resumeSession(deps, { sessionId: first.sessionId, policy: POLICY }), 'use keeps it alive')
    clock.advance(1800)
    assert.equal(await resumeSession(deps, { sessionId: first.sessionId, policy: POLICY }), undefined, 'idle too long')

    const busy = await signIn(deps, input)
    for (let i = 0; i < 12 * 3600 / 1500; i++) {
      clock.advance(1500)
      if (!await resumeSession(deps, { sessionId: busy.sessionId, policy: POLICY })) break
    }
    assert.equal(await resumeSession(deps, { sessionId: busy.sessionId, policy: POLICY }), undefined, 'ended at its absolute lifetime')

    const a = await signIn(deps, input)
    const b = await signIn(deps, input)
    assert.equal(await endSession(deps, { idHash: a.session.idHash, user }), true)
    assert.equal(await resumeSession(deps, { sessionId: a.sessionId, policy: POLICY }), undefined, 'signed out')
    assert.ok(await resumeSession(deps, { sessionId: b.sessionId, policy: POLICY }), 'the other session stays')
    await endAllSessions(deps, { user })
    assert.equal(await resumeSession(deps, { sessionId: b.sessionId, policy: POLICY }), undefined, 'signed out everywhere')

    const c = await signIn(deps, input)
    await updateUser(deps, { userId: user.id, permissions: ['api'] })
    assert.equal(await resumeSession(deps, { sessionId: c.sessionId, policy: POLICY }), undefined, 'losing ui ends the session')
    await assert.rejects(signIn(deps, input), (err: unknown) => err instanceof SignInRefused && err.reason === 'no_ui_permission')
    await updateUser(deps, { userId: user.id, permissions: ['ui', 'api'] })
    const d = await signIn(deps, input)
    await setUserPassword(deps, { userId: user.id, password: 'another long passphrase' })
    assert.equal(await resumeSession(deps, { sessionId: d.sessionId, policy: POLICY }), undefined, 'a new password ends every session')

    // Ended sessions are forgotten a day later, at the user's next sign-in; live ones stay.
    const countRows = async () => (await services.database.db.selectFrom('sessions').select('id_hash').where('user_id', '=', user.id).execute()).length
    const input2 = { ...input, password: 'another long passphrase' }
    const live = await signIn(deps, input2)
    assert.ok(await countRows() > 2)
    clock.advance(20 * 60)
    await resumeSession(deps, { sessionId: live.sessionId, policy: POLICY })
    clock.advance(24 * 3600 - 20 * 60 + 1)
    const kept = await signIn(deps, input2)
    const ids = (await services.database.db.selectFrom('sessions').select('id_hash').where('user_id', '=', user.id).execute()).map((r) => r.id_hash)
    assert.deepEqual(ids.sort(), [live.session.idHash, kept.session.idHash].sort(), 'only the sessions that had not ended a day ago')
  })

  test('an unknown email and a wrong password are the same refusal; emails that sign in are unique', async (t) => {
    const { services, clock } = await startTestServer(t, dialect)
    const deps = { store: services.store, clock, sealer: services.sealer, passwords: services.passwords }
    const [one, two] = [await createAccount(deps, { name: 'one' }), await createAccount(deps, { name: 'two' })]
    const user = await createUser(deps, { accountId: one.id, email: 'ops@example.com' })
    const twin = await createUser(deps, { accountId: two.id, email: 'ops@example.com' })
    await setUserPassword(deps, { userId: user.id, password: PASSWORD })
    await assert.rejects(setUserPassword(deps, { userId: twin.id, password: PASSWORD }), Conflict)
    const refusals: unknown[] = []
    for (const [email, password] of [['nobody@example.com', PASSWORD], ['ops@example.com', 'the wrong passphrase']]) {
      const err = await signIn(deps, { email: email!, password: password!, address: 'a', userAgent: 'u', policy: POLICY }).catch((e: unknown) => e)
      assert.ok(err instanceof SignInRefused)
      refusals.push([err.code, err.message, err.kind])
    }
    assert.deepEqual(refusals[0], refusals[1])
    await updateUser(deps, { userId: user.id, disabled: true })
    await assert.rejects(signIn(deps, { email: 'ops@example.com', password: PASSWORD, address: 'a', userAgent: 'u', policy: POLICY }), SignInRefused)
    assert.equal(await resumeSession(deps, { sessionId: 'x'.repeat(500), policy: POLICY }), undefined)
  })
})
