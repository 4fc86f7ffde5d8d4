import { Link } from 'react-aria-components'
import { api } from '../api/client'
import { formatRelative, formatTime } from '../format'
import { useLoad } from '../use-load'

/**
 * The account's key pairs that expire within 30 days (issue 15: reminders before a secret stops
 * working), on every screen until they are rotated. Says nothing when none do, or when the
 * signed-in person may not list clients.
 */
export function ExpiringBanner({ path }: { path: string }) {
  const expiring = useLoad(() => api.GET('/api/v1/key-pairs/expiring'), [path])
  const items = expiring.data?.items ?? []
  if (items.length === 0) return null
  return (
    <section className="notice notice-warning expiring-banner" aria-labelledby="expiring-heading" data-testid="expiring-banner">
      <p id="expiring-heading" className="expiring-title">
        <strong>{items.length === 1 ? 'A key pair expires soon' : `${items.length} key pairs expire soon`}</strong>
      </p>
      <p>Once a key pair expires, integrations using it get no new tokens. Generate new keys for its client and update the integration before then.</p>
      <ul>
        {items.map((k) => (
          <li key={k.client_id}>
            <Link href={`/clients/${k.client}`}>{k.client_name}</Link>: key pair <code>{k.client_id}</code> expires{' '}
            <strong>{formatRelative(k.expires_at)}</strong> ({formatTime(k.expires_at)})
          </li>
        ))}
      </ul>
    </section>
  )
}
