// keymint/verify: check keymint access tokens in a resource server.
export { createVerifier } from './verifier.js'
export { VerifyError, VerifierUnavailableError, type ChallengeScheme, type VerifyErrorCode, type VerifyErrorOptions } from './errors.js'
export { hasScope, requireScopes } from './scopes.js'
export { keymintFastify, fastifyRequireScopes, type KeymintFastifyOptions } from './fastify.js'
export { keymintExpress, expressRequireScopes, type KeymintExpressMiddleware, type KeymintExpressOptions, type Next, type RefusableResponse, type TokenRequest } from './express.js'
export type { AccessTokenClaims, DecryptionKey, DPoPOptions, FetchLike, ResourceRequest, RevocationOptions, VerifiedToken, Verifier, VerifierOptions } from './types.js'
