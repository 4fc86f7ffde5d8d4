import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { createLoggers } from './logger.js'

test('both loggers write whole lines, in order, into one stream; the process logger redacts', async () => {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({ write(chunk, _enc, done) { for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>); done() } })
  const { log, requests } = createLoggers('info', stream)
  log.info({ body: { client_secret: 'hunter2-hunter2', password: 'p4ssw0rd-p4ssw0rd' }, req: { headers: { authorization: 'Basic eDp5' } } }, 'refused')
  requests.info({ reqId: 'req-1', route: '/oauth2/token', status: 200 }, 'request completed')
  log.debug('below the level')
  requests.debug('below the level')
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(lines.map((l) => l.msg), ['refused', 'request completed'])
  assert.deepEqual(lines[0]?.body, { client_secret: '[redacted]', password: '[redacted]' })
  assert.deepEqual(lines[0]?.req, { headers: { authorization: '[redacted]' } })
  assert.equal(lines[1]?.route, '/oauth2/token')
})
