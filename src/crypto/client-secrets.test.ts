import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createClientSecretService, isWellFormedClientSecret } from './client-secrets.js'
import { generateMasterKey, parseMasterKey } from './master-key.js'

const service = (key = generateMasterKey()) => createClientSecretService(parseMasterKey(key, 'test'))

test('secrets carry 256 random bits behind a scannable prefix', () => {
  const s = service()
  const secrets = new Set(Array.from({ length: 1000 }, () => s.generate()))
  assert.equal(secrets.size, 1000)
  for (const secret of secrets) {
    assert.ok(isWellFormedClientSecret(secret), secret)
    assert.equal(Buffer.from(secret.slice(5), 'base64url').length, 32)
  }
})

test('hashes are keyed: the same secret hashes differently under another master key', () => {
  const a = service()
  const b = service()
  const secret = a.generate()
  assert.ok(a.matches(secret, a.hash(secret)))
  assert.ok(!b.matches(secret, a.hash(secret)))
  assert.ok(!a.matches(`${secret.slice(0, -1)}${secret.endsWith("A") ? "B" : "A"}`, a.hash(secret)))
  assert.ok(!a.matches(secret, Buffer.alloc(3)), 'a hash of the wrong length never matches')
})

test('malformed secrets are recognised before any lookup', () => {
  for (const bad of ['', 'kmsk_', `kmsk_${'a'.repeat(42)}`, `kmsk_${'a'.repeat(44)}`, `xxxx_${'a'.repeat(43)}`, `kmsk_${'a'.repeat(42)}=`]) {
    assert.equal(isWellFormedClientSecret(bad), false, bad)
  }
})

test('master keys must be exactly 32 bytes of base64url', () => {
  assert.throws(() => parseMasterKey('short', 'KEYMINT_MASTER_KEY'), /32 random bytes/)
  assert.throws(() => parseMasterKey(Buffer.alloc(31).toString('base64url'), 'x'), /32 random bytes/)
  assert.equal(parseMasterKey(`${generateMasterKey()}\n`, 'file').length, 32)
})
