import { constants, sign, type KeyObject } from 'node:crypto'

export type SigningAlg = 'RS256' | 'PS256' | 'ES256' | 'EdDSA'
export const SIGNING_ALGS: readonly SigningAlg[] = ['RS256', 'PS256', 'ES256', 'EdDSA']

/** Signs compact JWS with one prepared key. */
export interface CompactSigner {
  readonly kid: string
  readonly alg: SigningAlg
  sign(payload: Readonly<Record<string, unknown>>): string
}

/**
 * The token hot path: node:crypto's one-shot synchronous sign over a prepared KeyObject.
 * It is measurably faster than WebCrypto (jose) for RSA, and the header is encoded once.
 * Output is standard compact JWS (RFC 7515), verified with jose in the tests.
 */
export function createCompactSigner(key: { kid: string; alg: SigningAlg; privateKey: KeyObject }, typ: string): CompactSigner {
  const header = Buffer.from(JSON.stringify({ alg: key.alg, kid: key.kid, typ })).toString('base64url')
  const prefix = `${header}.`
  const privateKey = key.privateKey
  let signInput: (data: Buffer) => Buffer
  switch (key.alg) {
    case 'RS256':
      signInput = (data) => sign('sha256', data, privateKey)
      break
    case 'PS256':
      signInput = (data) => sign('sha256', data, {
        key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32,
      })
      break
    case 'ES256':
      signInput = (data) => sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' })
      break
    case 'EdDSA':
      signInput = (data) => sign(null, data, privateKey)
      break
  }
  return {
    kid: key.kid,
    alg: key.alg,
    sign(payload) {
      const input = prefix + Buffer.from(JSON.stringify(payload)).toString('base64url')
      // The signing input is base64url and dots: ASCII, so latin1 encodes it byte for byte, faster than utf8.
      return `${input}.${signInput(Buffer.from(input, 'latin1')).toString('base64url')}`
    },
  }
}
