import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { SigningAlg } from '../../src/crypto/jws.js'
import { generateEncryptionKey, generateSigningKey, type GeneratedEncryptionKey, type GeneratedSigningKey } from '../../src/crypto/key-generation.js'
import type { ServerKeyGenerator } from '../../src/domain/server-keys.js'
import { MadeOnce } from './made-once.js'

// Two 2048-bit RSA keys were most of what starting a test server cost. The first keys, per
// algorithm, are made once for all test processes of this build and kept in a directory of the
// system's temp dir named by a hash of the compiled key generation code, like the PostgreSQL
// template; every test server begins with them, sealed under that server's own master key in its
// own database. Rotations, `signing-keys` and the CLI's `serve` still generate keys of their own.
const shared = new MadeOnce(`keymint-test-keys-${createHash('sha256')
  .update(readFileSync(new URL('../../src/crypto/key-generation.js', import.meta.url)))
  .digest('hex').slice(0, 16)}`)

const signing = new Map<SigningAlg, Promise<GeneratedSigningKey>>()
let encryption: Promise<GeneratedEncryptionKey> | undefined

export const pooledServerKeys: ServerKeyGenerator = {
  signing(alg) {
    let key = signing.get(alg)
    if (!key) signing.set(alg, key = shared.getAsync(`signing-${alg}`, () => generateSigningKey(alg)))
    return key
  },
  encryption() {
    encryption ??= shared.getAsync('encryption', generateEncryptionKey)
    return encryption
  },
}
