import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { randomToken } from './random.js'

/** 256 random bits: the id the session cookie carries. */
export const newSessionId = (): string => randomToken(32)

/** Only this is stored: a copy of the sessions table opens no session. */
export const hashSessionId = (id: string): string => createHash('sha256').update(id).digest('base64url')

/**
 * The CSRF token of a session: derived from its id, so the server stores nothing more and can
 * hand it out again; it reveals nothing of the id, and a token of one session fits no other.
 */
export const csrfTokenFor = (sessionId: string): string => createHmac('sha256', sessionId).update('keymint csrf token').digest('base64url')

export function csrfTokenMatches(sessionId: string, presented: string): boolean {
  const expected = Buffer.from(csrfTokenFor(sessionId))
  const given = Buffer.from(presented)
  return given.length === expected.length && timingSafeEqual(given, expected)
}
