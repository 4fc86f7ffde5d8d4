import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
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

test('standard output: a silent logger makes no flush timer; an ended one stops it and still writes what comes after', async () => {
  // In a process of its own: it writes to its standard output and counts its writes there.
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import fs from 'node:fs'
    import { setTimeout as sleep } from 'node:timers/promises'
    const { createLoggers } = await import(${JSON.stringify(new URL('./logger.js', import.meta.url).href)})
    let writes = 0
    const write = fs.write
    fs.write = (...args) => { writes++; return write(...args) }
    const counted = async () => { writes = 0; await sleep(700); return writes }
    createLoggers('silent').log.info('not written')
    const silent = await counted()
    const loggers = createLoggers('info')
    loggers.log.info('first')
    const open = await counted()
    loggers.end()
    const ended = await counted()
    loggers.log.info('after the end')
    process.stderr.write(JSON.stringify({ silent, open, ended }))
  `], { encoding: 'utf8' })
  assert.equal(child.status, 0, child.stderr)
  const counts = JSON.parse(child.stderr) as { silent: number; open: number; ended: number }
  assert.equal(counts.silent, 0, 'a silent logger writes nothing, ever')
  assert.ok(counts.open >= 2, `an open one flushes every 250 ms: ${counts.open} writes`)
  assert.equal(counts.ended, 0, 'an ended one has stopped flushing')
  assert.deepEqual(child.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg), ['first', 'after the end'])
})
