// JSON Schemas shared by the management API's routes; the OpenAPI document is built from them.
export const uuidParam = {
  type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', format: 'uuid' } },
} as const

export const problem = {
  type: 'object',
  properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, code: { type: 'string' } },
} as const

const nullableString = { type: ['string', 'null'] } as const
const stringList = { type: 'array', items: { type: 'string' } } as const

export const account = {
  type: 'object', additionalProperties: false,
  properties: { id: { type: 'string' }, name: { type: 'string' }, plan: { type: 'string' }, created_at: { type: 'string' } },
} as const

export const user = {
  type: 'object', additionalProperties: false,
  properties: {
    id: { type: 'string' }, account_id: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' },
    permissions: stringList, scopes: stringList, disabled: { type: 'boolean' }, created_at: { type: 'string' }, updated_at: { type: 'string' },
  },
} as const

export const client = {
  type: 'object', additionalProperties: false,
  properties: {
    id: { type: 'string' }, account_id: { type: 'string' }, name: { type: 'string' }, level: { type: 'string' }, user_id: nullableString,
    scopes: { type: ['array', 'null'], items: { type: 'string' } }, lifetime_seconds: { type: ['integer', 'null'] },
    token_encryption: nullableString, public_jwk: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
    signing_alg: nullableString, allow_secret: { type: 'boolean' }, disabled: { type: 'boolean' }, created_at: { type: 'string' },
  },
} as const

/** A key pair as listed: never a secret. */
export const keyPair = {
  type: 'object', additionalProperties: false,
  properties: {
    client_id: { type: 'string' }, state: { type: 'string' }, created_at: { type: 'string' }, expires_at: nullableString,
    revoked_at: nullableString, last_used_at: nullableString, tokens_issued: { type: 'integer' },
  },
} as const

/** The one response that carries a secret: right after it was generated. */
export const issuedKeyPair = {
  type: 'object', additionalProperties: false,
  properties: { client_id: { type: 'string' }, client_secret: { type: 'string' }, created_at: { type: 'string' } },
} as const

export const list = (items: object) => ({ type: 'object', additionalProperties: false, properties: { items: { type: 'array', items } } }) as const

export const errorResponses = { 400: problem, 401: problem, 403: problem, 404: problem, 409: problem } as const
