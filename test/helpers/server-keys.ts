import type { SigningAlg } from '../../src/crypto/jws.js'
import { generateEncryptionKey, generateSigningKey, type GeneratedEncryptionKey, type GeneratedSigningKey } from '../../src/crypto/key-generation.js'
import type { ServerKeyGenerator } from '../../src/domain/server-keys.js'

// Two 2048-bit RSA keys were most of what starting a test server cost. A test process makes
// its first keys once, per algorithm, and every test server it starts begins with them, sealed
// under that server's own master key in its own database. Rotations, `signing-keys` and the
// CLI's `serve` still generate keys of their own.
const signing = new Map<SigningAlg, Promise<GeneratedSigningKey>>()
let encryption: Promise<GeneratedEncryptionKey> | undefined

export const pooledServerKeys: ServerKeyGenerator = {
  signing(alg) {
    let key = signing.get(alg)
    if (!key) signing.set(alg, key = generateSigningKey(alg))
    return key
  },
  encryption() {
    encryption ??= generateEncryptionKey()
    return encryption
  },
}
