import type { onSendHookHandler } from 'fastify'

/**
 * What a browser is told about every page and API answer it may load from keymint: run only
 * keymint's own scripts and styles (no inline script), never inside another site's frame, do not
 * guess content types, send no Referer (URLs may name ids), and over https, https only.
 * The OAuth endpoints are called by programs, not browsers: they skip this (the hot path).
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ')

export function securityHeaders(options: { https: boolean }): onSendHookHandler {
  return (request, reply, payload, done) => {
    if (request.routeOptions.config.errorFormat !== 'oauth') {
      if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', CONTENT_SECURITY_POLICY)
      reply.header('x-content-type-options', 'nosniff')
      reply.header('referrer-policy', 'no-referrer')
      reply.header('x-frame-options', 'DENY')
      reply.header('cross-origin-opener-policy', 'same-origin')
      if (options.https) reply.header('strict-transport-security', 'max-age=31536000')
    }
    done(null, payload)
  }
}

/** The reference page styles itself inline; it runs no script at all. */
export const REFERENCE_PAGE_POLICY = CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'unsafe-inline'").replace("script-src 'self'", "script-src 'none'")

/**
 * The dashboard's page. Its component library (React Aria) adds two small `<style>` elements at
 * run time (touch-action on pressable elements, and overscroll containment while a dialog is
 * open on iOS), and takes the nonce they carry from `<meta name="csp-nonce">`. So style-src
 * also admits that one nonce, new for every page load; scripts stay 'self' only.
 */
export const dashboardPagePolicy = (styleNonce: string): string =>
  CONTENT_SECURITY_POLICY.replace("style-src 'self'", `style-src 'self' 'nonce-${styleNonce}'`)
