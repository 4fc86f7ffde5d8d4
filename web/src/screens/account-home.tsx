import { Link } from 'react-aria-components'
import { PageTitle } from '../components/ui'
import { useSession } from '../session'

/** Where the building icon leads: the account, and the ways on from it. */
export function AccountHome() {
  const { signedIn } = useSession()
  const { account, user } = signedIn
  return (
    <>
      <PageTitle>{account.name}</PageTitle>
      <dl className="facts">
        <dt>Plan</dt><dd>{account.plan}{account.plan !== 'enterprise' && ' (API key pairs need the enterprise plan)'}</dd>
        <dt>Account id</dt><dd><code>{account.id}</code></dd>
        <dt>You</dt><dd>{user.email}, {user.role}</dd>
      </dl>
      <h2>Where to go</h2>
      <ul className="link-list">
        <li><Link href="/settings/integrations/api">Your API key pair</Link>: generate the key pair your integrations use (Settings &amp; Integrations → API).</li>
        <li><Link href="/clients">Clients &amp; key pairs</Link>: the account's integrations, their key pairs and when each was last used.</li>
        <li><Link href="/users">Users</Link>: who may sign in and obtain tokens.</li>
        <li><Link href="/audit">Audit log</Link>: who did what, and when.</li>
        <li><Link href="/token-tester">Token tester</Link>: decode a token and check it against this server.</li>
      </ul>
    </>
  )
}
