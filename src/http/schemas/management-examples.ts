import type { Static } from 'typebox'
import type { Account, Api, AuditEvent, Client, IssuedKeyPair, KeyPair, SigningKey, User } from './management.js'

// Example records for the OpenAPI document, typed so they cannot drift from the schemas.

const ACCOUNT_ID = '3f1c9a52-8d0e-4b7a-9c61-2e5d7f0a4b18'
const CLIENT_ID = '9b2e4c71-5a3d-4f08-b6e2-7c1d0a9f3e65'
const KEY_PAIR_ID = 'c7d05e3a-1f9b-4e26-8a4c-5b3f6d2e1a90'
const CREATED = '2025-01-15T09:30:00.000Z'

export const exampleAccount: Static<typeof Account> = { id: ACCOUNT_ID, name: 'Example Corp', plan: 'enterprise', require_admin_second_factor: false,
  default_key_expires_in_seconds: 7776000, max_key_expires_in_seconds: 31536000, created_at: CREATED,
}

export const exampleUser: Static<typeof User> = {
  id: '5e8a1d2c-7b4f-4c39-a0e6-1f2d3c4b5a69', account_id: ACCOUNT_ID, email: 'ops@example.com', role: 'member',
  permissions: ['ui', 'api'], scopes: ['orders:read'], disabled: false, created_at: CREATED, updated_at: CREATED,
}

export const exampleClient: Static<typeof Client> = {
  id: CLIENT_ID, account_id: ACCOUNT_ID, name: 'billing-sync', level: 'subscription', user_id: null, scopes: ['orders:read'],
  lifetime_seconds: null, token_encryption: null, public_jwk: null, signing_alg: null, allow_secret: true, require_dpop: false, disabled: false,
  rate_limit: { requests: 600, per: 'minute' }, quota: { tokens: 100000, per: 'month' }, quota_mode: 'enforce', created_at: CREATED,
}

export const exampleIssuedKeyPair: Static<typeof IssuedKeyPair> = {
  client_id: KEY_PAIR_ID, client_secret: 'kmsk_EXAMPLEexampleEXAMPLEexampleEXAMPLEexampleE', created_at: CREATED,
  expires_at: '2025-04-15T09:30:00.000Z',
}

export const exampleKeyPair: Static<typeof KeyPair> = {
  client_id: KEY_PAIR_ID, state: 'active', created_at: CREATED, expires_at: '2025-04-15T09:30:00.000Z', revoked_at: null,
  last_used_at: '2025-02-01T12:00:00.000Z', last_used_address: '203.0.113.7', last_used_user_agent: 'billing-sync/2.4 (+https://example.com)', tokens_issued: 1280,
}

export const exampleApi: Static<typeof Api> = {
  id: '0d4b6f8a-2c1e-4a3b-9d5f-7e6c8b9a0f12', account_id: ACCOUNT_ID, identifier: 'https://orders.example.com', name: 'Orders',
  encryption_kid: null, encryption_alg: null, created_at: CREATED,
}

export const exampleAuditEvent: Static<typeof AuditEvent> = {
  id: '6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d', time: CREATED, account_id: ACCOUNT_ID, actor: `client:${KEY_PAIR_ID}`,
  action: 'client.created', target: CLIENT_ID, reason: null, count: 1, details: { name: 'billing-sync' },
}

export const exampleSigningKey: Static<typeof SigningKey> = {
  kid: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs', use: 'sig', alg: 'RS256', state: 'active',
  created_at: CREATED, activates_at: CREATED, retired_at: null,
}

export const EXAMPLE_KEY_PAIR_ID = KEY_PAIR_ID
