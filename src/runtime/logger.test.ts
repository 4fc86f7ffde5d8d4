import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { createLoggers } from './logger.js'

test('both loggers write whole lines, in order, into one stream; the process logger redacts', async () => {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({ write(chunk, _enc, done) { for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>); done() } })
  const { log, requests } = createLoggers('info', stream)
  const body = { client_secret: 's', password: 's', token: 's', current_password: 's', new_password: 's', otp: 's', secret: 's', csrf_token: 's', recovery_codes: ['s'], client_assertion: 's' }
  log.info({ body, req: { headers: { authorization: 'Basic eDp5', 'x-csrf-token': 's', cookie: 's' } } }, 'refused')
  requests.info({ reqId: 'req-1', route: '/oauth2/token', status: 200 }, 'request completed')
  log.debug('below the level')
  requests.debug('below the level')
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(lines.map((l) => l.msg), ['refused', 'request completed'])
  assert.deepEqual(lines[0]?.body, Object.fromEntries(Object.keys(body).map((k) => [k, '[redacted]'])))
  assert.deepEqual(lines[0]?.req, { headers: { authorization: '[redacted]', 'x-csrf-token': '[redacted]', cookie: '[redacted]' } })
  assert.equal(lines[1]?.route, '/oauth2/token')
})
