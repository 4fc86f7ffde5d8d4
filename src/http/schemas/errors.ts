import { Type } from 'typebox'
import type { OAuthErrorCode } from '../../oauth/errors.js'
import { refTo, StringEnum } from './schema-helpers.js'

// The two error bodies of src/http/error-handler.ts: RFC 9457 problem documents under /api/v1,
// RFC 6749 §5.2 errors on the OAuth endpoints.

export const Problem = Type.Object({
  type: Type.String({ description: 'Always `about:blank`: the `title` and `code` say what went wrong.' }),
  title: Type.String({ description: 'The kind of error: `invalid_request`, `invalid_token`, `insufficient_scope`, `not_found`, `conflict`, `forbidden`, `invalid_state`, `invalid_input` or `temporarily_unavailable`.' }),
  status: Type.Integer({ description: 'The HTTP status, repeated.' }),
  detail: Type.String({ description: 'What went wrong, for people; never quotes a value that was sent.' }),
  code: Type.Optional(Type.String({ description: 'A stable code to branch on, such as `KEYMINT_CLIENT_NOT_FOUND` or `KEYMINT_ADMIN_REQUIRED`.' })),
}, { $id: 'Problem', description: 'An RFC 9457 problem document (`application/problem+json`).' })

export const problem = (description: string, example: { title: string; status: number; detail: string; code?: string }) =>
  ({ description, content: { 'application/problem+json': { schema: refTo(Problem), example: { type: 'about:blank', ...example } } } })

/** The errors every management API operation may answer. */
export const problemResponses = {
  400: problem('The request is malformed: a field unknown, missing or out of bounds, or a value the server refuses.', {
    title: 'invalid_request', status: 400, detail: "invalid request: body must have required property 'name'",
  }),
  401: problem('No valid keymint access token (see the `WWW-Authenticate: Bearer` challenge), or a dashboard session that ended (code `KEYMINT_SESSION_ENDED`).', {
    title: 'invalid_token', status: 401, detail: 'a keymint access token or a dashboard session is required',
  }),
  403: problem('The token lacks the scope this operation needs, or the change needs `keymint:admin`.', {
    title: 'insufficient_scope', status: 403, detail: 'this call needs the keymint:clients:write scope',
  }),
  404: problem('Nothing with this id in the caller\'s account.', {
    title: 'not_found', status: 404, detail: 'client not found', code: 'KEYMINT_CLIENT_NOT_FOUND',
  }),
  409: problem('The change conflicts with the current state.', {
    title: 'conflict', status: 409, detail: 'the API identifier is registered already', code: 'KEYMINT_API_EXISTS',
  }),
  503: problem('The database is out of reach; `Retry-After` says when to try again.', {
    title: 'temporarily_unavailable', status: 503, detail: 'the service is temporarily unavailable; retry later',
  }),
}

const OAUTH_ERROR_CODES: Readonly<Record<OAuthErrorCode, true>> = {
  invalid_request: true, invalid_client: true, invalid_grant: true, unauthorized_client: true, unsupported_grant_type: true,
  invalid_scope: true, invalid_target: true, invalid_dpop_proof: true, use_dpop_nonce: true, invalid_token: true, insufficient_scope: true, server_error: true, temporarily_unavailable: true,
  rate_limit_exceeded: true, quota_exceeded: true,
}

export const OAuthErrorBody = Type.Object({
  error: StringEnum(Object.keys(OAUTH_ERROR_CODES) as OAuthErrorCode[], { description: 'The RFC 6749 §5.2 error code: branch on this.' }),
  error_description: Type.String({ description: 'What went wrong, for people.' }),
}, { $id: 'OAuthError', description: 'An RFC 6749 §5.2 error response.' })

export const oauthError = (description: string, example: { error: OAuthErrorCode; error_description: string }) =>
  ({ description, content: { 'application/json': { schema: refTo(OAuthErrorBody), example } } })

/** The errors of the endpoints a client calls with its credentials. */
export const oauthErrorResponses = {
  400: oauthError('The request is malformed, or the client may not have what it asked for (`invalid_request`, `unauthorized_client`, `unsupported_grant_type`, `invalid_scope`, `invalid_target`).', {
    error: 'invalid_request', error_description: 'grant_type is required',
  }),
  401: oauthError('Client authentication failed (`invalid_client`); after HTTP Basic with a `WWW-Authenticate: Basic` challenge.', {
    error: 'invalid_client', error_description: 'client authentication failed',
  }),
  429: oauthError('Too many requests; `Retry-After` says when to try again. `temporarily_unavailable`: too many failed authentications from this address or for this client. `rate_limit_exceeded`: the client\'s rate limit (token requests per second, minute or hour) is used up in this window. `quota_exceeded`: the client\'s quota (tokens per UTC day or month) is used up until the window ends. The description names the limit.', {
    error: 'rate_limit_exceeded', error_description: "the client's rate limit of 600 token requests per minute is reached; retry in 12 s",
  }),
  503: oauthError('The server cannot answer now: its database is out of reach (a key pair it holds in memory still gets tokens for a while), or it is shedding lookups of unknown clients. `Retry-After` says when to try again.', {
    error: 'temporarily_unavailable', error_description: 'the service is temporarily unavailable; retry later',
  }),
}
