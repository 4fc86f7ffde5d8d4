import assert from 'node:assert/strict'
import { test } from 'node:test'
import { generateMasterKey } from '../../src/crypto/master-key.js'
import { serve } from '../helpers/cli.js'
import { createTestDatabase, describeEachDialect } from '../helpers/dialects.js'
import { tempDir } from '../helpers/server.js'

const NEW_PASSWORD = 'my new secret passphrase'
const WRONG_PASSWORD = 'a wrong guess of a password'

describeEachDialect('no password, session id or CSRF token is ever written down', (dialect) => {
  test('in the log (at trace level), the audit log, or an error body', async (t) => {
    const dir = tempDir(t)
    const db = await createTestDatabase(t, dialect, dir)
    const server = await serve(t, ['--db', db.url, '--port', '0'], {
      cwd: dir, env: { KEYMINT_MASTER_KEY: generateMasterKey(), KEYMINT_LOG_LEVEL: 'trace', KEYMINT_LAST_USED_FLUSH: '1s', KEYMINT_BOOTSTRAP_ADMIN_EMAIL: 'root@example.com' },
    })
    const welcome = server.output()
    const oneTime = /one-time password[^\n]*\n\s+(\S+)/.exec(welcome)?.[1]
    assert.ok(oneTime, `the first start prints a one-time password:\n${welcome}`)
    assert.match(welcome, new RegExp(`Sign in to the dashboard at ${server.url.replace(/[.]/g, '\\.')}/|the address on the "listening" line`))

    const secrets = new Set<string>([oneTime, NEW_PASSWORD, WRONG_PASSWORD])
    const bodies: string[] = []
    const origin = new URL(server.url).origin
    let cookie = ''
    let csrf = ''
    const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(`${server.url}/api/v1${path}`, {
        method,
        headers: { cookie, origin, ...(csrf ? { 'x-csrf-token': csrf } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      const text = await res.text()
      bodies.push(text)
      const set = res.headers.getSetCookie().find((c) => c.startsWith('keymint_session='))
      const value = set?.split(';')[0]?.split('=')[1]
      if (value) {
        secrets.add(value)
        cookie = `keymint_session=${value}`
      }
      const parsed = text ? JSON.parse(text) as { csrf_token?: string } : {}
      if (parsed.csrf_token) {
        secrets.add(parsed.csrf_token)
        csrf = parsed.csrf_token
      }
      return res.status
    }

    assert.equal(await call('POST', '/sessions', { email: 'root@example.com', password: WRONG_PASSWORD }), 401)
    assert.equal(await call('POST', '/sessions', { email: 'nobody@example.com', password: WRONG_PASSWORD }), 401)
    assert.equal(await call('POST', '/sessions', { email: 'root@example.com', password: oneTime }), 201)
    assert.equal(await call('POST', '/me/password', { current_password: WRONG_PASSWORD, new_password: NEW_PASSWORD }), 400)
    assert.equal(await call('POST', '/me/password', { current_password: oneTime, new_password: NEW_PASSWORD }), 200)
    assert.equal(await call('POST', '/users', { email: 'x@example.com' }, { 'x-csrf-token': 'not-the-token' }), 403)
    assert.equal(await call('POST', '/users', { email: 'y@example.com' }, { origin: 'https://evil.example' }), 403)
    assert.equal(await call('POST', '/me/key-pair', {}), 201)
    assert.equal(await call('GET', '/sessions'), 200)
    const ended = cookie
    assert.equal(await call('DELETE', '/sessions/current'), 204)
    cookie = ended
    assert.equal(await call('GET', '/sessions/current'), 401)
    cookie = ''
    csrf = ''
    assert.equal(await call('POST', '/sessions', { email: 'root@example.com', password: NEW_PASSWORD }), 201)
    // Malformed JSON that quotes a password must not be echoed either.
    const malformed = await fetch(`${server.url}/api/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: `{"email":"root@example.com","password":"${NEW_PASSWORD}"` })
    bodies.push(await malformed.text())
    assert.equal(malformed.status, 400)

    // Refused sign-ins are written in batches, every second here: wait for them.
    let audit = ''
    for (let tries = 0; tries < 100 && !audit.includes('sign_in.refused'); tries++) {
      if (tries > 0) await new Promise((resolve) => setTimeout(resolve, 100))
      assert.equal(await call('GET', '/audit-events?limit=500'), 200)
      audit = bodies.pop() ?? ''
    }
    assert.match(audit, /sign_in\.refused/)
    assert.match(audit, /session\.created/)
    assert.match(audit, /user\.password_set/)

    server.child.kill('SIGTERM')
    await server.exited
    const log = server.output().slice(welcome.length)
    assert.ok(log.split('\n').length > 5, `something was logged:\n${log}`)
    for (const secret of secrets) {
      assert.ok(!log.includes(secret), `the log holds ${secret.slice(0, 4)}…:\n${log}`)
      // The CSRF token is handed out in the body on purpose; nothing else is.
      for (const body of bodies) assert.ok(!body.replace(/"csrf_token":"[^"]*"/, '').includes(secret), `an answer holds ${secret.slice(0, 4)}…: ${body}`)
      assert.ok(!audit.includes(secret), `the audit log holds ${secret.slice(0, 4)}…`)
    }
  })
})
