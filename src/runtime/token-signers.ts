import type { CompactSigner, SigningAlg } from '../crypto/jws.js'
import type { KeyRing } from './key-ring.js'
import type { TurnQueue } from './turn-queue.js'

/**
 * The signer for a token, handed out one event-loop turn at a time (see TurnQueue), so a
 * saturated server still accepts connections and serves them in arrival order. Only an
 * algorithm the ring has no key for yet waits on the store.
 */
export class TokenSigners {
  constructor(private readonly ring: KeyRing, private readonly turns: TurnQueue, private readonly defaultAlg: SigningAlg) {}

  async signerFor(alg: SigningAlg | null): Promise<CompactSigner> {
    const wanted = alg ?? this.defaultAlg
    const signer = this.ring.canSign(wanted) ? this.ring.accessTokenSigner(wanted) : await this.ring.signerFor(wanted)
    await this.turns.turn()
    return signer
  }

  /** Call on every accepted connection: the next turn then signs one token only. */
  noteConnection(): void {
    this.turns.noteConnection()
  }
}
