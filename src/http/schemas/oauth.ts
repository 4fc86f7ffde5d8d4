import { Type, type Static, type TSchema } from 'typebox'
import { JWT_BEARER_ASSERTION } from '../../oauth/client-auth/private-key-jwt.js'
import { SUPPORTED_ENCRYPTED_VALUES } from '../../oauth/token-encryption.js'
import { keyPairId } from './key-pair-id.js'
import { StringEnum } from './schema-helpers.js'

// The OAuth endpoints' form bodies (after src/http/form-body.ts parsed them) and responses.
// Form bodies list what keymint reads; other parameters are ignored, as RFC 6749 §3.2 asks, so
// the objects stay open. The parser yields strings only: these schemas type the fields, and
// the handlers check what is required, in RFC order.

const clientAuthenticationFields = {
  client_id: Type.Optional(keyPairId('A key pair\'s id, with `client_secret` (client_secret_post) or a client assertion. With HTTP Basic it may be left out; if sent, it must match. With a platform token (workload identity federation): the id of the trust policy to use, needed only when several accept the token.')),
  client_secret: Type.Optional(Type.String({ description: 'client_secret_post. Prefer HTTP Basic (`clientBasic`).' })),
  client_assertion_type: Type.Optional(Type.String({ description: `private_key_jwt (RFC 7523): \`${JWT_BEARER_ASSERTION}\`.` })),
  client_assertion: Type.Optional(Type.String({ description: "private_key_jwt: a JWT signed with the client's private key; `iss` and `sub` are the `client_id`. Or (RFC 7523 §2.2, workload identity federation) a platform token whose `iss` is an issuer a trust policy names: GitHub Actions' OIDC token, a Kubernetes service account token." })),
}

/** The client authentication fields a form may carry (RFC 6749 §2.3.1, RFC 7523 §2.2). */
export const ClientAuthenticationFields = Type.Object(clientAuthenticationFields)
export type ClientAuthenticationFields = Static<typeof ClientAuthenticationFields>

const resourceFields = {
  resource: Type.Optional(Type.String({ description: 'RFC 8707: the API the token is for (its `aud`). Default: the configured audience, else the issuer.' })),
  audience: Type.Optional(Type.String({ description: 'Alias of `resource`; if both are sent they must agree.' })),
}

export const TokenRequestForm = Type.Object({
  grant_type: Type.Optional(Type.String({ description: 'Required: `client_credentials`, or `urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693) to exchange a platform token.' })),
  scope: Type.Optional(Type.String({ description: 'Space-separated scopes; default: everything the client may have.' })),
  ...resourceFields,
  ...clientAuthenticationFields,
  subject_token: Type.Optional(Type.String({ description: 'Token exchange: the platform token (a JWT) a trust policy accepts.' })),
  subject_token_type: Type.Optional(Type.String({ description: 'Token exchange: `urn:ietf:params:oauth:token-type:jwt` or `urn:ietf:params:oauth:token-type:id_token`.' })),
  requested_token_type: Type.Optional(Type.String({ description: 'Token exchange: `urn:ietf:params:oauth:token-type:access_token` (the default, and the only type issued).' })),
  actor_token: Type.Optional(Type.String({ description: 'Token exchange: not supported (refused).' })),
  actor_token_type: Type.Optional(Type.String({ description: 'Token exchange: not supported.' })),
}, {
  examples: [
    { grant_type: 'client_credentials', scope: 'orders:read' },
    { grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', subject_token: 'eyJhbGciOiJSUzI1NiIsImtpZCI6Ii4uLiJ9.eyJpc3MiOiJodHRwczovL3Rva2VuLmFjdGlvbnMuZ2l0aHVidXNlcmNvbnRlbnQuY29tIn0.c2lnbmF0dXJl', subject_token_type: 'urn:ietf:params:oauth:token-type:jwt', scope: 'orders:read' },
  ],
})

export const HeaderDialectForm = Type.Object({
  ...resourceFields,
  encrypted: Type.Optional(Type.String({ description: `Encrypt the token (nested JWE): ${SUPPORTED_ENCRYPTED_VALUES.map((v) => `\`${v}\``).join(', ')}. In the body or the query, not both.` })),
}, { examples: [{ resource: 'https://orders.example.com' }] })

export const HeaderDialectQuery = Type.Object({
  encrypted: Type.Optional(Type.String({ description: 'As the form field `encrypted`.' })),
})

// Header names are case-insensitive; Fastify matches these lowercased.
export const HeaderDialectHeaders = Type.Object({
  clientId: keyPairId("A key pair's id (its `client_id`)."),
  clientSecret: Type.String({ description: "The key pair's secret." }),
})

export const TokenForm = Type.Object({
  token: Type.Optional(Type.String({ description: 'Required: an access token keymint issued.' })),
  token_type_hint: Type.Optional(Type.String({ description: 'Ignored: keymint issues access tokens only.' })),
  ...clientAuthenticationFields,
}, { examples: [{ token: 'eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6Ii4uLiJ9.eyJpc3MiOiIuLi4ifQ.c2lnbmF0dXJl' }] })

export const RevocationFeedQuery = Type.Object({
  cursor: Type.Optional(Type.String({ description: "The previous answer's `cursor`: only what changed since. Without it, everything still relevant." })),
})

export const TokenResponse = Type.Object({
  access_token: Type.String({ description: 'A JWT (RFC 9068), or a nested JWE when the client encrypts its tokens.' }),
  token_type: StringEnum(['Bearer', 'DPoP'], { description: '`DPoP` when the request carried a DPoP proof: the token is bound to its key (RFC 9449 §5).' }),
  expires_in: Type.Integer({ description: 'Seconds.' }),
  scope: Type.String({ description: 'The scopes granted, space-separated.' }),
  issued_token_type: Type.Optional(StringEnum(['urn:ietf:params:oauth:token-type:access_token'], { description: 'Token exchange only (RFC 8693 §2.2.1).' })),
}, { $id: 'TokenResponse', additionalProperties: false, description: 'RFC 6749 §5.1 access token response.' })

export const IntrospectionResponse = Type.Object({
  active: Type.Boolean({ description: 'False for anything not active, or of another account; then nothing else is sent.' }),
  token_type: Type.Optional(Type.String()),
  scope: Type.Optional(Type.String()),
  client_id: Type.Optional(keyPairId("The key pair's id the token was issued to.")),
  sub: Type.Optional(Type.String()),
  aud: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
  iss: Type.Optional(Type.String()),
  exp: Type.Optional(Type.Integer()),
  iat: Type.Optional(Type.Integer()),
  jti: Type.Optional(Type.String()),
  account_id: Type.Optional(Type.String()),
  client_level: Type.Optional(Type.String()),
  act: Type.Optional(Type.Object({
    iss: Type.String({ description: "The workload's issuer." }),
    sub: Type.String({ description: 'The workload, as its issuer names it.' }),
  }, { additionalProperties: false, description: 'RFC 8693 §4.1: for a token issued through a trust policy (workload identity federation), the workload acting as the client; `client_id` is then the policy\'s id.' })),
  cnf: Type.Optional(Type.Object({
    jkt: Type.String({ description: 'RFC 7638 SHA-256 thumbprint of the key the token is bound to.' }),
  }, { additionalProperties: false, description: 'RFC 9449 §6.2: present for DPoP-bound tokens (`token_type` `DPoP`).' })),
}, { $id: 'IntrospectionResponse', additionalProperties: false, description: 'RFC 7662 §2.2 introspection response.' })

export const RevocationFeed = Type.Object({
  cursor: Type.String({ description: 'Pass back as `?cursor=` for the changes since this answer.' }),
  tokens: Type.Array(Type.Object({
    jti: Type.String(),
    exp: Type.Integer({ description: 'When the token expires anyway (seconds since the epoch): drop the entry then.' }),
  }, { additionalProperties: false }), { description: 'Revoked access tokens.' }),
  clients: Type.Array(Type.Object({
    client_id: keyPairId(),
    issued_before: Type.Integer({ description: 'Refuse tokens of this key pair issued (`iat`) at or before this time.' }),
    exp: Type.Integer({ description: 'When the entry can be dropped.' }),
  }, { additionalProperties: false }), { description: "Key pairs (by `client_id`) whose earlier tokens must be refused: revoked, grace ended, or their user disabled or without `ui`/`api`." }),
}, { $id: 'RevocationFeed', additionalProperties: false, description: "The caller's account's revocations, for verifiers that check tokens offline." })

/** Shared schemas of the OAuth endpoints, for `app.addSchema`. */
export const OAUTH_COMPONENTS: readonly TSchema[] = [TokenResponse, IntrospectionResponse, RevocationFeed]
