import { randomBytes, randomUUID } from 'node:crypto'

// The one source of randomness for secrets and ids, so tests can see where it comes from.
export const randomToken = (bytes: number): string => randomBytes(bytes).toString('base64url')
export const randomId = (): string => randomUUID()
export const randomSecretBytes = (bytes: number): Buffer => randomBytes(bytes)
