import { createHash, randomUUID } from 'node:crypto'
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type KeyObject } from 'jose'

/**
 * A key pair of your own for DPoP proofs, with the JWS algorithm it signs with (ES256, ES384,
 * ES512, EdDSA, RS256/384/512 or PS256/384/512): WebCrypto `CryptoKey`s or node:crypto `KeyObject`s.
 *
 * @example
 * ```ts
 * const { privateKey, publicKey } = await generateKeyPair('ES256')
 * const keyPair: DPoPKeyPair = { alg: 'ES256', privateKey, publicKey }
 * ```
 */
export interface DPoPKeyPair {
  readonly alg: string
  readonly privateKey: CryptoKey | KeyObject
  readonly publicKey: CryptoKey | KeyObject
}

/**
 * DPoP (RFC 9449) for a {@link TokenClient}: `true` for a fresh, non-extractable ES256 key kept
 * for the client's lifetime, `{ alg: 'EdDSA' }` for a fresh Ed25519 one, or `{ keyPair }` for a
 * key of your own (to keep it across restarts, or in an HSM-backed `CryptoKey`).
 *
 * @example
 * ```ts
 * const dpop: DPoPOption = { alg: 'EdDSA' }
 * ```
 */
export type DPoPOption = boolean | { readonly alg?: 'ES256' | 'EdDSA' | undefined } | { readonly keyPair: DPoPKeyPair }

const ASYMMETRIC = new Set(['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'])
/** Origins whose nonce is remembered; more is not a client talking to a few servers. */
const MAX_NONCES = 100

interface ProofKey {
  readonly alg: string
  readonly privateKey: CryptoKey | KeyObject
  readonly jwk: JWK
  readonly jkt: string
}

/** The URL a proof's `htu` names: no query, no fragment (RFC 9449 §4.2). */
function htuOf(url: string): string {
  const parsed = new URL(url)
  parsed.search = ''
  parsed.hash = ''
  return parsed.href
}

async function loadKey(option: Exclude<DPoPOption, false>): Promise<ProofKey> {
  let alg: string
  let privateKey: CryptoKey | KeyObject
  let publicKey: CryptoKey | KeyObject
  if (typeof option === 'object' && 'keyPair' in option) {
    ({ alg, privateKey, publicKey } = option.keyPair)
  } else {
    alg = (option === true ? undefined : option.alg) ?? 'ES256'
    // The private half never leaves the process: not extractable.
    ;({ privateKey, publicKey } = await generateKeyPair(alg, { extractable: false }))
  }
  const exported = await exportJWK(publicKey)
  // Only the public members ride in the proof's header.
  const jwk: JWK = Object.fromEntries(Object.entries(exported).filter(([name]) => ['kty', 'crv', 'x', 'y', 'n', 'e'].includes(name)))
  return { alg, privateKey, jwk, jkt: await calculateJwkThumbprint(jwk, 'sha256') }
}

/**
 * Checks a DPoP option at construction, so a bad one fails there and not at the first request.
 *
 * @param option - what the caller passed
 * @example
 * ```ts
 * checkDPoPOption({ alg: 'EdDSA' })
 * ```
 */
export function checkDPoPOption(option: unknown): void {
  if (option === undefined || typeof option === 'boolean') return
  if (typeof option !== 'object' || option === null) throw new TypeError('TokenClient: dpop must be true, { alg } or { keyPair }')
  if ('keyPair' in option) {
    const pair = (option as { keyPair: unknown }).keyPair as Partial<DPoPKeyPair> | undefined
    if (!pair || typeof pair.alg !== 'string' || !ASYMMETRIC.has(pair.alg) || !pair.privateKey || !pair.publicKey) {
      throw new TypeError(`TokenClient: dpop.keyPair needs privateKey, publicKey and an alg of ${[...ASYMMETRIC].join(', ')}`)
    }
    return
  }
  const alg = (option as { alg?: unknown }).alg
  if (alg !== undefined && alg !== 'ES256' && alg !== 'EdDSA') throw new TypeError('TokenClient: dpop.alg must be ES256 or EdDSA (or give a keyPair)')
}

/**
 * Makes DPoP proofs (RFC 9449 §4.2) with one key for its whole life, and remembers each server's
 * latest nonce (§8, §9), so the next proof for that server carries it.
 *
 * @example
 * ```ts
 * const prover = new DPoPProver(true, Date.now)
 * headers.set('dpop', await prover.proof('POST', tokenEndpoint))
 * ```
 */
export class DPoPProver {
  readonly #option: Exclude<DPoPOption, false>
  readonly #now: () => number
  #key: Promise<ProofKey> | undefined
  readonly #nonces = new Map<string, string>()

  /**
   * @param option - the key to use, or how to make one
   * @param now - the current time in milliseconds
   */
  constructor(option: Exclude<DPoPOption, false>, now: () => number) {
    this.#option = option
    this.#now = now
  }

  #keyOnce(): Promise<ProofKey> {
    this.#key ??= loadKey(this.#option)
    // A failed generation or import is tried again by the next call, not remembered.
    this.#key.catch(() => { this.#key = undefined })
    return this.#key
  }

  /**
   * RFC 7638 thumbprint of the public key: what tokens bound to it carry as `cnf.jkt`.
   *
   * @example
   * ```ts
   * const jkt = await prover.thumbprint()
   * ```
   */
  async thumbprint(): Promise<string> {
    return (await this.#keyOnce()).jkt
  }

  /**
   * A proof for one request: `htm`, `htu` (without query and fragment), a fresh `iat` and `jti`,
   * the server's nonce when it gave one, and `ath` when the request carries an access token.
   *
   * @param method - the request method
   * @param url - the absolute request URL
   * @param accessToken - the DPoP-bound token the request presents, if any
   * @example
   * ```ts
   * const proof = await prover.proof('GET', 'https://api.example.com/reports', token)
   * ```
   */
  async proof(method: string, url: string, accessToken?: string): Promise<string> {
    const key = await this.#keyOnce()
    const nonce = this.#nonces.get(new URL(url).origin)
    return new SignJWT({
      htm: method.toUpperCase(),
      htu: htuOf(url),
      jti: randomUUID(),
      ...(nonce === undefined ? {} : { nonce }),
      ...(accessToken === undefined ? {} : { ath: createHash('sha256').update(accessToken).digest('base64url') }),
    })
      .setProtectedHeader({ alg: key.alg, typ: 'dpop+jwt', jwk: key.jwk })
      .setIssuedAt(Math.floor(this.#now() / 1000))
      .sign(key.privateKey)
  }

  /**
   * Remembers the `DPoP-Nonce` a server sent, if any; true when it sent one.
   *
   * @param url - where the response came from
   * @param response - its headers
   * @example
   * ```ts
   * prover.noteNonce(url, res)
   * ```
   */
  noteNonce(url: string, response: { readonly headers: Headers }): boolean {
    const nonce = response.headers.get('dpop-nonce')
    // RFC 9449 §8.1: nonce = 1*NQCHAR; anything else is not sent back.
    if (nonce === null || !/^[\x21\x23-\x5b\x5d-\x7e]{1,1024}$/.test(nonce)) return false
    const origin = new URL(url).origin
    this.#nonces.delete(origin)
    if (this.#nonces.size >= MAX_NONCES) this.#nonces.delete(this.#nonces.keys().next().value as string)
    this.#nonces.set(origin, nonce)
    return true
  }
}

/**
 * Whether a resource server's 401 asks for a (new) nonce: `WWW-Authenticate: DPoP error="use_dpop_nonce"` (RFC 9449 §9).
 *
 * @param response - the 401
 * @example
 * ```ts
 * if (asksForNonce(res)) retryWithNewProof()
 * ```
 */
export function asksForNonce(response: { readonly headers: Headers }): boolean {
  return /(^|[\s,])DPoP\b[^]*error="?use_dpop_nonce"?/i.test(response.headers.get('www-authenticate') ?? '')
}
