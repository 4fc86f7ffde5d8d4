import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// `npm run web:dev` serves the pages with hot reload and passes the server's paths on to a
// keymint on :8080, saying its own Origin: the server accepts session calls only from itself.
const KEYMINT = 'http://127.0.0.1:8080'
const SERVER_PATHS = ['/api', '/oauth2', '/auth', '/.well-known']

// Built by `npm run build` into dist/web, which `keymint serve` serves at / (src/http/routes/dashboard.ts).
export default defineConfig({
  plugins: [react()],
  server: {
    proxy: Object.fromEntries(SERVER_PATHS.map((path) => [path, {
      target: KEYMINT,
      configure: (proxy) => { proxy.on('proxyReq', (request) => request.setHeader('origin', KEYMINT)) },
    }])),
  },
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    manifest: true,
    // No inline scripts or data: URLs for modules: the server's CSP allows only 'self'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
})
