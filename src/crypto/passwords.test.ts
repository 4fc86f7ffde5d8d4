import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createPasswordHasher, passwordProblem } from './passwords.js'

test('a password hash carries its parameters and salt; it verifies only the same password', async () => {
  const passwords = createPasswordHasher()
  const hash = await passwords.hash('correct horse battery staple')
  assert.match(hash, /^scrypt\$32768\$8\$1\$[\w-]{22}\$[\w-]{43}$/, 'the default: N = 2^15, r = 8')
  assert.notEqual(await passwords.hash('correct horse battery staple'), hash, 'a salt of its own each time')
  assert.equal(await passwords.verify('correct horse battery staple', hash), true)
  assert.equal(await passwords.verify('correct horse battery stapler', hash), false)
  assert.equal(passwords.needsRehash(hash), false)
  assert.equal(passwords.needsRehash(hash.replace('$32768$', '$16384$')), true, 'weaker parameters are re-hashed later')
})

test('a hash made at another cost carries it: any hasher verifies it, and a stronger one wants it re-hashed', async () => {
  const cheap = createPasswordHasher(10)
  const strong = createPasswordHasher(16)
  const hash = await cheap.hash('correct horse battery staple')
  assert.match(hash, /^scrypt\$1024\$8\$1\$/)
  assert.equal(await strong.verify('correct horse battery staple', hash), true)
  assert.equal(await strong.verify('correct horse battery stapler', hash), false)
  assert.equal(strong.needsRehash(hash), true)
  assert.equal(cheap.needsRehash(hash), false)
})

test('malformed or hostile stored hashes never match and never throw', async () => {
  const passwords = createPasswordHasher()
  for (const stored of ['', 'plain', 'scrypt$0$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', 'scrypt$4194304$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
    assert.equal(await passwords.verify('whatever password', stored), false, stored)
  }
  assert.equal(await passwords.verifyAgainstNothing('whatever password'), false)
})

test('passwords shorter than 12 characters or in the common list are refused', () => {
  assert.match(passwordProblem('short') ?? '', /at least 12/)
  assert.match(passwordProblem('123456789012') ?? '', /commonly used/)
  assert.match(passwordProblem('PasswordPassword') ?? '', /commonly used/, 'case does not help')
  assert.equal(passwordProblem('a long passphrase of my own'), undefined)
})
