import { useEffect, useState } from 'react'

export interface ServerUrls {
  /** The issuer: where integrations reach this server (it may differ from this page's origin behind a proxy). */
  readonly issuer: string
  readonly tokenEndpoint: string
}

let known: Promise<ServerUrls> | undefined

/** From the server's RFC 8414 metadata, once per page load. */
function loadServerUrls(): Promise<ServerUrls> {
  known ??= fetch('/.well-known/oauth-authorization-server')
    .then(async (res) => {
      const meta = await res.json() as { issuer?: string; token_endpoint?: string }
      const issuer = meta.issuer ?? window.location.origin
      return { issuer, tokenEndpoint: meta.token_endpoint ?? `${issuer}/oauth2/token` }
    })
    .catch(() => ({ issuer: window.location.origin, tokenEndpoint: `${window.location.origin}/oauth2/token` }))
  return known
}

export function useServerUrls(): ServerUrls {
  const fallback = { issuer: window.location.origin, tokenEndpoint: `${window.location.origin}/oauth2/token` }
  const [urls, setUrls] = useState<ServerUrls>(fallback)
  useEffect(() => {
    let live = true
    void loadServerUrls().then((u) => { if (live) setUrls(u) })
    return () => { live = false }
  }, [])
  return urls
}
