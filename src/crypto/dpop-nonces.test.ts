import assert from 'node:assert/strict'
import { test } from 'node:test'
import { createDPoPNonces, DPOP_NONCE_STEP_SECONDS } from './dpop-nonces.js'
import { generateMasterKey, parseMasterKey } from './master-key.js'

const key = () => parseMasterKey(generateMasterKey(), 'test')
const at = (steps: number) => new Date(Date.UTC(2030, 0, 1) + steps * DPOP_NONCE_STEP_SECONDS * 1000)

test('a nonce is the same within its step, accepted a step either side, refused beyond', () => {
  const nonces = createDPoPNonces(key())
  const nonce = nonces.issue(at(10))
  assert.equal(nonces.issue(new Date(at(10).getTime() + 1000)), nonce)
  assert.notEqual(nonces.issue(at(11)), nonce)
  assert.match(nonce, /^[\x21\x23-\x5b\x5d-\x7e]+$/, 'RFC 9449 §8.1 NQCHAR')
  for (const [steps, accepted] of [[9, true], [10, true], [11, true], [12, false], [8, false]] as const) {
    assert.equal(nonces.accepts(nonce, at(steps)), accepted, `${steps - 10} steps later`)
  }
})

test('every instance sharing the master key accepts the others\' nonces; another key, a forged or re-encoded tag do not pass', () => {
  const master = key()
  const nonce = createDPoPNonces(master).issue(at(5))
  assert.equal(createDPoPNonces(master).accepts(nonce, at(5)), true)
  assert.equal(createDPoPNonces(key()).accepts(nonce, at(5)), false)
  assert.equal(createDPoPNonces(key(), [master]).accepts(nonce, at(5)), true, 'made under a master key being rotated out')
  const [step, tag] = nonce.split('.') as [string, string]
  // The last of 22 base64url characters carries 2 bits and 4 spare ones: a variant decodes alike.
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  const variant = `${step}.${tag.slice(0, -1)}${alphabet[alphabet.indexOf(tag.at(-1)!) ^ 1]}`
  assert.deepEqual(Buffer.from(variant.split('.')[1]!, 'base64url'), Buffer.from(tag, 'base64url'), 'the variant decodes to the same bytes')
  for (const forged of [variant, `${(Number.parseInt(step, 36) + 1).toString(36)}.${tag}`, `${step}.${'A'.repeat(22)}`, '', 'x.y', `${nonce}.`]) {
    assert.equal(createDPoPNonces(master).accepts(forged, at(5)), false, forged)
  }
})
