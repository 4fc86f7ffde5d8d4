import assert from 'node:assert/strict'
import { test } from 'node:test'
import { generateMasterKey, parseMasterKey } from './master-key.js'
import { createSealer, UnsealError } from './sealing.js'

const sealer = () => createSealer(parseMasterKey(generateMasterKey(), 'test'))

test('sealed values open only with the same master key and associated data', () => {
  const a = sealer()
  const sealed = a.seal('-----BEGIN PRIVATE KEY-----', 'kid-1')
  assert.ok(!sealed.includes('PRIVATE'))
  assert.equal(a.unseal(sealed, 'kid-1'), '-----BEGIN PRIVATE KEY-----')
  assert.throws(() => a.unseal(sealed, 'kid-2'), UnsealError, 'moved to another record')
  assert.throws(() => sealer().unseal(sealed, 'kid-1'), UnsealError, 'another master key')
  const [v, iv, ct, tag] = sealed.split('.')
  const flipped = `${v}.${iv}.${ct?.slice(0, -2)}AA.${tag}`
  assert.throws(() => a.unseal(flipped, 'kid-1'), UnsealError, 'tampered')
  assert.throws(() => a.unseal('garbage', 'kid-1'), UnsealError)
})
