import assert from 'node:assert/strict'
import { test } from 'node:test'
import { signIn } from '../../src/domain/sessions.js'
import { cleanup } from '../helpers/cleanup.js'
import { assertJsonFailure, cliDatabase } from '../helpers/cli.js'
import { describeEachDialect } from '../helpers/dialects.js'
import { openServices } from '../../src/services.js'
import { loadConfig } from '../../src/config.js'

const PASSWORD = 'a long passphrase of my own'

describeEachDialect('keymint user set-password (DESIGN §8)', (dialect) => {
  test('reads the password from standard input, refuses weak ones, and never prints it', async (t) => {
    const { run, json, db, env } = await cliDatabase(t, dialect)
    const account = await json<{ id: string }>(['account', 'create', '--name', 'Acme'])
    const user = await json<{ id: string }>(['user', 'create', '--account', account.id, '--email', 'ada@example.com', '--role', 'admin'])
    for (const [name, input, error] of [['too short', 'short\n', 'KEYMINT_WEAK_PASSWORD'], ['common', '123456789012\n', 'KEYMINT_WEAK_PASSWORD'], ['nothing', '', 'KEYMINT_INVALID_INPUT']] as const) {
      const res = await run(['user', 'set-password', '--user', user.id, '--json'], {}, input)
      assertJsonFailure(res, error, name)
    }
    const ok = await run(['user', 'set-password', '--user', user.id, '--json'], {}, `${PASSWORD}\n`)
    assert.equal(ok.code, 0, ok.stderr)
    assert.deepEqual(JSON.parse(ok.stdout), { id: user.id, password_set: true })
    assert.ok(!ok.stdout.includes(PASSWORD) && !ok.stderr.includes(PASSWORD), 'the password is never printed')
    const services = await openServices(loadConfig({ db: db.url }, env))
    cleanup(t, () => services.close())
    const signedIn = await signIn(services, { email: 'ada@example.com', password: PASSWORD, address: 'test', userAgent: 'test', policy: { idleSeconds: 60, absoluteSeconds: 600 } })
    assert.equal(signedIn.user.id, user.id, 'the password signs the user in')
    const audit = await json<{ items: { action: string; details: unknown }[] }>(['audit', 'list', '--account', account.id])
    assert.ok(audit.items.some((e) => e.action === 'user.password_set'))
    assert.ok(!JSON.stringify(audit).includes(PASSWORD), 'nor audited')
  })
})
