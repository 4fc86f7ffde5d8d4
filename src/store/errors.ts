import { Conflict } from '../domain/errors.js'

/** SQLite and PostgreSQL report a unique violation differently; the domain sees one Conflict. */
export function translateUniqueViolation(err: unknown, message: string): unknown {
  const code = (err as { code?: unknown }).code
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === '23505') {
    return new Conflict(message.includes('email') ? 'KEYMINT_EMAIL_TAKEN' : 'KEYMINT_CONFLICT', message, { cause: err })
  }
  return err
}

export const toDate = (ms: number): Date => new Date(ms)
export const toDateOrNull = (ms: number | null): Date | null => (ms === null ? null : new Date(ms))
