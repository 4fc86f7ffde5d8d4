import { useState } from 'react'
import { Button } from 'react-aria-components'
import { api, problemOf, type Schemas } from '../api/client'
import { KeyPairTable } from '../components/key-pair-table'
import { NewKeyPair } from '../components/new-key-pair'
import { RotateDialog } from '../components/rotate-dialog'
import { Confirm, EmptyState, Notice, NotAllowed } from '../components/ui'
import { formatLastUsed } from '../format'
import { useAbilities } from '../session'
import { useLoad } from '../use-load'

type KeyPair = Schemas['KeyPair']
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
  const [ending, setEnding] = useState<KeyPair | undefined>()
  const [revoking, setRevoking] = useState(false)

  const client = own.data?.client ?? null
  const pairs = own.data?.key_pairs ?? []
  const active = pairs.find((k) => k.state === 'active')

  const generate = async (graceSeconds: number) => {
    setProblem(undefined)
    setNotice(undefined)
    const { data, error, response } = await api.POST('/api/v1/me/key-pair', { body: graceSeconds > 0 ? { grace_seconds: graceSeconds } : {} })
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

  const endGrace = async (pair: KeyPair) => {
    if (!client) return
    const { error, response } = await api.DELETE('/api/v1/clients/{id}/key-pairs/{client_id}', { params: { path: { id: client.id, client_id: pair.client_id } } })
    setEnding(undefined)
    if (!response.ok) setProblem(problemOf(error, response).detail)
    else setNotice(`The old key pair ${pair.client_id} no longer works.`)
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
          {pairs.some((k) => k.state === 'grace') && (
            <Notice kind="warning">
              The old key pair still works until its grace period ends. Once its last use stops moving, every integration
              has the new values and you can end the grace now.
            </Notice>
          )}
          <KeyPairTable
            pairs={pairs}
            caption="Your key pairs"
            action={(k) => k.state === 'grace' ? <Button className="button button-small" onPress={() => setEnding(k)}>End the grace now</Button> : null}
          />
        </>
      ))}
      <div className="actions">
        <Button className="button button-primary" onPress={startGeneration} isDisabled={!own.data}>Generate new keys</Button>
        {pairs.length > 0 && <Button className="button button-danger" onPress={() => setRevoking(true)}>Revoke key pair</Button>}
        <Button className="button" onPress={() => void own.reload()}>Refresh</Button>
      </div>
      <RotateDialog isOpen={rotating} onOpenChange={setRotating} replacing={active} onRotate={generate} />
      <Confirm
        title="End the grace now?"
        confirmLabel="End the grace now"
        destructive
        isOpen={ending !== undefined}
        onOpenChange={(open) => { if (!open) setEnding(undefined) }}
        onConfirm={() => ending && endGrace(ending)}
      >
        <p>The old key pair <code>{ending?.client_id}</code> stops working at once: integrations still using it get no new tokens, and the tokens it was issued stop being accepted.</p>
        <p>It was last used {formatLastUsed(ending?.last_used_at ?? null)}.</p>
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
