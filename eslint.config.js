import tseslint from 'typescript-eslint'

// Import direction (STYLE §1): http → oauth/domain → store/crypto, never back up; the published
// libraries import nothing of the server.
const forbid = (...groups) => ({
  'no-restricted-imports': ['error', { patterns: groups.map((g) => ({ group: [g], message: 'breaks the import direction (STYLE §1)' })) }],
})

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'web/dist/**', '*.config.js'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': ['error', {
        allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }],
      }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  { files: ['src/store/**/*.ts', 'src/crypto/**/*.ts'], rules: forbid('**/http/**', '**/oauth/**', '**/cli/**', 'fastify') },
  { files: ['src/domain/**/*.ts'], rules: forbid('**/http/**', '**/oauth/**', '**/cli/**', 'fastify', 'kysely') },
  { files: ['src/oauth/**/*.ts'], rules: forbid('**/http/**', '**/cli/**', 'fastify', 'kysely') },
  { files: ['src/client/**/*.ts', 'src/verify/**/*.ts'], rules: forbid('../*', '!./*') },
)
