import { Type, type Static } from 'typebox'
import { Account, User } from './management.js'
import { exampleAccount, exampleUser } from './management-examples.js'
import { refTo } from './schema-helpers.js'

// Sign-in, sessions and the signed-in person's own things (DESIGN §3).

const time = (description = 'ISO 8601 time.') => Type.String({ description })

export const SignInBody = Type.Object({
  email: Type.String({ minLength: 1, maxLength: 254 }),
  password: Type.String({ minLength: 1, maxLength: 1024 }),
  otp: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'A code of the second factor, or a recovery code, once a second factor is on.' })),
}, { additionalProperties: false, examples: [{ email: 'admin@example.com', password: 'correct horse battery staple' }] })

export const SignedIn = Type.Object({
  csrf_token: Type.String({ description: 'Send it in `X-CSRF-Token` on every call other than GET made with the session cookie.' }),
  user: refTo(User),
  account: refTo(Account),
  expires_at: time('The absolute end of the session; it also ends after a while unused.'),
  password_change_required: Type.Boolean({ description: 'True after a one-time password: only `POST /api/v1/me/password` (and sign-out) work until it is changed.' }),
  second_factor_enrollment_required: Type.Boolean({ description: 'True for an admin of an account that requires a second factor, without one: only setting it up (and sign-out) work until then.' }),
}, { additionalProperties: false })

export const SessionInfo = Type.Object({
  id: Type.String({ description: "The session's public id (a hash; the cookie's value is never shown)." }),
  created_at: time(),
  last_seen_at: time('Updated at most once a minute.'),
  expires_at: time(),
  address: Type.String(),
  user_agent: Type.String(),
  current: Type.Boolean({ description: 'The session this call was made with.' }),
}, { additionalProperties: false })

export const SessionIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: false })

export const exampleSignedIn: Static<typeof SignedIn> = {
  csrf_token: 'mH3yQ0v9cE2kq2m6WbH8n2qf3TgZ8m4qz0yR5kqQb0Q', user: { ...exampleUser, role: 'admin' }, account: exampleAccount,
  expires_at: '2025-01-15T21:30:00.000Z', password_change_required: false, second_factor_enrollment_required: false,
}

export const exampleSessionInfo: Static<typeof SessionInfo> = {
  id: 'C2b1x0i9m3xQv5o4oJ0n6eGk7m2h1y8gqk3jzqkHq9Q', created_at: '2025-01-15T09:30:00.000Z', last_seen_at: '2025-01-15T09:42:00.000Z',
  expires_at: '2025-01-15T21:30:00.000Z', address: '203.0.113.7', user_agent: 'Mozilla/5.0 (X11; Linux x86_64)', current: true,
}
