import { lazy, Suspense, type ReactNode } from 'react'
import { Button, Link } from 'react-aria-components'
import { usePath } from '../router'
import { useSession } from '../session'
import { ExpiringBanner } from './expiring-banner'
import { BuildingIcon } from './icons'

// Every screen behind sign-in is its own chunk: the first load carries only sign-in and this frame.
const AccountHome = lazy(() => import('../screens/account-home').then((m) => ({ default: m.AccountHome })))
const Settings = lazy(() => import('../screens/settings').then((m) => ({ default: m.Settings })))
const Clients = lazy(() => import('../screens/clients').then((m) => ({ default: m.Clients })))
const ClientDetail = lazy(() => import('../screens/client-detail').then((m) => ({ default: m.ClientDetail })))
const Users = lazy(() => import('../screens/users').then((m) => ({ default: m.Users })))
const AuditLog = lazy(() => import('../screens/audit-log').then((m) => ({ default: m.AuditLog })))
const TokenTester = lazy(() => import('../screens/token-tester').then((m) => ({ default: m.TokenTester })))
const SigningKeys = lazy(() => import('../screens/signing-keys').then((m) => ({ default: m.SigningKeys })))
const NotFound = lazy(() => import('../screens/not-found').then((m) => ({ default: m.NotFound })))

const NAV: readonly { href: string; label: string }[] = [
  { href: '/clients', label: 'Clients & key pairs' },
  { href: '/users', label: 'Users' },
  { href: '/audit', label: 'Audit log' },
  { href: '/token-tester', label: 'Token tester' },
  { href: '/signing-keys', label: 'Signing keys' },
  { href: '/settings', label: 'Settings' },
]

function screenFor(path: string): ReactNode {
  if (path === '/' || path === '') return <AccountHome />
  if (path === '/settings' || path.startsWith('/settings/')) return <Settings path={path} />
  if (path === '/clients') return <Clients />
  const client = /^\/clients\/([0-9a-f-]{36})$/.exec(path)
  if (client?.[1]) return <ClientDetail id={client[1]} />
  if (path === '/users') return <Users />
  if (path === '/audit') return <AuditLog />
  if (path === '/token-tester') return <TokenTester />
  if (path === '/signing-keys') return <SigningKeys />
  return <NotFound />
}

const isCurrent = (href: string, path: string) => path === href || path.startsWith(`${href}/`)

/** The frame of every signed-in screen: the account (building icon) top left, the navigation, who is signed in. */
export function Shell() {
  const { signedIn, signOut } = useSession()
  const path = usePath()
  return (
    <div className="shell">
      <a className="skip-link" href="#main">Skip to content</a>
      <header className="topbar">
        <Link href="/" className="account-link" aria-label={`Account home: ${signedIn.account.name}`}>
          <BuildingIcon />
          <span className="account-name" aria-hidden="true">{signedIn.account.name}</span>
        </Link>
        <div className="topbar-user">
          <span className="who">{signedIn.user.email} <span className="badge">{signedIn.user.role}</span></span>
          <Button className="button button-small" onPress={() => void signOut()}>Sign out</Button>
        </div>
      </header>
      <nav className="sidenav" aria-label="Main">
        <ul>
          {NAV.map((item) => (
            <li key={item.href}>
              <Link href={item.href} className="nav-link" {...(isCurrent(item.href, path) ? { 'aria-current': 'page' as const } : {})}>{item.label}</Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content">
        {signedIn.account.plan === 'enterprise' && <ExpiringBanner path={path} />}
        <Suspense fallback={<p role="status" className="loading">Loading…</p>}>
          {screenFor(path)}
        </Suspense>
      </main>
    </div>
  )
}
