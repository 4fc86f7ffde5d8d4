export { TokenClient } from './token-client.js'
export type { TokenClientOptions, TokenDialect, TokenEncryption } from './options.js'
export type { TokenResponse } from './token-response.js'
export { TokenError, TokenNetworkError, type TokenErrorCode, type TokenErrorOptions } from './errors.js'
