// Ready-to-run requests for a key pair just generated, with its real values and this server's URL.

export interface SnippetInput {
  readonly clientId: string
  readonly clientSecret: string
  /** User-level pairs take the header dialect's /auth/oidc, subscription-level ones /auth/oauth. */
  readonly level: 'user' | 'subscription'
  readonly issuer: string
  readonly tokenEndpoint: string
}

export interface Snippet {
  readonly id: string
  readonly title: string
  readonly language: string
  readonly code: string
}

export function snippetsFor(k: SnippetInput): Snippet[] {
  const headerUrl = `${k.issuer}/auth/${k.level === 'user' ? 'oidc' : 'oauth'}`
  return [
    {
      id: 'curl-header',
      title: 'curl (header)',
      language: 'sh',
      code: [
        `curl -X POST '${headerUrl}' \\`,
        `  --header "clientSecret: ${k.clientSecret}" \\`,
        `  --header "clientId: ${k.clientId}" \\`,
        `  --data-raw ''`,
      ].join('\n'),
    },
    {
      id: 'curl-oauth2',
      title: 'curl (OAuth 2.0)',
      language: 'sh',
      code: `curl --data "grant_type=client_credentials&client_id=${k.clientId}&client_secret=${k.clientSecret}" ${k.tokenEndpoint}/`,
    },
    {
      id: 'node',
      title: 'Node.js',
      language: 'ts',
      code: [
        `import { TokenClient } from 'keymint/client'`,
        ``,
        `const tokens = new TokenClient({`,
        `  issuer: '${k.issuer}',`,
        `  clientId: '${k.clientId}',`,
        `  clientSecret: '${k.clientSecret}',`,
        `})`,
        ``,
        `// Cached and refreshed before it expires.`,
        `const token = await tokens.getToken()`,
      ].join('\n'),
    },
    {
      id: 'python',
      title: 'Python',
      language: 'python',
      code: [
        `import requests`,
        ``,
        `response = requests.post(`,
        `    "${k.tokenEndpoint}",`,
        `    data={`,
        `        "grant_type": "client_credentials",`,
        `        "client_id": "${k.clientId}",`,
        `        "client_secret": "${k.clientSecret}",`,
        `    },`,
        `)`,
        `response.raise_for_status()`,
        `token = response.json()["access_token"]`,
      ].join('\n'),
    },
  ]
}
