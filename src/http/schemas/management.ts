import { Type, type TSchema } from 'typebox'
import { KEY_MANAGEMENT_ALGS } from '../../crypto/encryption-public-keys.js'
import { SIGNING_ALGS } from '../../crypto/jws.js'
import { MAX_LIMIT } from '../../domain/client-limits.js'
import { MAX_KEY_EXPIRES_IN, MIN_KEY_EXPIRES_IN } from '../../domain/key-expiry.js'
import { CLIENT_LEVELS, LIMIT_MODES, PERMISSIONS, PLANS, QUOTA_PERIODS, RATE_PERIODS, ROLES, TOKEN_ENCRYPTION_ALGS } from '../../domain/types.js'
import { keyPairId } from './key-pair-id.js'
import { Nullable, StringEnum } from './schema-helpers.js'

// The management API's records as it sends them (src/contract/dto.ts builds them). Each has an
// `$id`: registered once, they are the OpenAPI document's shared `components.schemas`.
// Property order is the order on the wire.

const time = (description = 'ISO 8601 time.') => Type.String({ description })

export const Account = Type.Object({
  id: Type.String(),
  name: Type.String(),
  plan: StringEnum(PLANS, { description: 'Only `enterprise` accounts obtain tokens.' }),
  require_admin_second_factor: Type.Boolean({ description: 'Every admin must sign in with a second factor; one without is made to set it up first.' }),
  default_key_expires_in_seconds: Nullable(Type.Integer({ description: 'Lifetime of a new key pair when none is asked for; null: new key pairs do not expire (unless a maximum is set: then they live that long).' })),
  max_key_expires_in_seconds: Nullable(Type.Integer({ description: 'Longest lifetime a new key pair may have; null: no limit.' })),
  created_at: time(),
}, { $id: 'Account', additionalProperties: false, description: "The caller's account." })

export const User = Type.Object({
  id: Type.String(),
  account_id: Type.String(),
  email: Type.String(),
  role: StringEnum(ROLES, { description: 'Admins may use the management API through user-level clients.' }),
  permissions: Type.Immutable(Type.Array(StringEnum(PERMISSIONS), { description: 'A user-level client obtains tokens only while its user has both `ui` and `api`.' })),
  scopes: Type.Immutable(Type.Array(Type.String(), { description: "Scopes the user's clients may be granted." })),
  disabled: Type.Boolean(),
  created_at: time(),
  updated_at: time(),
}, { $id: 'User', additionalProperties: false, description: 'A user of the account.' })

/** A client's rate limit, as sent and as accepted. */
export const RateLimit = Type.Object({
  requests: Type.Integer({ minimum: 1, maximum: MAX_LIMIT, description: 'Token requests allowed per window.' }),
  per: StringEnum(RATE_PERIODS, { description: 'The window: fixed, aligned on the clock (a minute starts at :00).' }),
}, { additionalProperties: false, examples: [{ requests: 600, per: 'minute' }] })

/** A client's quota, as sent and as accepted. */
export const Quota = Type.Object({
  tokens: Type.Integer({ minimum: 1, maximum: MAX_LIMIT, description: 'Tokens allowed per window.' }),
  per: StringEnum(QUOTA_PERIODS, { description: 'The window: a calendar day or month in UTC.' }),
}, { additionalProperties: false, examples: [{ tokens: 100000, per: 'month' }] })

export const RATE_LIMIT_DESCRIPTION = 'Token requests per second, minute or hour, counted on each server instance (fixed windows); null: none. Over it, `quota_mode` decides: 429 `rate_limit_exceeded`, or counted only.'
export const QUOTA_DESCRIPTION = 'Tokens per UTC day or month, counted across every instance through the usage flush (several instances may go over by what they issue in about two flush intervals); null: none. Over it, `quota_mode` decides: 429 `quota_exceeded`, or counted only.'
export const QUOTA_MODE_DESCRIPTION = '`enforce`: a request over the rate limit or the quota gets 429 with `Retry-After`. `monitor`: it gets its token; the overrun is counted (`keymint_client_limit_overruns_total`), audited and sent to webhooks once per window, to size limits before enforcing them.'

export const Client = Type.Object({
  id: Type.String({ description: "The client's own id, as in /clients/{id}. It is not a `client_id`: each of the client's key pairs has its own." }),
  account_id: Type.String(),
  name: Type.String(),
  level: StringEnum(CLIENT_LEVELS, { description: '`subscription`: acts for the account (POST /auth/oauth); `user`: acts as one user (POST /auth/oidc).' }),
  user_id: Nullable(Type.String({ description: 'The user a user-level client acts as; null for subscription-level clients.' })),
  scopes: Type.Unsafe<readonly string[] | null>({ type: ['array', 'null'], items: { type: 'string' }, description: 'Scopes the client may be granted; null: whatever its owner may have.' }),
  lifetime_seconds: Nullable(Type.Integer({ description: "Token lifetime; null: the endpoint's default." })),
  token_encryption: Type.Unsafe<(typeof TOKEN_ENCRYPTION_ALGS)[number] | null>({ type: ['string', 'null'], enum: [...TOKEN_ENCRYPTION_ALGS, null], description: 'Every token of the client is encrypted with this JWE algorithm; null: signed only.' }),
  public_jwk: Type.Unsafe<Readonly<Record<string, string>> | null>({ type: ['object', 'null'], additionalProperties: { type: 'string' }, description: 'Public key for `private_key_jwt` authentication.' }),
  signing_alg: Type.Unsafe<(typeof SIGNING_ALGS)[number] | null>({ type: ['string', 'null'], enum: [...SIGNING_ALGS, null], description: "The signing algorithm of the client's tokens; null: the server's default." }),
  allow_secret: Type.Boolean({ description: 'Whether its key pairs\' secrets authenticate it; without, only `private_key_jwt`.' }),
  require_dpop: Type.Boolean({ description: 'Whether it gets DPoP-bound tokens only (RFC 9449): `POST /oauth2/token` without a `DPoP` proof answers `invalid_dpop_proof`, and the header dialect refuses it.' }),
  disabled: Type.Boolean({ description: 'A disabled client gets no tokens, and the tokens it had stay refused for good.' }),
  rate_limit: Nullable(RateLimit, RATE_LIMIT_DESCRIPTION),
  quota: Nullable(Quota, QUOTA_DESCRIPTION),
  quota_mode: StringEnum(LIMIT_MODES, { description: QUOTA_MODE_DESCRIPTION }),
  created_at: time(),
}, { $id: 'Client', additionalProperties: false, description: 'A client: an integration of the account, holding key pairs.' })

export const KeyPair = Type.Object({
  client_id: keyPairId(),
  state: StringEnum(['active', 'grace', 'revoked', 'expired'], { description: '`grace`: ended by a rotation, still working until `expires_at`; `expired`: its lifetime ended at `expires_at`, it is refused as a revoked one is.' }),
  created_at: time(),
  expires_at: Nullable(time('When it stops working unless revoked first: the end of its lifetime or of a rotation grace, whichever comes first; null: never.')),
  revoked_at: Nullable(time()),
  last_used_at: Nullable(time('Last time it authenticated (written every few seconds, not per request).')),
  last_used_address: Nullable(Type.String({ description: 'The address the last use came from: the peer, or the client named by a trusted proxy (`KEYMINT_TRUST_PROXY`).' })),
  last_used_user_agent: Nullable(Type.String({ description: 'The `User-Agent` of the last use: at most 200 characters, control characters removed.' })),
  tokens_issued: Type.Integer(),
}, { $id: 'KeyPair', additionalProperties: false, description: 'A key pair as listed: never its secret.' })

export const IssuedKeyPair = Type.Object({
  client_id: keyPairId(),
  client_secret: Type.Optional(Type.String({ description: 'Shown once, here. Absent for a client that authenticates with its public key alone.' })),
  created_at: time(),
  expires_at: Nullable(time('When it expires; null: never.')),
}, { $id: 'IssuedKeyPair', additionalProperties: false, description: 'A key pair right after it was generated: the only response that carries its secret.' })

export const Api = Type.Object({
  id: Type.String(),
  account_id: Type.String(),
  identifier: Type.String({ description: 'The URI tokens for this API carry in `aud`.' }),
  name: Type.String(),
  encryption_kid: Nullable(Type.String({ description: "RFC 7638 thumbprint of the API's public encryption key: the `kid` of its tokens' JWE header" })),
  encryption_alg: Type.Unsafe<(typeof KEY_MANAGEMENT_ALGS)[number] | null>({ type: ['string', 'null'], enum: [...KEY_MANAGEMENT_ALGS, null] }),
  created_at: time(),
}, { $id: 'Api', additionalProperties: false, description: 'A registered API (resource server).' })

export const AuditEvent = Type.Object({
  id: Type.String(),
  time: time(),
  account_id: Nullable(Type.String()),
  actor: Type.String({ description: '`user:<id>` or `client:<client_id>` through the API; the command line and the server name themselves.' }),
  action: Type.String({ description: 'What happened, such as `client.created` or `authentication.refused`.' }),
  target: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  count: Type.Integer({ description: 'Identical events folded into this one.' }),
  details: Type.Unsafe<Readonly<Record<string, unknown>>>({ type: 'object', additionalProperties: true }),
}, { $id: 'AuditEvent', additionalProperties: false, description: 'An entry of the audit log.' })

export const SigningKey = Type.Object({
  kid: Type.String({ description: 'RFC 7638 thumbprint.' }),
  use: StringEnum(['sig', 'enc']),
  alg: Type.String(),
  state: StringEnum(['active', 'next', 'previous', 'retired', 'unpublished']),
  created_at: time(),
  activates_at: time(),
  retired_at: Nullable(time()),
}, { $id: 'SigningKey', additionalProperties: false, description: "A server key's public facts." })

/** A new key pair's lifetime, as a request field. */
export const keyExpiresIn = (description: string) => Type.Integer({
  minimum: MIN_KEY_EXPIRES_IN, maximum: MAX_KEY_EXPIRES_IN,
  description: `Seconds until the new key pair expires (${MIN_KEY_EXPIRES_IN} to ${MAX_KEY_EXPIRES_IN}); at most the account's \`max_key_expires_in_seconds\`. ${description}`,
})

/** Shared schemas of the management API, for `app.addSchema`. */
export const MANAGEMENT_COMPONENTS: readonly TSchema[] = [Account, User, Client, KeyPair, IssuedKeyPair, Api, AuditEvent, SigningKey]

/** `{ items: [...] }` */
export const itemsOf = <T extends TSchema>(item: T) => Type.Object({ items: Type.Array(item) }, { additionalProperties: false })

export const ClientIdParams = Type.Object({
  id: Type.String({ format: 'uuid', description: "The client's own id (`Client.id`), not a key pair's `client_id`." }),
}, { additionalProperties: false })

export const UserIdParams = Type.Object({ id: Type.String({ format: 'uuid', description: "The user's id." }) }, { additionalProperties: false })
