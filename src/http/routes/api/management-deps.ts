import type { PasswordHasher } from '../../../crypto/passwords.js'
import type { Clock, SecretService, Store } from '../../../domain/ports.js'
import type { Sealer } from '../../../domain/server-keys.js'
import type { WebhookPolicy } from '../../../domain/webhooks.js'
import type { FederationSettings } from '../../../domain/federation-policies.js'
import type { SessionPolicy } from '../../../domain/sessions.js'
import type { Refusal } from '../../../runtime/refusal-log.js'
import type { SignInThrottle } from '../../../runtime/sign-in-throttle.js'
import type { SessionCookie } from '../../session-cookie.js'

/** What the management API's routes need. */
export interface ManagementDeps {
  readonly store: Store
  readonly clock: Clock
  readonly secrets: SecretService
  /** Hashes and checks dashboard passwords. */
  readonly passwords: PasswordHasher
  /** Seals what must be read back, such as TOTP secrets, under the master key. */
  readonly sealer: Sealer
  /** Which webhook URLs are accepted. */
  readonly webhooks: WebhookPolicy
  /** Which issuers trust policies may name. */
  readonly federation: FederationSettings
  /** keymint's own default `aud` values, which no account may register as an API. */
  readonly defaultAudiences: () => readonly string[]
  readonly signIn: SignInDeps
}

/** Signing in to the dashboard. */
export interface SignInDeps {
  readonly policy: SessionPolicy
  readonly throttle: SignInThrottle
  readonly cookie: SessionCookie
  /** Records a refused sign-in in the audit log (batched, folded like refused client authentications). */
  readonly refused: (refusal: Refusal) => void
}
