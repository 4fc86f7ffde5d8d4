import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { SigningAlg } from '../../src/crypto/jws.js'
import { generateEncryptionKey, generateSigningKey, type GeneratedEncryptionKey, type GeneratedSigningKey } from '../../src/crypto/key-generation.js'
import type { ServerKeyGenerator } from '../../src/domain/server-keys.js'

// Two 2048-bit RSA keys were most of what starting a test server cost. The first keys, per
// algorithm, are made once for all test processes of this build and kept in a directory of the
// system's temp dir named by a hash of the compiled key generation code, like the PostgreSQL
// template; every test server begins with them, sealed under that server's own master key in its
// own database. Rotations, `signing-keys` and the CLI's `serve` still generate keys of their own.
const dir = join(tmpdir(), `keymint-test-keys-${createHash('sha256')
  .update(readFileSync(new URL('../../src/crypto/key-generation.js', import.meta.url)))
  .digest('hex').slice(0, 16)}`)

/** Reads `name` from the shared directory, or makes it and puts it there (atomically: a rename). */
async function shared<T>(name: string, make: () => Promise<T>): Promise<T> {
  const file = join(dir, `${name}.json`)
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T
  } catch {
    // Not made yet, or unreadable: make it.
  }
  const value = await make()
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const temp = `${file}.${randomBytes(6).toString('hex')}`
  writeFileSync(temp, JSON.stringify(value), { mode: 0o600 })
  renameSync(temp, file)
  return value
}

const signing = new Map<SigningAlg, Promise<GeneratedSigningKey>>()
let encryption: Promise<GeneratedEncryptionKey> | undefined

export const pooledServerKeys: ServerKeyGenerator = {
  signing(alg) {
    let key = signing.get(alg)
    if (!key) signing.set(alg, key = shared(`signing-${alg}`, () => generateSigningKey(alg)))
    return key
  },
  encryption() {
    encryption ??= shared('encryption', generateEncryptionKey)
    return encryption
  },
}
