function decodeBase64Url(part: string): string {
  const base64 = part.replace(/-/g, '+').replace(/_/g, '/')
  const binary = atob(base64.padEnd(base64.length + ((4 - (base64.length % 4)) % 4), '='))
  return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)))
}

function readClaims(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.')
  // A compact JWS has three parts; a JWE (five) is opaque without the server's private key.
  if (parts.length !== 3 || parts[1] === undefined) return undefined
  try {
    const claims: unknown = JSON.parse(decodeBase64Url(parts[1]))
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? claims as Record<string, unknown> : undefined
  } catch {
    return undefined
  }
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

/**
 * The lifetime of a signed JWT in seconds, read from its claims without verifying it (the client
 * only schedules its refresh by it; the API verifies): `exp − iat` when both are present, which
 * is immune to clock skew between client and server, else `exp` against the local clock.
 * Undefined for anything else, such as an encrypted token.
 *
 * @param token - a compact JWS
 * @param nowMs - the local time, used only when `iat` is absent
 * @example
 * ```ts
 * jwtLifetimeSeconds(await res.text(), Date.now()) // 14400
 * ```
 */
export function jwtLifetimeSeconds(token: string, nowMs: number): number | undefined {
  const claims = readClaims(token)
  if (claims === undefined || !isNumber(claims.exp)) return undefined
  if (isNumber(claims.iat) && claims.iat <= claims.exp) return claims.exp - claims.iat
  return Math.max(0, claims.exp - nowMs / 1000)
}
