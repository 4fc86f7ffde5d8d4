import { useState } from 'react'
import { Button, Link, Switch } from 'react-aria-components'
import { api, problemOf, type Schemas } from '../api/client'
import { EditLimitsForm, LimitFacts } from '../components/client-limits'
import { KeyPairTable } from '../components/key-pair-table'
import { NewKeyPair } from '../components/new-key-pair'
import { RotateDialog } from '../components/rotate-dialog'
import { TrustPolicies } from '../components/trust-policies'
import { Confirm, EmptyState, FormDialog, Notice, NotAllowed, PageTitle } from '../components/ui'
import { formatDuration, formatLastUsed, formatTime } from '../format'
import { useAbilities } from '../session'
import { useLoad } from '../use-load'

type KeyPair = Schemas['KeyPair']

/** One client: what it may get, and its key pairs with their state, last use and tokens issued. */
export function ClientDetail({ id }: { id: string }) {
  const { manageKeys, enterprise, plan } = useAbilities()
  const client = useLoad(() => api.GET('/api/v1/clients/{id}', { params: { path: { id } } }), [id])
  const pairs = useLoad(() => api.GET('/api/v1/clients/{id}/key-pairs', { params: { path: { id } } }), [id])
  const [rotating, setRotating] = useState(false)
  const [revoking, setRevoking] = useState(false)
  const [ending, setEnding] = useState<KeyPair | undefined>()
  const [issued, setIssued] = useState<{ clientId: string; clientSecret: string | undefined } | undefined>()
  const [problem, setProblem] = useState<string | undefined>()
  const [notice, setNotice] = useState<string | undefined>()
  const [editingLimits, setEditingLimits] = useState(false)

  const c = client.data

  const setRequireDPoP = async (required: boolean) => {
    const res = await api.PATCH('/api/v1/clients/{id}', { params: { path: { id } }, body: { require_dpop: required } })
    if (!res.response.ok) setProblem(problemOf(res.error, res.response).detail)
    else { setProblem(undefined); setNotice(required ? 'The client now gets DPoP-bound tokens only.' : 'The client may get bearer tokens again.') }
    await client.reload()
  }
  const items = pairs.data?.items ?? []
  const live = items.filter((k) => k.state === 'active' || k.state === 'grace')
  const active = items.find((k) => k.state === 'active')

  const done = async (message: string | undefined, res: { error?: unknown; response: Response }) => {
    if (!res.response.ok) setProblem(problemOf(res.error, res.response).detail)
    else { setProblem(undefined); setNotice(message) }
    await pairs.reload()
  }

  const rotate = async (graceSeconds: number, keyExpiresIn?: number) => {
    const body = { ...(graceSeconds > 0 ? { grace_seconds: graceSeconds } : {}), ...(keyExpiresIn === undefined ? {} : { key_expires_in_seconds: keyExpiresIn }) }
    const res = await api.POST('/api/v1/clients/{id}/key-pairs', { params: { path: { id } }, body })
    setRotating(false)
    if (res.data) setIssued({ clientId: res.data.key_pair.client_id, clientSecret: res.data.key_pair.client_secret })
    await done(undefined, res)
  }

  const endGrace = async (pair: KeyPair) => {
    const res = await api.DELETE('/api/v1/clients/{id}/key-pairs/{client_id}', { params: { path: { id, client_id: pair.client_id } } })
    setEnding(undefined)
    await done(`The key pair ${pair.client_id} no longer works.`, res)
  }

  const revokeAll = async () => {
    const res = await api.DELETE('/api/v1/clients/{id}/key-pairs', { params: { path: { id } } })
    setRevoking(false)
    setIssued(undefined)
    await done('Every key pair of the client is revoked.', res)
  }

  if (!enterprise) {
    return <><PageTitle>Client</PageTitle><NotAllowed>Clients and key pairs are an enterprise feature: this account is on the {plan} plan.</NotAllowed></>
  }
  return (
    <>
      <p className="breadcrumb"><Link href="/clients">Clients &amp; key pairs</Link> /</p>
      <PageTitle>{c ? c.name : 'Client'}</PageTitle>
      {client.problem && <Notice kind="error">{client.problem.detail}</Notice>}
      {c && (
        <dl className="facts">
          <dt>Level</dt><dd>{c.level === 'user' ? 'user (POST /auth/oidc)' : 'subscription (POST /auth/oauth)'}</dd>
          <dt>Scopes</dt><dd>{c.scopes === null ? 'unrestricted' : c.scopes.join(' ') || 'none'}</dd>
          <dt>Token lifetime</dt><dd>{c.lifetime_seconds === null ? "the endpoint's default" : formatDuration(c.lifetime_seconds)}</dd>
          <dt>Signing algorithm</dt><dd>{c.signing_alg ?? "the server's default"}</dd>
          <dt>Encryption</dt><dd>{c.token_encryption ?? 'none'}</dd>
          <dt>Tokens</dt><dd>{c.require_dpop ? 'DPoP-bound only (RFC 9449)' : 'bearer, or DPoP-bound when asked with a proof'}</dd>
          <dt>State</dt><dd>{c.disabled ? 'disabled' : 'enabled'}</dd>
          <LimitFacts client={c} />
          <dt>Created</dt><dd>{formatTime(c.created_at)}</dd>
        </dl>
      )}
      {c && manageKeys && (
        <Switch isSelected={c.require_dpop} onChange={(v) => void setRequireDPoP(v)} className="switch">
          <span className="switch-track" aria-hidden="true"><span className="switch-thumb" /></span>
          Require DPoP: a stolen token is worthless without the client's key
        </Switch>
      )}
      {c && manageKeys && <div className="actions"><Button className="button" onPress={() => setEditingLimits(true)}>Change limits</Button></div>}
      {c && (
        <FormDialog title="Rate limit and quota" isOpen={editingLimits} onOpenChange={setEditingLimits}>
          <EditLimitsForm client={c} onCancel={() => setEditingLimits(false)}
            onSaved={() => { setEditingLimits(false); setNotice('The limits are saved: every instance applies them within a second.'); void client.reload() }} />
        </FormDialog>
      )}
      <h2>Key pairs</h2>
      {problem && <Notice kind="error">{problem}</Notice>}
      {notice && <Notice kind="success">{notice}</Notice>}
      {issued && c && <NewKeyPair {...issued} level={c.level} onDone={() => setIssued(undefined)} />}
      {pairs.problem && <Notice kind="error">{pairs.problem.detail}</Notice>}
      {pairs.data && (items.length === 0
        ? <EmptyState title="This client has no key pair.">{manageKeys ? 'Click Generate new keys to give it one.' : 'An admin can generate one.'}</EmptyState>
        : <KeyPairTable pairs={items} caption="Key pairs of the client"
          {...(manageKeys ? { action: (k: KeyPair) => k.state === 'grace' ? <Button className="button button-small" onPress={() => setEnding(k)}>End the grace now</Button> : null } : {})} />)}
      {manageKeys ? (
        <div className="actions">
          <Button className="button button-primary" onPress={() => setRotating(true)}>Generate new keys</Button>
          {live.length > 0 && <Button className="button button-danger" onPress={() => setRevoking(true)}>Revoke all key pairs</Button>}
          <Button className="button" onPress={() => void pairs.reload()}>Refresh</Button>
        </div>
      ) : (
        <NotAllowed>Only admins generate, rotate or revoke key pairs: the API refuses these to members.</NotAllowed>
      )}
      {manageKeys && c && <TrustPolicies clientId={c.id} />}
      <RotateDialog isOpen={rotating} onOpenChange={setRotating} replacing={active} onRotate={rotate} />
      <Confirm title="End the grace now?" confirmLabel="End the grace now" destructive isOpen={ending !== undefined}
        onOpenChange={(open) => { if (!open) setEnding(undefined) }} onConfirm={() => ending && endGrace(ending)}>
        <p>The key pair <code>{ending?.client_id}</code> stops working at once, and the tokens it was issued stop being accepted.</p>
        <p>It was last used {formatLastUsed(ending?.last_used_at ?? null)}.</p>
      </Confirm>
      <Confirm title="Revoke every key pair of this client?" confirmLabel="Revoke all key pairs" destructive isOpen={revoking} onOpenChange={setRevoking} onConfirm={revokeAll}>
        <p>The integration will stop working until you generate new keys and update the key pair values in the code. Tokens already issued stop being accepted.</p>
        {active && <p>The current key pair was last used {formatLastUsed(active.last_used_at)}.</p>}
      </Confirm>
    </>
  )
}
