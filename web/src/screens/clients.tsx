import { useState } from 'react'
import { Button, Checkbox, Label, Link, Radio, RadioGroup } from 'react-aria-components'
import { api, emptyFields, explain, fieldOf, problemOf } from '../api/client'
import { NewKeyPair } from '../components/new-key-pair'
import { EditableForm, EmptyState, Field, FormDialog, NotAllowed, Notice, PageTitle, SelectField } from '../components/ui'
import { formatTime, parseScopes } from '../format'
import { useAbilities } from '../session'
import { useLoad } from '../use-load'

const LIFETIMES = [
  { value: '', label: "The endpoint's default (4 h header, 10 h OAuth 2.0)" },
  { value: '900', label: '15 minutes' },
  { value: '3600', label: '1 hour' },
  { value: '14400', label: '4 hours' },
  { value: '36000', label: '10 hours' },
  { value: '86400', label: '24 hours' },
]
const ALGORITHMS = [{ value: '', label: "The server's default" }, ...['RS256', 'PS256', 'ES256', 'EdDSA'].map((a) => ({ value: a, label: a }))]
const ENCRYPTION = [{ value: '', label: 'None: signed tokens' }, ...['RSA-OAEP-256', 'RSA-OAEP-384', 'RSA-OAEP-512'].map((a) => ({ value: a, label: `Encrypted (JWE ${a})` }))]

export function Clients() {
  const { admin, enterprise, plan } = useAbilities()
  const clients = useLoad(() => api.GET('/api/v1/clients'), [])
  const users = useLoad(() => api.GET('/api/v1/users'), [])
  const [creating, setCreating] = useState(false)
  const [created, setCreated] = useState<{ clientId: string; clientSecret: string | undefined; level: 'user' | 'subscription' } | undefined>()

  const emailOf = (id: string | null) => users.data?.items.find((u) => u.id === id)?.email ?? id ?? ''

  return (
    <>
      <PageTitle>Clients &amp; key pairs</PageTitle>
      <p>A client is an integration of the account: <strong>subscription-level</strong> clients act for the whole account, <strong>user-level</strong> ones act as one user, with that user's permissions.</p>
      {!enterprise ? (
        <NotAllowed>Clients and key pairs are an enterprise feature: this account is on the {plan} plan, so keymint holds none for it and refuses to make one.</NotAllowed>
      ) : (
        <>
          {!admin && <NotAllowed>You can see the account's clients; only admins create, rotate or revoke them.</NotAllowed>}
          {admin && <div className="actions"><Button className="button button-primary" onPress={() => { setCreated(undefined); setCreating(true) }}>Create client</Button></div>}
          {created && <NewKeyPair {...created} onDone={() => setCreated(undefined)} />}
          {clients.problem && <Notice kind="error">{clients.problem.detail}</Notice>}
          {clients.data && (clients.data.items.length === 0 ? (
            <EmptyState title="No clients yet.">{admin ? <>Click <strong>Create client</strong> to add the first integration, or generate your own key pair under <Link href="/settings/integrations/api">Settings &amp; Integrations → API</Link>.</> : 'An admin of the account creates them.'}</EmptyState>
          ) : (
            <div className="table-wrap" role="region" aria-label="Clients" tabIndex={0}>
              <table className="table table-stacking">
                <thead>
                  <tr><th scope="col">Name</th><th scope="col">Level</th><th scope="col">Scopes</th><th scope="col">Created</th><th scope="col">State</th></tr>
                </thead>
                <tbody>
                  {clients.data.items.map((c) => (
                    <tr key={c.id}>
                      <td data-label="Name"><Link href={`/clients/${c.id}`}>{c.name}</Link></td>
                      <td data-label="Level">{c.level === 'user' ? `user: ${emailOf(c.user_id)}` : 'subscription'}</td>
                      <td data-label="Scopes">{c.scopes === null ? <em>unrestricted</em> : c.scopes.join(' ') || <em>none</em>}</td>
                      <td data-label="Created">{formatTime(c.created_at)}</td>
                      <td data-label="State">{c.disabled ? <span className="badge badge-muted">disabled</span> : <span className="badge badge-ok">enabled</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ))}
        </>
      )}
      <FormDialog title="Create a client" isOpen={creating} onOpenChange={setCreating}>
        <CreateClientForm
          users={users.data?.items ?? []}
          onCancel={() => setCreating(false)}
          onCreated={(c) => { setCreating(false); setCreated(c); void clients.reload() }}
        />
      </FormDialog>
    </>
  )
}

type Errors = Partial<Record<'name' | 'user_id' | 'scopes' | 'lifetime_seconds' | 'signing_alg' | 'token_encryption', string>>

function CreateClientForm({ users, onCancel, onCreated }: {
  users: readonly { id: string; email: string; disabled: boolean }[]
  onCancel: () => void
  onCreated: (c: { clientId: string; clientSecret: string | undefined; level: 'user' | 'subscription' }) => void
}) {
  const [name, setName] = useState('')
  const [level, setLevel] = useState<'user' | 'subscription'>('subscription')
  const [userId, setUserId] = useState(users[0]?.id ?? '')
  const [scopes, setScopes] = useState('')
  const [lifetime, setLifetime] = useState('')
  const [alg, setAlg] = useState('')
  const [encryption, setEncryption] = useState('')
  const [requireDPoP, setRequireDPoP] = useState(false)
  const [errors, setErrors] = useState<Errors>({})
  const [formError, setFormError] = useState<string | undefined>()

  const submit = async () => {
    setFormError(undefined)
    const empty = emptyFields({ name })
    setErrors(empty)
    if (Object.keys(empty).length > 0) return
    const { data, error, response } = await api.POST('/api/v1/clients', {
      body: {
        name, level,
        ...(level === 'user' ? { user_id: userId } : {}),
        ...(scopes.trim() === '' ? {} : { scopes: parseScopes(scopes) }),
        ...(lifetime === '' ? {} : { lifetime_seconds: Number(lifetime) }),
        ...(alg === '' ? {} : { signing_alg: alg }),
        ...(encryption === '' ? {} : { token_encryption: encryption }),
        ...(requireDPoP ? { require_dpop: true } : {}),
      },
    })
    if (data) {
      onCreated({ clientId: data.key_pair.client_id, clientSecret: data.key_pair.client_secret, level: data.client.level })
      return
    }
    const problem = problemOf(error, response)
    const field = fieldOf(problem)
    if (field && ['name', 'user_id', 'scopes', 'lifetime_seconds', 'signing_alg', 'token_encryption'].includes(field)) setErrors({ [field]: explain(problem) })
    else if (/scope/i.test(problem.detail)) setErrors({ scopes: explain(problem) })
    else if (/user/i.test(problem.detail) && level === 'user') setErrors({ user_id: explain(problem) })
    else setFormError(explain(problem))
  }

  return (
    <EditableForm validationErrors={errors} onEdit={() => setErrors((e) => Object.keys(e).length === 0 ? e : {})} onSubmit={(e) => { e.preventDefault(); void submit() }} className="form">
      {formError && <Notice kind="error">{formError}</Notice>}
      <Field name="name" label="Name" isRequired value={name} onChange={setName} autoFocus description="Say what the integration is, e.g. billing-sync." />
      <RadioGroup value={level} onChange={(v) => setLevel(v as 'user' | 'subscription')} className="radio-group" name="level">
        <Label>Level</Label>
        <Radio value="subscription" className="radio">Subscription: acts for the whole account (POST /auth/oauth)</Radio>
        <Radio value="user" className="radio">User: acts as one user, with their permissions (POST /auth/oidc)</Radio>
      </RadioGroup>
      {level === 'user' && (
        users.length === 0
          ? <Notice kind="warning">The account has no users yet: create one under Users first.</Notice>
          : <SelectField name="user_id" label="User" value={userId} onChange={setUserId} error={errors.user_id}
            options={users.map((u) => ({ value: u.id, label: `${u.email}${u.disabled ? ' (disabled)' : ''}` }))} />
      )}
      <Field name="scopes" label="Scopes" value={scopes} onChange={setScopes} description="Separated by spaces or commas. Empty: unrestricted (a user-level client gets its user's scopes)." />
      <SelectField name="lifetime_seconds" label="Token lifetime" value={lifetime} onChange={setLifetime} options={LIFETIMES} error={errors.lifetime_seconds} />
      <SelectField name="signing_alg" label="Signing algorithm" value={alg} onChange={setAlg} options={ALGORITHMS} error={errors.signing_alg} />
      <SelectField name="token_encryption" label="Encryption" value={encryption} onChange={setEncryption} options={ENCRYPTION} error={errors.token_encryption} />
      <Checkbox isSelected={requireDPoP} onChange={setRequireDPoP} className="checkbox" name="require_dpop">
        <span className="box" aria-hidden="true" />Require DPoP: sender-constrained tokens only, from POST /oauth2/token with a DPoP proof
      </Checkbox>
      <div className="actions">
        <Button className="button" onPress={onCancel}>Cancel</Button>
        <Button type="submit" className="button button-primary">Create client</Button>
      </div>
    </EditableForm>
  )
}
