/**
 * Raw RS256 signing rate on whatever core this process is pinned to: node:crypto's one-shot
 * sign (keymint's hot path, src/crypto/jws.ts) and jose's SignJWT, over a token-sized payload.
 * Usage: node dist/bench/sign-rate.js [seconds per signer]. Prints one JSON line.
 */
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { importPKCS8, SignJWT } from 'jose'

const seconds = Number(process.argv[2] ?? 3)
if (!(seconds > 0)) throw new Error(`bad duration ${JSON.stringify(process.argv[2])}`)

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
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

function nodeCryptoSigner(key: KeyObject): () => string {
  const prefix = `${Buffer.from(JSON.stringify({ alg: 'RS256', kid, typ })).toString('base64url')}.`
  return () => {
    const input = prefix + Buffer.from(JSON.stringify(claims())).toString('base64url')
    return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`
  }
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

const signNode = nodeCryptoSigner(privateKey)
const joseKey = await importPKCS8(privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), 'RS256')
const signJose = (): Promise<string> => new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid, typ }).sign(joseKey)

// Warm both paths up, then alternate short slices so drift on a noisy machine hits both alike.
await slice(signNode, 300)
await slice(signJose, 300)
const SLICE_MS = 250
const totals = { node: { calls: 0, ms: 0 }, jose: { calls: 0, ms: 0 } }
for (let spent = 0; spent < seconds * 1000; spent += SLICE_MS) {
  for (const [name, fn] of [['node', signNode], ['jose', signJose]] as const) {
    const done = await slice(fn, SLICE_MS)
    totals[name].calls += done.calls
    totals[name].ms += done.ms
  }
}
const perSecond = (t: { calls: number; ms: number }): number => t.calls / (t.ms / 1000)
process.stdout.write(`${JSON.stringify({
  nodeCrypto: perSecond(totals.node),
  jose: perSecond(totals.jose),
  tokenBytes: signNode().length,
  payloadBytes: JSON.stringify(claims()).length,
})}\n`)
