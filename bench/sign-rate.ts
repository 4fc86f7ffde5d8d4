/**
 * Raw single-core signing rate of RS256, ES256 and EdDSA on whatever core this process is pinned
 * to: node:crypto's one-shot sign (keymint's hot path, src/crypto/jws.ts) and jose's SignJWT,
 * over a token-sized payload. Short slices of every signer alternate, so drift on a noisy machine
 * hits all of them alike.
 * Usage: node dist/bench/sign-rate.js [seconds per signer]. Prints one JSON line (a SignRates).
 */
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { importPKCS8, SignJWT, type CryptoKey } from 'jose'

export const SIGN_ALGS = ['RS256', 'ES256', 'EdDSA'] as const
export type SignAlg = (typeof SIGN_ALGS)[number]
export type Library = 'nodeCrypto' | 'jose'

export interface SignRates {
  /** Signatures per second, by algorithm and library. */
  readonly rates: Readonly<Record<SignAlg, Readonly<Record<Library, number>>>>
  readonly payloadBytes: number
}

const kid = 'QmVuY2hLZXlUaHVtYnByaW50U2hhMjU2QmFzZTY0dXJs'
const typ = 'at+jwt'

/** The claims keymint mints (src/oauth/mint-access-token.ts), with fresh jti/iat each time. */
function claims(): Record<string, unknown> {
  const iat = Math.floor(Date.now() / 1000)
  return {
    iss: 'http://127.0.0.1:8080',
    sub: randomUUID(),
    aud: 'http://127.0.0.1:8080',
    exp: iat + 14_400,
    iat,
    jti: randomUUID(),
    client_id: randomUUID(),
    scope: 'all',
    account_id: randomUUID(),
    client_level: 'subscription',
  }
}

function generate(alg: SignAlg): KeyObject {
  switch (alg) {
    case 'RS256': return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
    case 'ES256': return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey
    case 'EdDSA': return generateKeyPairSync('ed25519').privateKey
  }
}

/** Mirrors createCompactSigner in src/crypto/jws.ts. */
function nodeCryptoSigner(alg: SignAlg, key: KeyObject): () => string {
  const prefix = `${Buffer.from(JSON.stringify({ alg, kid, typ })).toString('base64url')}.`
  const signInput: (data: Buffer) => Buffer =
    alg === 'RS256' ? (data) => sign('sha256', data, key)
      : alg === 'ES256' ? (data) => sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' })
        : (data) => sign(null, data, key)
  return () => {
    const input = prefix + Buffer.from(JSON.stringify(claims())).toString('base64url')
    return `${input}.${signInput(Buffer.from(input)).toString('base64url')}`
  }
}

function joseSigner(alg: SignAlg, key: CryptoKey): () => Promise<string> {
  return () => new SignJWT(claims()).setProtectedHeader({ alg, kid, typ }).sign(key)
}

/** Calls `fn` back to back for `ms`; returns the calls made and the time they took. */
async function slice(fn: () => unknown, ms: number): Promise<{ calls: number; ms: number }> {
  const start = performance.now()
  const end = start + ms
  let calls = 0
  let now = start
  while (now < end) {
    await fn()
    calls++
    now = performance.now()
  }
  return { calls, ms: now - start }
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 3)
  if (!(seconds > 0)) throw new Error(`bad duration ${JSON.stringify(process.argv[2])}`)

  const signers: { alg: SignAlg; library: Library; fn: () => unknown; calls: number; ms: number }[] = []
  for (const alg of SIGN_ALGS) {
    const key = generate(alg)
    const joseKey = await importPKCS8(key.export({ format: 'pem', type: 'pkcs8' }).toString(), alg)
    signers.push({ alg, library: 'nodeCrypto', fn: nodeCryptoSigner(alg, key), calls: 0, ms: 0 })
    signers.push({ alg, library: 'jose', fn: joseSigner(alg, joseKey), calls: 0, ms: 0 })
  }

  for (const signer of signers) await slice(signer.fn, 300) // warm-up
  const SLICE_MS = 250
  for (let spent = 0; spent < seconds * 1000; spent += SLICE_MS) {
    for (const signer of signers) {
      const done = await slice(signer.fn, SLICE_MS)
      signer.calls += done.calls
      signer.ms += done.ms
    }
  }
  const rates = {} as Record<SignAlg, Record<Library, number>>
  for (const signer of signers) {
    rates[signer.alg] ??= { nodeCrypto: 0, jose: 0 }
    rates[signer.alg][signer.library] = signer.calls / (signer.ms / 1000)
  }
  const result: SignRates = { rates, payloadBytes: JSON.stringify(claims()).length }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

await main()
