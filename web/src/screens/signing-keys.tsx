import { api } from '../api/client'
import { EmptyState, Notice, NotAllowed, PageTitle } from '../components/ui'
import { formatTime } from '../format'
import { useAbilities } from '../session'
import { useLoad } from '../use-load'

/** The server's keys, read-only: rotating them affects every account, so it stays on the command line. */
export function SigningKeys() {
  const { admin } = useAbilities()
  const keys = useLoad(() => admin ? api.GET('/api/v1/signing-keys') : Promise.resolve({ data: undefined, response: new Response() }), [admin])
  return (
    <>
      <PageTitle>Signing keys</PageTitle>
      <p>The keys this server signs tokens with (<code>sig</code>) and receives encrypted tokens with (<code>enc</code>), as published in <a href="/.well-known/jwks.json">/.well-known/jwks.json</a>. They are the server's, shared by every account: rotate them with <code>keymint signing-keys rotate</code> on the server.</p>
      {!admin ? <NotAllowed>Only admins see the server's keys.</NotAllowed> : (
        <>
          {keys.problem && <Notice kind="error">{keys.problem.detail}</Notice>}
          {keys.data && (keys.data.items.length === 0 ? <EmptyState title="No keys yet.">The server makes its first keys when it starts.</EmptyState> : (
            <div className="table-wrap" role="region" aria-label="Signing keys" tabIndex={0}>
              <table className="table table-stacking">
                <thead><tr><th scope="col">Key id (kid)</th><th scope="col">Use</th><th scope="col">Algorithm</th><th scope="col">State</th><th scope="col">Created</th><th scope="col">Signs from</th><th scope="col">Retired</th></tr></thead>
                <tbody>
                  {keys.data.items.map((k) => (
                    <tr key={k.kid}>
                      <td data-label="Key id"><code>{k.kid}</code></td><td data-label="Use">{k.use}</td><td data-label="Algorithm">{k.alg}</td><td data-label="State">{k.state}</td>
                      <td data-label="Created">{formatTime(k.created_at)}</td><td data-label="Signs from">{formatTime(k.activates_at)}</td><td data-label="Retired">{k.retired_at ? formatTime(k.retired_at) : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ))}
        </>
      )}
    </>
  )
}
