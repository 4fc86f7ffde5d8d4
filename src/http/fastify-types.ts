// Request decorations and route config shared by keymint's route modules.
declare module 'fastify' {
  interface FastifyRequest {
    /** How the client tried to authenticate, so a 401 can carry the matching challenge. */
    clientAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'none' | null
  }
  interface FastifyContextConfig {
    /** `oauth`: errors as RFC 6749 §5.2 JSON; otherwise RFC 9457 problem+json. */
    errorFormat?: 'oauth'
  }
}

export {}
