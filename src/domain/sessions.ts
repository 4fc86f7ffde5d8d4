import type { PasswordHasher } from '../crypto/passwords.js'
import { hashSessionId, newSessionId } from '../crypto/session-ids.js'
import { getAccount } from './accounts.js'
import { auditEvent } from './audit.js'
import { NotFound, Unauthenticated } from './errors.js'
import type { Clock, Session, Store } from './ports.js'
import { checkSecondFactor, hasSecondFactor, OtpRefused, secondFactorEnrollmentRequired, type SecondFactorDeps } from './second-factor.js'
import type { Account, User } from './types.js'

export interface SessionPolicy {
  /** A session unused this long ends. */
  readonly idleSeconds: number
  /** A session ends this long after sign-in, however busy. */
  readonly absoluteSeconds: number
}

/** Why a sign-in was refused: for the audit log only; the caller always gets the same answer. */
export type SignInRefusal = 'unknown_email' | 'wrong_password' | 'user_disabled' | 'no_ui_permission' | 'wrong_otp'

export class SignInRefused extends Unauthenticated {
  constructor(readonly reason: SignInRefusal, readonly user: User | undefined, opts: { cause?: unknown } = {}) {
    super('KEYMINT_SIGN_IN_REFUSED', 'the email or password is wrong, or this user may not sign in', opts)
  }
}

// Sessions are touched at most this often, so reading pages does not write on every request.
const TOUCH_EVERY_MS = 60_000
const ENDED_KEPT_MS = 24 * 3600 * 1000

/** DESIGN §1: people sign in to the dashboard while active and holding `ui`. */
const maySignIn = (user: User): SignInRefusal | undefined => (user.disabled ? 'user_disabled' : user.permissions.includes('ui') ? undefined : 'no_ui_permission')

export interface SignedIn {
  /** The session id for the cookie: shown once, never stored. */
  readonly sessionId: string
  readonly session: Session
  readonly user: User
  readonly account: Account
  readonly passwordChangeRequired: boolean
  /** The account requires a second factor of admins and this one has none: the dashboard makes them enroll. */
  readonly secondFactorEnrollmentRequired: boolean
}

/** With a second factor on, signing in takes it too; a wrong or replayed code is refused like a wrong password. */
async function checkSecondFactorAtSignIn(deps: SecondFactorDeps, user: User, otp: string | undefined): Promise<boolean> {
  if (!await hasSecondFactor(deps.store, user)) return false
  try {
    await checkSecondFactor(deps, { user, otp })
  } catch (err) {
    throw err instanceof OtpRefused ? new SignInRefused('wrong_otp', user, { cause: err }) : err
  }
  return true
}

/**
 * Checks an email and password (and the second factor, when the user has one) and opens a
 * session. Every refusal is the same error, and an unknown email costs the same scrypt work as
 * a wrong password, so neither is told apart. Only once the password is right does a user with
 * a second factor who gave no `otp` hear that one is needed (`SecondFactorRequired`).
 */
export async function signIn(
  deps: SecondFactorDeps & { readonly passwords: PasswordHasher },
  input: { email: string; password: string; otp?: string; address: string; userAgent: string; policy: SessionPolicy },
): Promise<SignedIn> {
  const candidates = await deps.store.users.findSignIn(input.email.trim())
  const candidate = candidates[0]
  if (!candidate) {
    await deps.passwords.verifyAgainstNothing(input.password)
    throw new SignInRefused('unknown_email', undefined)
  }
  if (!await deps.passwords.verify(input.password, candidate.passwordHash)) throw new SignInRefused('wrong_password', candidate.user)
  const refusal = maySignIn(candidate.user)
  if (refusal) throw new SignInRefused(refusal, candidate.user)
  const secondFactorOn = await checkSecondFactorAtSignIn(deps, candidate.user, input.otp)
  const opened = await openSession(deps, { user: candidate.user, address: input.address, userAgent: input.userAgent, policy: input.policy })
  // A cost raised since this password was hashed applies from its next sign-in: the password is
  // known only now. Not a condition of signing in (a failure is tried again next time); lowering
  // the cost leaves stronger hashes as they are.
  if (deps.passwords.needsRehash(candidate.passwordHash)) {
    await deps.passwords.hash(input.password)
      .then((rehashed) => deps.store.users.replacePasswordHash(candidate.user.id, candidate.passwordHash, rehashed))
      .catch(() => false)
  }
  return {
    ...opened, passwordChangeRequired: candidate.passwordChangeRequired,
    secondFactorEnrollmentRequired: secondFactorEnrollmentRequired(opened.account, candidate.user, secondFactorOn),
  }
}

/** What a session is, before what it may do is known. */
export type OpenedSession = Omit<SignedIn, 'passwordChangeRequired' | 'secondFactorEnrollmentRequired'>

/** Opens a session for a user who just proved who they are: a new random id every time. */
export async function openSession(
  deps: { store: Store; clock: Clock },
  input: { user: User; address: string; userAgent: string; policy: SessionPolicy },
): Promise<OpenedSession> {
  const now = deps.clock.now()
  const sessionId = newSessionId()
  const session: Session = {
    idHash: hashSessionId(sessionId), userId: input.user.id, createdAt: now, lastSeenAt: now,
    expiresAt: new Date(now.getTime() + input.policy.absoluteSeconds * 1000),
    address: input.address.slice(0, 100), userAgent: input.userAgent.slice(0, 200), revokedAt: null,
  }
  const account = await deps.store.transaction(async (tx) => {
    // Ended sessions are kept a day (the list and the audit log say the rest), so they never pile up.
    await tx.sessions.deleteEndedForUser(input.user.id, new Date(now.getTime() - ENDED_KEPT_MS))
    await tx.sessions.insert(session)
    await tx.audit.insert([auditEvent({
      accountId: input.user.accountId, actor: `user:${input.user.id}`, action: 'session.created', target: input.user.id,
      details: { address: session.address }, createdAt: now,
    })])
    return getAccount(tx, input.user.accountId)
  })
  return { sessionId, session, user: input.user, account }
}

/** A live session, its user and account, and what the user must do before anything else. */
export type ResumedSession = Omit<SignedIn, 'sessionId'>

/** The live session behind a cookie, and its user; undefined once it ended for any reason. */
export async function resumeSession(
  deps: { store: Store; clock: Clock },
  input: { sessionId: string; policy: SessionPolicy },
): Promise<ResumedSession | undefined> {
  if (input.sessionId.length === 0 || input.sessionId.length > 100) return undefined
  const session = await deps.store.sessions.findByIdHash(hashSessionId(input.sessionId))
  const now = deps.clock.now().getTime()
  if (!session || session.revokedAt !== null || now >= session.expiresAt.getTime()) return undefined
  if (now - session.lastSeenAt.getTime() >= input.policy.idleSeconds * 1000) return undefined
  const user = await deps.store.users.findById(session.userId)
  if (!user || maySignIn(user)) return undefined
  const [account, password] = await Promise.all([deps.store.accounts.findById(user.accountId), deps.store.users.findPasswordState(user.id)])
  if (!account) return undefined
  // Only asked where it matters: admins of accounts that require a second factor.
  const enrollmentRequired = secondFactorEnrollmentRequired(account, user, account.requireAdminSecondFactor && user.role === 'admin' && await hasSecondFactor(deps.store, user))
  if (now - session.lastSeenAt.getTime() >= TOUCH_EVERY_MS) await deps.store.sessions.touch(session.idHash, new Date(now))
  return { session, user, account, passwordChangeRequired: password?.changeRequired ?? false, secondFactorEnrollmentRequired: enrollmentRequired }
}

/** Ends one session (sign-out); ending one that already ended is not an error. */
export async function endSession(deps: { store: Store; clock: Clock }, input: { idHash: string; user: User }): Promise<boolean> {
  return deps.store.transaction(async (tx) => {
    const now = deps.clock.now()
    const ended = await tx.sessions.revoke(input.idHash, now)
    if (ended) {
      await tx.audit.insert([auditEvent({
        accountId: input.user.accountId, actor: `user:${input.user.id}`, action: 'session.ended', target: input.user.id, createdAt: now,
      })])
    }
    return ended
  })
}

/** Ends one of the user's own sessions, named by its public id (the hash); another user's is not found. */
export async function endOwnSession(deps: { store: Store; clock: Clock }, input: { idHash: string; user: User }): Promise<void> {
  const session = await deps.store.sessions.findByIdHash(input.idHash)
  if (!session || session.userId !== input.user.id) throw new NotFound('KEYMINT_SESSION_NOT_FOUND', 'session not found')
  await endSession(deps, input)
}

/** The user's live sessions, newest first. */
export async function listOwnSessions(deps: { store: Store; clock: Clock }, input: { user: User }): Promise<Session[]> {
  return deps.store.sessions.listLiveForUser(input.user.id, deps.clock.now())
}

/** Ends every session of the user (sign-out everywhere). */
export async function endAllSessions(deps: { store: Store; clock: Clock }, input: { user: User }): Promise<number> {
  return deps.store.transaction(async (tx) => {
    const now = deps.clock.now()
    const ended = await tx.sessions.revokeAllForUser(input.user.id, now)
    await tx.audit.insert([auditEvent({
      accountId: input.user.accountId, actor: `user:${input.user.id}`, action: 'session.ended', target: input.user.id,
      details: { everywhere: true, sessions: ended }, createdAt: now,
    })])
    return ended
  })
}
