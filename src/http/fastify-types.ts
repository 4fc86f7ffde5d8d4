// Request decorations and route config shared by keymint's route modules.
declare module 'fastify' {
  interface FastifyRequest {
    /** How the client tried to authenticate, so a 401 can carry the matching challenge. */
    clientAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none' | null
    /** The key pair the server found the caller to be (authenticated, or matched by a well-formed id); for the request log. */
    clientId: string | null
  }
  interface FastifyInstance {
    /** The issuer URL: configured, or http://HOST:PORT of the listening socket. */
    issuer(): string
  }
  interface FastifyContextConfig {
    /** `oauth`: errors as RFC 6749 §5.2 JSON; otherwise RFC 9457 problem+json. */
    errorFormat?: 'oauth'
    /**
     * Request headers the handler reads, for the OpenAPI document only: a `headers` schema would be
     * validated on every request, which the token endpoint's hot path does without.
     */
    documentedHeaders?: object
  }
}

export {}
