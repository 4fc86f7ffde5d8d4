import { generateOneTimePassword, passwordProblem, type PasswordHasher } from '../crypto/passwords.js'
import { auditEvent, DEFAULT_ACTOR } from './audit.js'
import { Conflict, InvalidInput } from './errors.js'
import type { Clock, Store } from './ports.js'
import type { User } from './types.js'
import { getUser } from './users.js'

/**
 * Sets a user's password (checked against the policy, stored as an scrypt hash) and ends every
 * session of the user. Signing in is by email alone, so two users who can sign in never share one.
 */
export async function setUserPassword(
  deps: { store: Store; clock: Clock; passwords: PasswordHasher },
  input: { userId: string; password: string; changeRequired?: boolean; actor?: string },
): Promise<void> {
  const problem = passwordProblem(input.password)
  if (problem) throw new InvalidInput('KEYMINT_WEAK_PASSWORD', problem)
  const user = await getUser(deps.store, input.userId)
  const others = (await deps.store.users.findSignIn(user.email)).filter((u) => u.user.id !== user.id)
  if (others.length > 0) throw new Conflict('KEYMINT_EMAIL_TAKEN', `another user with the email ${user.email} can sign in already`)
  // Hashing takes tens of milliseconds: outside the transaction.
  const hash = await deps.passwords.hash(input.password)
  await deps.store.transaction(async (tx) => {
    const now = deps.clock.now()
    await tx.users.setPassword(user.id, hash, input.changeRequired ?? false, now)
    const ended = await tx.sessions.revokeAllForUser(user.id, now)
    await tx.audit.insert([auditEvent({
      accountId: user.accountId, actor: input.actor ?? DEFAULT_ACTOR, action: 'user.password_set', target: user.id,
      details: { sessions_ended: ended, change_required: input.changeRequired ?? false }, createdAt: now,
    })])
  })
}

/**
 * A signed-in user replaces their own password, proving the current one first (a session left
 * open on a shared screen must not be enough). Every session of the user ends.
 */
export async function changeOwnPassword(
  deps: { store: Store; clock: Clock; passwords: PasswordHasher },
  input: { user: User; currentPassword: string; newPassword: string },
): Promise<void> {
  const own = (await deps.store.users.findSignIn(input.user.email)).find((c) => c.user.id === input.user.id)
  if (!own || !await deps.passwords.verify(input.currentPassword, own.passwordHash)) {
    throw new InvalidInput('KEYMINT_WRONG_PASSWORD', 'the current password is wrong')
  }
  if (input.newPassword === input.currentPassword) throw new InvalidInput('KEYMINT_WEAK_PASSWORD', 'the new password must differ from the current one')
  await setUserPassword(deps, { userId: input.user.id, password: input.newPassword, actor: `user:${input.user.id}` })
}

/**
 * Gives a user a generated password that must be replaced at the first sign-in (the bootstrap
 * admin's, printed once by the first `serve`). Returns it: it is stored only as a hash.
 */
export async function issueOneTimePassword(deps: { store: Store; clock: Clock; passwords: PasswordHasher }, input: { userId: string; actor?: string }): Promise<string> {
  const password = generateOneTimePassword()
  await setUserPassword(deps, { userId: input.userId, password, changeRequired: true, ...(input.actor ? { actor: input.actor } : {}) })
  return password
}
