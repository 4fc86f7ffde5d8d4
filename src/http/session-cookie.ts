import type { CookieSerializeOptions } from '@fastify/cookie'
import type { FastifyReply } from 'fastify'

/**
 * The dashboard's session cookie. Over https it is `__Host-` prefixed (the browser then insists
 * on Secure, Path=/ and no Domain, so no subdomain can plant or read it); over plain http, on a
 * developer's loopback, it cannot be and is named without the prefix.
 */
export interface SessionCookie {
  readonly name: string
  readonly secure: boolean
}

export function sessionCookieFor(issuer: string): SessionCookie {
  const secure = issuer.startsWith('https:')
  return { name: secure ? '__Host-keymint_session' : 'keymint_session', secure }
}

const attributes = (cookie: SessionCookie): CookieSerializeOptions => ({ httpOnly: true, sameSite: 'lax', path: '/', secure: cookie.secure })

export function setSessionCookie(reply: FastifyReply, cookie: SessionCookie, sessionId: string, expiresAt: Date): void {
  reply.setCookie(cookie.name, sessionId, { ...attributes(cookie), expires: expiresAt })
}

export function clearSessionCookie(reply: FastifyReply, cookie: SessionCookie): void {
  reply.clearCookie(cookie.name, attributes(cookie))
}
