import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose'

/** Verifies a token the way a resource server would: JWKS fetched from the server itself. */
export async function verifyAccessToken(baseUrl: string, token: string, audience = baseUrl): Promise<{ payload: JWTPayload; header: Record<string, unknown> }> {
  const jwks = createRemoteJWKSet(new URL(`${baseUrl}/.well-known/jwks.json`))
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer: baseUrl,
    audience,
    typ: 'at+jwt',
    algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
  })
  return { payload, header: protectedHeader as Record<string, unknown> }
}

export const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString()

export const basic = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`
