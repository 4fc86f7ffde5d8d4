import { useState } from 'react'
import { Button } from 'react-aria-components'
import { api, problemOf } from '../api/client'
import { KeyPairTable } from '../components/key-pair-table'
import { NewKeyPair } from '../components/new-key-pair'
import { RotateDialog } from '../components/rotate-dialog'
import { Confirm, EmptyState, Notice, NotAllowed } from '../components/ui'
import { formatLastUsed, formatTime } from '../format'
import { useAbilities } from '../session'
import { useLoad } from '../use-load'

type Issued = { clientId: string; clientSecret: string | undefined }

/** The signed-in admin's own API key pair (second seed: "Each admin user has a distinct API key pair"). */
export function ApiTab() {
  const { admin, enterprise, plan } = useAbilities()
  if (!enterprise) {
    return (
      <NotAllowed>
        API key pairs are an enterprise feature: this account is on the {plan} plan, so it holds no key pairs and
        keymint refuses to make one. Move the account to the enterprise plan to generate keys.
      </NotAllowed>
    )
  }
  if (!admin) {
    return (
      <NotAllowed>
        Only admins of the account have an API key pair and can generate one. If an integration needs a key pair,
        ask an admin of your account.
      </NotAllowed>
    )
  }
  return <OwnKeyPair />
}

function OwnKeyPair() {
  const own = useLoad(() => api.GET('/api/v1/me/key-pair'), [])
  const [issued, setIssued] = useState<Issued | undefined>()
  const [problem, setProblem] = useState<string | undefined>()
  const [notice, setNotice] = useState<string | undefined>()
  const [rotating, setRotating] = useState(false)
  const [phase, setPhase] = useState<'finish' | 'cancel' | undefined>()
  const [revoking, setRevoking] = useState(false)

  const client = own.data?.client ?? null
  const pairs = own.data?.key_pairs ?? []
  const active = pairs.find((k) => k.state === 'active')
  // A rotation is in progress while the new pair works beside the one it replaced (newest first).
  const replaced = active ? pairs.find((k) => k.state === 'grace') : undefined

  const generate = async (graceSeconds: number, keyExpiresIn?: number) => {
    setProblem(undefined)
    setNotice(undefined)
    const body = { ...(graceSeconds > 0 ? { grace_seconds: graceSeconds } : {}), ...(keyExpiresIn === undefined ? {} : { key_expires_in_seconds: keyExpiresIn }) }
    const { data, error, response } = await api.POST('/api/v1/me/key-pair', { body })
    setRotating(false)
    if (!data) {
      setProblem(problemOf(error, response).detail)
      return
    }
    setIssued({ clientId: data.key_pair.client_id, clientSecret: data.key_pair.client_secret })
    await own.reload()
  }

  const startGeneration = () => {
    // Only a pair that is in use needs the warning; an unused one is simply replaced.
    if (active?.last_used_at) setRotating(true)
    else void generate(0)
  }

  const endRotation = async (how: 'finish' | 'cancel') => {
    if (!client || !replaced) return
    const path = how === 'finish' ? '/api/v1/clients/{id}/key-pairs/finish' : '/api/v1/clients/{id}/key-pairs/cancel'
    const { error, response } = await api.POST(path, { params: { path: { id: client.id } } })
    setPhase(undefined)
    setIssued(undefined)
    if (!response.ok) setProblem(problemOf(error, response).detail)
    else if (how === 'finish') setNotice(`Rotation finished: the old key pair ${replaced.client_id} no longer works.`)
    else setNotice(`Rotation cancelled: the new key pair is revoked and the old key pair ${replaced.client_id} works again, with no end.`)
    await own.reload()
  }

  const revoke = async () => {
    if (!client) return
    const { error, response } = await api.DELETE('/api/v1/clients/{id}/key-pairs', { params: { path: { id: client.id } } })
    setRevoking(false)
    setIssued(undefined)
    if (!response.ok) setProblem(problemOf(error, response).detail)
    else setNotice('Your API key pair is revoked. Generate new keys when an integration needs one again.')
    await own.reload()
  }

  return (
    <>
      <h2>Your API key pair</h2>
      <p>
        Integrations exchange this key pair (a Client ID and a Client Secret) for access tokens that act as you.
        Each admin has a distinct key pair; generating a new one revokes access to the old one.
      </p>
      {problem && <Notice kind="error">{problem}</Notice>}
      {notice && <Notice kind="success">{notice}</Notice>}
      {own.problem && <Notice kind="error">{own.problem.detail}</Notice>}
      {issued && client && <NewKeyPair clientId={issued.clientId} clientSecret={issued.clientSecret} level={client.level} onDone={() => setIssued(undefined)} />}
      {own.data && (pairs.length === 0 ? (
        <EmptyState title={client ? 'Your key pair is revoked.' : 'You have no API key pair yet.'}>
          Click <strong>Generate new keys</strong> to make one: the Client ID and Client Secret appear here, once.
        </EmptyState>
      ) : (
        <>
          {pairs.every((k) => k.state === 'expired') && (
            <Notice kind="warning">Your key pair has expired: keymint refuses it. Generate new keys and update the key pair values in your integrations.</Notice>
          )}
          {replaced && active && (
            <section className="rotation" aria-labelledby="rotation-heading" data-testid="rotation">
              <h3 id="rotation-heading">Rotation in progress</h3>
              <p>
                The old key pair <code>{replaced.client_id}</code> still works until its grace period ends
                {replaced.expires_at ? ` (${formatTime(replaced.expires_at)})` : ''}.
              </p>
              <p data-testid="rotation-old-last-used">
                It was last used <strong>{formatLastUsed(replaced.last_used_at)}</strong>. Once its last use stops moving,
                every integration has the new values: finish the rotation. If the new key pair does not work, cancel it.
              </p>
              <div className="actions">
                <Button className="button button-primary" onPress={() => setPhase('finish')}>Finish rotation</Button>
                <Button className="button" onPress={() => setPhase('cancel')}>Cancel rotation</Button>
              </div>
            </section>
          )}
          <KeyPairTable pairs={pairs} caption="Your key pairs" />
        </>
      ))}
      <div className="actions">
        <Button className="button button-primary" onPress={startGeneration} isDisabled={!own.data}>Generate new keys</Button>
        {pairs.length > 0 && <Button className="button button-danger" onPress={() => setRevoking(true)}>Revoke key pair</Button>}
        <Button className="button" onPress={() => void own.reload()}>Refresh</Button>
      </div>
      <RotateDialog isOpen={rotating} onOpenChange={setRotating} replacing={active} onRotate={generate} />
      <Confirm
        title="Finish the rotation?"
        confirmLabel="Finish rotation"
        destructive
        isOpen={phase === 'finish'}
        onOpenChange={(open) => { if (!open) setPhase(undefined) }}
        onConfirm={() => endRotation('finish')}
      >
        <p>The old key pair <code>{replaced?.client_id}</code> stops working at once: integrations still using it get no new tokens, and the tokens it was issued stop being accepted. Only the new key pair stays.</p>
        <p>The old key pair was last used {formatLastUsed(replaced?.last_used_at ?? null)}.</p>
      </Confirm>
      <Confirm
        title="Cancel the rotation?"
        confirmLabel="Cancel rotation"
        destructive
        isOpen={phase === 'cancel'}
        onOpenChange={(open) => { if (!open) setPhase(undefined) }}
        onConfirm={() => endRotation('cancel')}
      >
        <p>The new key pair <code>{active?.client_id}</code> is revoked at once, and the old key pair <code>{replaced?.client_id}</code> works again, with no end.</p>
        <p>The new key pair was last used {formatLastUsed(active?.last_used_at ?? null)}; the old one {formatLastUsed(replaced?.last_used_at ?? null)}.</p>
      </Confirm>
      <Confirm
        title="Revoke your API key pair?"
        confirmLabel="Revoke key pair"
        destructive
        isOpen={revoking}
        onOpenChange={setRevoking}
        onConfirm={revoke}
      >
        <p>Every integration using your key pair will stop working until you generate new keys and update the key pair values in the code.</p>
        {active && <p>The key pair was last used {formatLastUsed(active.last_used_at)}.</p>}
      </Confirm>
    </>
  )
}
