import { createHash } from 'node:crypto'
import { randomToken } from './random.js'

/** 256 random bits: the id the session cookie carries. */
export const newSessionId = (): string => randomToken(32)

/** Only this is stored: a copy of the sessions table opens no session. */
export const hashSessionId = (id: string): string => createHash('sha256').update(id).digest('base64url')
