import { generateMasterKey, parseMasterKey } from '../../src/crypto/master-key.js'
import { createPasswordHasher, type PasswordHasher } from '../../src/crypto/passwords.js'
import { createSealer } from '../../src/crypto/sealing.js'
import type { Sealer } from '../../src/domain/server-keys.js'
import { TEST_PASSWORD_COST } from '../helpers/password-cost.js'
import { FixedClock } from './clock.js'
import { FakeSecretService } from './secrets.js'
import { createFakeStore, type FakeStore } from './store.js'

/** What domain functions take as `deps`, all in memory and deterministic. */
export interface FakeDeps {
  readonly store: FakeStore
  readonly clock: FixedClock
  readonly secrets: FakeSecretService
  /** The real sealer under a master key of the test's own: sealing is fast and has no state. */
  readonly sealer: Sealer
  /** The real hasher at the lowest cost: hashing is what it does, at a cost a test can pay. */
  readonly passwords: PasswordHasher
}

export function fakeDeps(): FakeDeps {
  return {
    store: createFakeStore(), clock: new FixedClock(), secrets: new FakeSecretService(),
    sealer: createSealer(parseMasterKey(generateMasterKey(), 'test master key')),
    passwords: createPasswordHasher(TEST_PASSWORD_COST),
  }
}
