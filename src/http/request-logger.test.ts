import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { pino } from 'pino'
import { lazyChildLogger } from './request-logger.js'

function logger(level: string) {
  const lines: Record<string, unknown>[] = []
  const stream = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(String(chunk)) as Record<string, unknown>); done() } })
  const parent = pino({ level }, stream)
  let children = 0
  const child = parent.child.bind(parent)
  parent.child = ((...args: Parameters<typeof child>) => { children++; return child(...args) }) as typeof parent.child
  return { parent, lines, children: () => children }
}

test('a request logger makes its child only when a line is written, and the line carries the request id', async () => {
  const l = logger('info')
  const quiet = lazyChildLogger(l.parent, { reqId: 'req-1' }, {})
  quiet.debug('below the level')
  assert.equal(l.children(), 0, 'nothing logged: no child made')
  const loud = lazyChildLogger(l.parent, { reqId: 'req-2' }, {})
  loud.info({ code: 'X' }, 'request refused')
  loud.warn('again')
  await new Promise((resolve) => setImmediate(resolve))
  assert.equal(l.children(), 1, 'one child for the request, made once')
  assert.deepEqual(l.lines.map((line) => [line.reqId, line.msg]), [['req-2', 'request refused'], ['req-2', 'again']])
  assert.equal(loud.level, 'info')
})

test('a route-level log level applies to the request logger', async () => {
  const l = logger('warn')
  const verbose = lazyChildLogger(l.parent, { reqId: 'req-3' }, { level: 'debug' })
  verbose.debug('shown: the route asked for debug')
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(l.lines.map((line) => line.msg), ['shown: the route asked for debug'])
})
