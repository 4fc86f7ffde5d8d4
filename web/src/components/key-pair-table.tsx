import type { ReactNode } from 'react'
import type { Schemas } from '../api/client'
import { formatLastUsed, formatRelative, formatTime } from '../format'

type KeyPair = Schemas['KeyPair']

function stateOf(k: KeyPair): ReactNode {
  if (k.state === 'grace') return <span className="badge badge-warning">grace</span>
  if (k.state === 'revoked') return <span className="badge badge-muted">revoked</span>
  if (k.state === 'expired') return <span className="badge badge-bad">expired</span>
  return <span className="badge badge-ok">active</span>
}

/** When and from where the pair was last used. */
function lastUseOf(k: KeyPair): ReactNode {
  if (k.last_used_at === null) return formatLastUsed(null)
  const from = [k.last_used_address, k.last_used_user_agent].filter((v) => v !== null).join(' · ')
  // One element, like expiresOf's: on a phone a cell's children would be laid out apart.
  return <span>{formatLastUsed(k.last_used_at)}{from && <span className="last-use" data-testid="last-used-from">from {from}</span>}</span>
}

/** When it stops working on its own: its lifetime's end or its grace's, whichever comes first. */
function expiresOf(k: KeyPair): ReactNode {
  if (k.state === 'revoked') return <span className="hint">—</span>
  if (k.expires_at === null) return 'never'
  if (k.state === 'expired') return formatTime(k.expires_at)
  // One element: the stacked (phone) table lays out a cell's children as cells of their own.
  return <span>{formatRelative(k.expires_at)} <span className="hint">({formatTime(k.expires_at)})</span></span>
}

/** A client's key pairs: never a secret; state, when made, when it expires, last used (and from where), tokens issued. */
export function KeyPairTable({ pairs, caption, action }: { pairs: readonly KeyPair[]; caption: string; action?: (k: KeyPair) => ReactNode }) {
  return (
    <div className="table-wrap" role="region" aria-label={caption} tabIndex={0}>
      <table className="table table-stacking">
        <caption className="offscreen">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Client ID</th>
            <th scope="col">State</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            <th scope="col">Tokens issued</th>
            {action && <th scope="col"><span className="offscreen">Actions</span></th>}
          </tr>
        </thead>
        <tbody>
          {pairs.map((k) => (
            <tr key={k.client_id} data-state={k.state}>
              <td data-label="Client ID"><code>{k.client_id}</code></td>
              <td data-label="State">{stateOf(k)}</td>
              <td data-label="Created">{formatTime(k.created_at)}</td>
              <td data-label="Expires" data-testid="expires">{expiresOf(k)}</td>
              <td data-label="Last used" data-testid="last-used">{lastUseOf(k)}</td>
              <td data-label="Tokens issued">{k.tokens_issued}</td>
              {action && <td data-label="">{action(k)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
