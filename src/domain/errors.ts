// Domain errors carry a stable code; they know nothing of HTTP. The edges map them to responses.
export type DomainErrorCode =
  | 'KEYMINT_ACCOUNT_NOT_FOUND'
  | 'KEYMINT_USER_NOT_FOUND'
  | 'KEYMINT_CLIENT_NOT_FOUND'
  | 'KEYMINT_EMAIL_TAKEN'
  | 'KEYMINT_PLAN_FORBIDS_KEY_PAIRS'
  | 'KEYMINT_USER_OF_OTHER_ACCOUNT'
  | 'KEYMINT_INVALID_INPUT'
  | 'KEYMINT_NO_LIVE_KEY_PAIR'
  | 'KEYMINT_KEY_PAIR_NOT_FOUND'
  | 'KEYMINT_NO_ROTATION_IN_PROGRESS'
  | 'KEYMINT_KEY_EXPIRY_OVER_MAXIMUM'
  | 'KEYMINT_WEBHOOK_NOT_FOUND'
  | 'KEYMINT_FEDERATION_POLICY_NOT_FOUND'
  | 'KEYMINT_CONFLICT'
  | 'KEYMINT_SERVER_KEY_NOT_FOUND'
  | 'KEYMINT_SERVER_KEY_IN_USE'
  | 'KEYMINT_API_EXISTS'
  | 'KEYMINT_ADMIN_REQUIRED'
  | 'KEYMINT_SIGN_IN_REFUSED'
  | 'KEYMINT_SESSION_ENDED'
  | 'KEYMINT_SESSION_NOT_FOUND'
  | 'KEYMINT_CSRF_CHECK_FAILED'
  | 'KEYMINT_PASSWORD_CHANGE_REQUIRED'
  | 'KEYMINT_SECOND_FACTOR_REQUIRED'
  | 'KEYMINT_ADMINS_ONLY'
  | 'KEYMINT_WEAK_PASSWORD'
  | 'KEYMINT_WRONG_PASSWORD'
  | 'KEYMINT_API_IDENTIFIER_RESERVED'
  | 'KEYMINT_OTP_REQUIRED'
  | 'KEYMINT_OTP_INVALID'
  | 'KEYMINT_ENROLLMENT_OTP_INVALID'
  | 'KEYMINT_NO_PENDING_ENROLLMENT'
  | 'KEYMINT_SECOND_FACTOR_ENABLED'
  | 'KEYMINT_SECOND_FACTOR_NOT_ENABLED'
  | 'KEYMINT_SECOND_FACTOR_MANDATORY'

export abstract class DomainError extends Error {
  abstract readonly kind: 'not_found' | 'conflict' | 'forbidden' | 'invalid_state' | 'invalid_input' | 'unauthenticated'
  readonly code: DomainErrorCode
  constructor(code: DomainErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(message, { cause: opts.cause })
    this.name = new.target.name
    this.code = code
  }
}

/** The thing named does not exist (or is not visible to the caller). */
export class NotFound extends DomainError { readonly kind = 'not_found' }
/** The change would break a uniqueness rule. */
export class Conflict extends DomainError { readonly kind = 'conflict' }
/** A business rule forbids the change (plan, role, ownership). */
export class Forbidden extends DomainError { readonly kind = 'forbidden' }
/** The record is not in a state that allows the change. */
export class InvalidState extends DomainError { readonly kind = 'invalid_state' }
/** An input value is malformed or out of range. */
export class InvalidInput extends DomainError { readonly kind = 'invalid_input' }
/** Who is asking could not be established (a refused sign-in, an ended session). */
export class Unauthenticated extends DomainError { readonly kind = 'unauthenticated' }
