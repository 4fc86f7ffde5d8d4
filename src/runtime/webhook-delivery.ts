import { createHmac } from 'node:crypto'
import { randomToken } from '../crypto/random.js'
import type { Clock, ClaimedDelivery, DeliveryOutcome, WebhookStore } from '../domain/ports.js'
import type { Sealer } from '../domain/server-keys.js'
import { sealedForEndpoint } from '../domain/webhooks.js'
import { every } from './background.js'

/** A delivery not through this long after its event is given up and marked failed. */
export const GIVE_UP_AFTER_MS = 24 * 3600 * 1000
/**
 * A claim holds its deliveries this long until their turn comes; an attempt holds its delivery
 * for the timeout and this long besides (room for clocks that differ between instances). Past
 * its lease, a delivery is free to be claimed again: one an instance died on, or one queued
 * behind a receiver slow to answer.
 */
const LEASE_MARGIN_MS = 30_000
const BATCH = 20

/** Seconds before the next attempt after `attempts` failed ones: 5 s, 10 s, 20 s, … up to an hour. */
export const backoffSeconds = (attempts: number): number => Math.min(5 * 2 ** Math.max(0, attempts - 1), 3600)

/** Standard Webhooks: `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`, keyed with the secret's bytes. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`
}

export interface WebhookDelivererDeps {
  readonly webhooks: WebhookStore
  readonly clock: Clock
  readonly sealer: Sealer
  readonly onError: (err: unknown) => void
}

export interface WebhookDeliveryOptions {
  /** How long a receiver has to answer one attempt. */
  readonly timeoutMs: number
}

/**
 * Sends what the outbox holds: claims due deliveries (a lease with a token of the claim's own, so
 * two instances never send one at once), POSTs each signed, and records the outcome; failures
 * retry with exponential backoff until a day after the event, then are marked failed.
 */
export class WebhookDeliverer {
  readonly #deps: WebhookDelivererDeps
  readonly #timeoutMs: number
  readonly #outcomes = { delivered: 0, retry: 0, failed: 0 }
  #running: Promise<number> = Promise.resolve(0)
  #stopTimer: (() => void) | undefined

  constructor(deps: WebhookDelivererDeps, options: WebhookDeliveryOptions) {
    this.#deps = deps
    this.#timeoutMs = options.timeoutMs
  }

  /** Attempts since start, by outcome: delivered, to be retried, given up. */
  get outcomes(): Readonly<{ delivered: number; retry: number; failed: number }> {
    return { ...this.#outcomes }
  }

  start(intervalMs: number): void {
    this.#stopTimer = every(intervalMs, () => this.deliverDue(), this.#deps.onError)
  }

  async stop(): Promise<void> {
    this.#stopTimer?.()
    await this.#running.catch(() => 0)
  }

  /** One pass over what is due now, after any pass in progress; how many deliveries it attempted. */
  deliverDue(): Promise<number> {
    this.#running = this.#running.catch(() => 0).then(() => this.#pass())
    return this.#running
  }

  async #pass(): Promise<number> {
    const { webhooks, clock } = this.#deps
    const leaseFor = (token: string, ms: number) => ({ token, until: new Date(clock.now().getTime() + ms) })
    let attempted = 0
    for (;;) {
      const token = randomToken(16)
      const claimed = await webhooks.claimDue(clock.now(), leaseFor(token, LEASE_MARGIN_MS), BATCH)
      for (const delivery of claimed) {
        // Sent only while this claim still holds it: if the claim ran out while earlier ones were
        // sent, another instance may have claimed this one, and it is theirs to send.
        if (!await webhooks.extendLease(delivery.id, leaseFor(token, this.#timeoutMs + LEASE_MARGIN_MS))) continue
        const outcome = await this.#attempt(delivery)
        // Written only if this claim still holds it: when this attempt outlived its lease and another
        // claim took the delivery, that claim's attempt is the one recorded.
        await webhooks.recordAttempt(delivery.id, token, outcome)
        this.#outcomes[outcome.kind]++
        attempted++
      }
      if (claimed.length < BATCH) return attempted
    }
  }

  async #attempt(delivery: ClaimedDelivery): Promise<DeliveryOutcome> {
    const sentAt = this.#deps.clock.now()
    const timestamp = Math.floor(sentAt.getTime() / 1000)
    let status: number | null = null
    let error: string | null = null
    try {
      const secret = this.#deps.sealer.unseal(delivery.secretSealed, sealedForEndpoint(delivery.endpointId))
      const res = await fetch(delivery.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'keymint-webhooks',
          'webhook-id': delivery.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(secret, delivery.id, timestamp, delivery.payload),
        },
        body: delivery.payload,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#timeoutMs),
      })
      status = res.status
      await res.body?.cancel()
      if (status >= 200 && status < 300) return { kind: 'delivered', at: this.#deps.clock.now(), status }
      error = `HTTP ${status}`
    } catch (err) {
      // The cause names the network failure (refused, timed out); never the secret or the body.
      const cause = (err as { cause?: { code?: string } }).cause
      error = cause?.code ?? (err as Error).name
    }
    const at = this.#deps.clock.now()
    const next = new Date(at.getTime() + backoffSeconds(delivery.attempts + 1) * 1000)
    if (next.getTime() - delivery.createdAt.getTime() > GIVE_UP_AFTER_MS) return { kind: 'failed', at, status, error }
    return { kind: 'retry', at, next, status, error }
  }
}
