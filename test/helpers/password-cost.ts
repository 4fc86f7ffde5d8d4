// Servers and commands under test hash passwords at the lowest cost keymint accepts: at the
// default (scrypt N = 2^15) a hash or a sign-in costs ~0.1–0.2 s of CPU, paid some 400 times by
// the suite. The default's own hashes are tested in src/crypto/passwords.test.ts.
export const TEST_PASSWORD_COST = 10

/** The environment that sets it, for `keymint` processes. */
export const TEST_PASSWORD_ENV: Readonly<Record<string, string>> = { KEYMINT_PASSWORD_HASH_COST: String(TEST_PASSWORD_COST) }
