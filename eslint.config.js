import { dirname, resolve, sep } from 'node:path'
import reactHooks from 'eslint-plugin-react-hooks'
import tseslint from 'typescript-eslint'

// Import direction (STYLE §1): http → oauth/domain → store/crypto, never back up; the published
// libraries import nothing of the server.
const forbid = (...groups) => ({
  'no-restricted-imports': ['error', { patterns: groups.map((g) => ({ group: [g], message: 'breaks the import direction (STYLE §1)' })) }],
})

// STYLE §1: web/ talks to the server over HTTP only. A relative import that lands in the server's
// src/ (or the package's own entry points) is refused wherever it is written from; web/src itself is fine.
const SERVER_SRC = resolve(import.meta.dirname, 'src')
export const overHttpOnly = {
  meta: { type: 'problem', messages: { server: 'web/ talks to the server over HTTP only (STYLE §1): use the API client, not {{path}}' } },
  create(context) {
    const check = (node) => {
      const path = node.source?.value
      if (typeof path !== 'string') return
      const target = path.startsWith('.') ? resolve(dirname(context.filename), path) : undefined
      const intoServer = target !== undefined && (target === SERVER_SRC || target.startsWith(SERVER_SRC + sep))
      if (intoServer || path === 'keymint' || path.startsWith('keymint/')) context.report({ node, messageId: 'server', data: { path } })
    }
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check }
  },
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'web/dist/**', '*.config.js'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
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
  // crypto is the floor: it knows no record of keymint's; store implements the domain's ports.
  { files: ['src/crypto/**/*.ts'], rules: forbid('**/domain/**', '**/store/**', '**/runtime/**', '**/http/**', '**/oauth/**', '**/cli/**', '**/contract/**', 'fastify', 'kysely') },
  { files: ['src/store/**/*.ts'], rules: forbid('**/runtime/**', '**/http/**', '**/oauth/**', '**/cli/**', '**/contract/**', 'fastify') },
  // domain holds rules only: no machinery (runtime), no edges.
  { files: ['src/domain/**/*.ts'], rules: forbid('**/runtime/**', '**/http/**', '**/oauth/**', '**/cli/**', '**/contract/**', 'fastify', 'kysely') },
  { files: ['src/oauth/**/*.ts'], rules: forbid('**/runtime/**', '**/http/**', '**/cli/**', '**/contract/**', 'fastify', 'kysely') },
  // Caches, batched writers, timers, the key ring: machinery under the edges, above the rules.
  { files: ['src/runtime/**/*.ts'], rules: forbid('**/http/**', '**/cli/**', '**/contract/**', 'fastify') },
  // Wire shapes shared by the API and the CLI.
  { files: ['src/contract/**/*.ts'], rules: forbid('**/runtime/**', '**/http/**', '**/cli/**', '**/store/**', 'fastify', 'kysely') },
  // The CLI is an edge beside http, never through it.
  { files: ['src/cli/**/*.ts'], rules: forbid('**/http/**', 'fastify') },
  { files: ['src/client/**/*.ts', 'src/verify/**/*.ts'], rules: forbid('../*', '!./*') },
  // The dashboard: React's rules of hooks, and the server only over HTTP.
  {
    files: ['web/**/*.ts', 'web/**/*.tsx'],
    plugins: { 'react-hooks': reactHooks, keymint: { rules: { 'over-http-only': overHttpOnly } } },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
      'keymint/over-http-only': 'error',
    },
  },
)
