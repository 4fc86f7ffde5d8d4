import { randomUUID } from 'node:crypto'
import type { AccountId } from './types.js'

export type AuditAction =
  | 'account.created'
  | 'account.updated'
  | 'user.created'
  | 'user.updated'
  | 'client.created'
  | 'client.updated'
  | 'client.disabled'
  | 'client.enabled'
  | 'client.deleted'
  | 'client.limit_reached'
  | 'api.created'
  | 'api.removed'
  | 'key_pair.created'
  | 'key_pair.rotated'
  | 'key_pair.revoked'
  | 'key_pair.rotation_finished'
  | 'key_pair.rotation_cancelled'
  | 'key_pair.expiring'
  | 'key_pair.expired'
  | 'webhook.created'
  | 'webhook.deleted'
  | 'federation_policy.created'
  | 'federation_policy.deleted'
  | 'signing_key.rotated'
  | 'signing_key.retired'
  | 'encryption_key.retired'
  | 'encryption_key.exported'
  | 'authentication.refused'
  | 'user.password_set'
  | 'user.second_factor_enabled'
  | 'user.second_factor_disabled'
  | 'user.recovery_codes_regenerated'
  | 'user.recovery_code_used'
  | 'session.created'
  | 'session.ended'
  | 'sign_in.refused'

/** One audit record. Never a secret or a token: ids, states and reason codes only. */
export interface AuditEvent {
  readonly id: string
  readonly accountId: AccountId | null
  /** `cli`, `system`, `user:<id>` or `client:<client_id>`. */
  readonly actor: string
  readonly action: AuditAction
  readonly target: string | null
  readonly reason: string | null
  /** Identical events folded into one row (refusals under a flood). */
  readonly count: number
  readonly details: Readonly<Record<string, unknown>>
  readonly createdAt: Date
}

export interface AuditQuery {
  readonly accountId?: AccountId
  readonly since?: Date
  /** Only events after this one in list order (newest first, then by id): paging. */
  readonly after?: { readonly time: Date; readonly id: string }
  readonly limit: number
}

export interface AuditStore {
  insert(events: readonly AuditEvent[]): Promise<void>
  /** Newest first. */
  list(query: AuditQuery): Promise<AuditEvent[]>
}

export const DEFAULT_ACTOR = 'system'

export function auditEvent(fields: Omit<AuditEvent, 'id' | 'count' | 'reason' | 'target' | 'details'> & Partial<Pick<AuditEvent, 'count' | 'reason' | 'target' | 'details'>>): AuditEvent {
  return { id: randomUUID(), count: 1, reason: null, target: null, details: {}, ...fields }
}
