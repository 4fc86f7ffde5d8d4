import { useState } from 'react'
import { Button, Switch } from 'react-aria-components'
import { api, problemOf } from '../api/client'
import { KeyExpirySettings } from '../components/key-expiry-settings'
import { Notice, NotAllowed } from '../components/ui'
import { formatDuration, formatTime } from '../format'
import { useAbilities, useSession } from '../session'

/** The account's facts and its sign-in rule; signing out everywhere. */
export function GeneralTab() {
  const { signedIn, replace } = useSession()
  const { admin } = useAbilities()
  const { account } = signedIn
  const [problem, setProblem] = useState<string | undefined>()

  const refresh = async () => {
    const current = await api.GET('/api/v1/sessions/current')
    if (current.data) replace(current.data)
  }

  const setRequired = async (required: boolean) => {
    setProblem(undefined)
    const { data, error, response } = await api.PATCH('/api/v1/account', { body: { require_admin_second_factor: required } })
    if (!data) {
      setProblem(problemOf(error, response).detail)
      return
    }
    await refresh()
  }

  const everywhere = async () => {
    await api.DELETE('/api/v1/sessions')
    window.location.assign('/')
  }

  return (
    <>
      <h2>Account</h2>
      <dl className="facts">
        <dt>Name</dt><dd>{account.name}</dd>
        <dt>Plan</dt><dd>{account.plan}</dd>
        <dt>Account id</dt><dd><code>{account.id}</code></dd>
        <dt>Created</dt><dd>{formatTime(account.created_at)}</dd>
      </dl>
      <h2>Sign-in</h2>
      {problem && <Notice kind="error">{problem}</Notice>}
      {admin ? (
        <Switch isSelected={account.require_admin_second_factor} onChange={(v) => void setRequired(v)} className="switch">
          <span className="switch-track" aria-hidden="true"><span className="switch-thumb" /></span>
          Require a second factor of every admin
        </Switch>
      ) : (
        <>
          <p>Admins {account.require_admin_second_factor ? 'must' : 'need not'} sign in with a second factor.</p>
          <NotAllowed>Only admins change this setting.</NotAllowed>
        </>
      )}
      <h2>Key pair expiry</h2>
      <p>Key pairs that expire limit the harm of a leaked secret. keymint reminds 30, 7 and 1 days before one expires: in the audit log, by webhook, and in a banner on every screen of this dashboard.</p>
      {admin ? (
        <KeyExpirySettings account={account} onSaved={refresh} />
      ) : (
        <>
          <p>
            New key pairs {account.default_key_expires_in_seconds !== null ? `expire after ${formatDuration(account.default_key_expires_in_seconds)}` : 'do not expire'} unless
            asked otherwise; {account.max_key_expires_in_seconds !== null ? `none lives longer than ${formatDuration(account.max_key_expires_in_seconds)}` : 'there is no limit'}.
          </p>
          <NotAllowed>Only admins change these settings.</NotAllowed>
        </>
      )}
      <h2>Your sessions</h2>
      <p>Signed in until {formatTime(signedIn.expires_at)} at the latest (a session also ends after 30 minutes unused).</p>
      <Button className="button" onPress={() => void everywhere()}>Sign out everywhere</Button>
    </>
  )
}
