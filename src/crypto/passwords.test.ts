import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hashPassword, needsRehash, passwordProblem, verifyAgainstNothing, verifyPassword } from './passwords.js'

test('a password hash carries its parameters and salt; it verifies only the same password', async () => {
  const hash = await hashPassword('correct horse battery staple')
  assert.match(hash, /^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/)
  assert.notEqual(await hashPassword('correct horse battery staple'), hash, 'a salt of its own each time')
  assert.equal(await verifyPassword('correct horse battery staple', hash), true)
  assert.equal(await verifyPassword('correct horse battery stapler', hash), false)
  assert.equal(needsRehash(hash), false)
  assert.equal(needsRehash(hash.replace('$32768$', '$16384$')), true, 'weaker parameters are re-hashed later')
})

test('malformed or hostile stored hashes never match and never throw', async () => {
  for (const stored of ['', 'plain', 'scrypt$0$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'scrypt$4194304$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
    assert.equal(await verifyPassword('whatever password', stored), false, stored)
  }
  assert.equal(await verifyAgainstNothing('whatever password'), false)
})

test('passwords shorter than 12 characters or in the common list are refused', () => {
  assert.match(passwordProblem('short') ?? '', /at least 12/)
  assert.match(passwordProblem('123456789012') ?? '', /commonly used/)
  assert.match(passwordProblem('PasswordPassword') ?? '', /commonly used/, 'case does not help')
  assert.equal(passwordProblem('a long passphrase of my own'), undefined)
})
