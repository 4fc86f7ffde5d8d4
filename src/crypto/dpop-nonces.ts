import { createHmac, timingSafeEqual } from 'node:crypto'
import { deriveKey, type MasterKey } from './master-key.js'

/**
 * RFC 9449 §8 server nonces, stateless: a nonce is a time step and an HMAC of it under a key
 * derived from the master key, so every instance sharing the master key accepts every other's
 * nonces without storing any. A nonce is accepted in the step it was made in and the steps
 * either side (instances' clocks differ a little), so it lives between one and two steps.
 */
export interface DPoPNonces {
  /** The nonce of the current step; the same for every call within it. */
  issue(now: Date): string
  accepts(nonce: string, now: Date): boolean
}

/** Five minutes: a client asks for a fresh nonce at most every five to ten minutes. */
export const DPOP_NONCE_STEP_SECONDS = 300
// `<step in base 36>.<22 base64url characters>`: well within RFC 9449's NQCHAR.
const NONCE = /^([0-9a-z]{1,10})\.([A-Za-z0-9_-]{22})$/

export function createDPoPNonces(master: MasterKey, previous: readonly MasterKey[] = []): DPoPNonces {
  const keys = [master, ...previous].map((m) => deriveKey(m, 'dpop-nonce'))
  const tag = (key: Buffer, step: number) => createHmac('sha256', key).update(`dpop-nonce:${step}`).digest().subarray(0, 16).toString('base64url')
  const stepOf = (now: Date) => Math.floor(now.getTime() / 1000 / DPOP_NONCE_STEP_SECONDS)
  const current = keys[0]!
  let cached: { step: number; nonce: string } | undefined
  return {
    issue(now) {
      const step = stepOf(now)
      if (cached?.step !== step) cached = { step, nonce: `${step.toString(36)}.${tag(current, step)}` }
      return cached.nonce
    },
    accepts(nonce, now) {
      const match = NONCE.exec(nonce)
      if (!match) return false
      const step = parseInt(match[1]!, 36)
      if (Math.abs(step - stepOf(now)) > 1) return false
      // Compared as text: base64url decoding ignores the last character's spare bits, so a
      // different string could decode to the same bytes.
      const presented = Buffer.from(match[2]!)
      // Nonces made under a master key being rotated out still count until they age out.
      return keys.map((key) => timingSafeEqual(Buffer.from(tag(key, step)), presented)).some(Boolean)
    },
  }
}
