import assert from 'node:assert/strict'
import { test } from 'node:test'
import { totpCode } from '../../src/crypto/totp.js'
import { Browser, personOf, signedIn } from '../helpers/browser.js'
import { cliBesideServer } from '../helpers/cli.js'
import { describeEachDialect } from '../helpers/dialects.js'

describeEachDialect('the command line and second factors', (dialect) => {
  test('account update requires a second factor of admins; user reset-second-factor turns a lost one off', async (t) => {
    const { s, json, run } = await cliBesideServer(t, dialect)
    const { user, accountId } = await personOf(s)
    const updated = await json<{ require_admin_second_factor: boolean }>(['account', 'update', '--account', accountId, '--require-admin-second-factor', 'true', '--json'])
    assert.equal(updated.require_admin_second_factor, true)
    const bad = await run(['account', 'update', '--account', accountId, '--require-admin-second-factor', 'yes'])
    assert.equal(bad.code, 1)

    const browser = await signedIn(s, user.email)
    assert.equal((await browser.call('GET', '/users')).body.code, 'KEYMINT_SECOND_FACTOR_REQUIRED')
    const secret: string = (await browser.call('POST', '/me/second-factor')).body.secret
    assert.equal((await browser.call('POST', '/me/second-factor/confirm', { otp: totpCode(secret, s.clock.now()) })).status, 200)
    assert.equal((await new Browser(s).signIn(user.email)).body.code, 'KEYMINT_OTP_REQUIRED')

    const reset = await json<{ second_factor: boolean }>(['user', 'reset-second-factor', '--user', user.id, '--json'])
    assert.equal(reset.second_factor, false)
    const after = await new Browser(s).signIn(user.email)
    assert.equal(after.status, 201, 'the password alone again')
    assert.equal(after.body.second_factor_enrollment_required, true, 'and, as the account requires, enrolling first')
    const none = await run(['user', 'reset-second-factor', '--user', user.id])
    assert.equal(none.code, 1, 'nothing to reset')
    const audit = await s.services.database.db.selectFrom('audit_events').select(['action', 'actor']).where('target', 'in', [user.id, accountId]).execute()
    assert.ok(audit.some((e) => e.action === 'user.second_factor_disabled' && e.actor === 'cli'))
    assert.ok(audit.some((e) => e.action === 'account.updated' && e.actor === 'cli'))
  })
})
