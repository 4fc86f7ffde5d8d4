import type { Clock, SecretService, Store } from '../../../domain/ports.js'

/** What the management API's routes need. */
export interface ManagementDeps {
  readonly store: Store
  readonly clock: Clock
  readonly secrets: SecretService
  /** keymint's own default `aud` values, which no account may register as an API. */
  readonly defaultAudiences: () => readonly string[]
}
