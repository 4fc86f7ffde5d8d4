import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { generateKeyPair, importPKCS8, importSPKI, type CryptoKey } from 'jose'
import { MadeOnce } from './made-once.js'

// A 2048-bit RSA key pair costs ~0.25 s of CPU to make, and tests needed some 130 of them for
// what they are about (a client's or an issuer's signing key, an API's encryption key), never
// for the making. These are made once per machine, POOL_SIZE of them, and handed out in turn:
// the asks of one process get different pairs, up to POOL_SIZE in a row.
const POOL_SIZE = 16
const pool = new MadeOnce('keymint-test-rsa-2048-v1')
let next = 0

interface Pem { readonly privateKey: string; readonly publicKey: string }

function nextPem(): Pem {
  const index = next++ % POOL_SIZE
  return pool.get(`pair-${index}`, (): Pem => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    return { privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicKey: publicKey.export({ format: 'pem', type: 'spki' }).toString() }
  })
}

/** A 2048-bit RSA key pair, as `generateKeyPairSync('rsa', { modulusLength: 2048 })` gives one. */
export function rsaKeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  const pem = nextPem()
  return { privateKey: createPrivateKey(pem.privateKey), publicKey: createPublicKey(pem.publicKey) }
}

/** A key pair for `alg`, as jose's `generateKeyPair(alg, { extractable: true })` gives one; RSA pairs come from the pool. */
export async function testKeyPair(alg: string): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }> {
  if (alg !== 'RS256' && alg !== 'PS256') return generateKeyPair(alg, { extractable: true })
  const pem = nextPem()
  return { privateKey: await importPKCS8(pem.privateKey, alg, { extractable: true }), publicKey: await importSPKI(pem.publicKey, alg, { extractable: true }) }
}
