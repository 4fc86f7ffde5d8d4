import { FixedClock } from './clock.js'
import { FakeSecretService } from './secrets.js'
import { createFakeStore, type FakeStore } from './store.js'

/** What domain functions take as `deps`, all in memory and deterministic. */
export interface FakeDeps {
  readonly store: FakeStore
  readonly clock: FixedClock
  readonly secrets: FakeSecretService
}

export function fakeDeps(): FakeDeps {
  return { store: createFakeStore(), clock: new FixedClock(), secrets: new FakeSecretService() }
}
