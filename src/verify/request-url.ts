/**
 * The public origin a resource server is called at (`https://api.example.com`), checked once at
 * construction: DPoP proofs name the URL the client called, which behind a proxy is not the one
 * the server sees.
 *
 * @param origin - the option as given
 * @internal
 */
export function checkOrigin(origin: unknown): string | undefined {
  if (origin === undefined) return undefined
  if (typeof origin !== 'string' || !URL.canParse(origin) || !/^https?:$/.test(new URL(origin).protocol) || new URL(origin).pathname.replace(/\/+$/, '') !== '') {
    throw new TypeError('keymint/verify: origin must be an http(s) origin such as https://api.example.com, without a path')
  }
  return new URL(origin).origin
}

/**
 * The absolute URL of a request, as a DPoP proof's `htu` names it: the configured origin, else
 * the request's own scheme and `Host`, and its path.
 *
 * @param parts - what the framework knows of the request
 * @internal
 */
export function requestUrl(parts: { readonly origin: string | undefined; readonly protocol: string; readonly host: string | undefined; readonly path: string }): string {
  const path = parts.path.startsWith('/') ? parts.path : `/${parts.path}`
  return `${parts.origin ?? `${parts.protocol}://${parts.host ?? 'localhost'}`}${path}`
}
