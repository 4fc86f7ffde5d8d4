import assert from 'node:assert/strict'
import { test } from 'node:test'
import { InvalidRequest } from '../oauth/errors.js'
import { parseFormBody } from './form-body.js'

test('parses form encoding the way RFC 6749 clients send it', () => {
  assert.deepEqual({ ...parseFormBody('grant_type=client_credentials&scope=a%3Aread+b&x=') }, { grant_type: 'client_credentials', scope: 'a:read b', x: '' })
  assert.deepEqual({ ...parseFormBody('') }, {})
  assert.deepEqual({ ...parseFormBody('flag') }, { flag: '' })
})

test('prototype keys are plain data', () => {
  const parsed = parseFormBody('__proto__=x&constructor=y')
  assert.equal(parsed.__proto__, 'x')
  assert.equal(({} as Record<string, unknown>).x, undefined)
})

for (const [name, body] of [['repeated parameter', 'a=1&a=2'], ['bad percent-encoding', 'a=%'], ['truncated utf-8', 'a=%E0%A4']] as const) {
  test(`refuses ${name}`, () => assert.throws(() => parseFormBody(body), InvalidRequest))
}
