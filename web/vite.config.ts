import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

// Built by `npm run build` into dist/web, which `keymint serve` serves at / (src/http/routes/dashboard.ts).
export default defineConfig({
  plugins: [react()],
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
