import { useState } from 'react'
import { Button, FieldError, Label, Text, TextArea, TextField } from 'react-aria-components'
import { api, explain, fieldOf, problemOf } from '../api/client'
import { formatDuration, formatTime } from '../format'
import { useLoad } from '../use-load'
import { Confirm, EditableForm, EmptyState, Field, FormDialog, Notice, SelectField } from './ui'

const MAX_AGES = [
  { value: '', label: 'No limit: the token\'s own expiry' },
  { value: '300', label: '5 minutes' },
  { value: '600', label: '10 minutes' },
  { value: '3600', label: '1 hour' },
  { value: '86400', label: '24 hours' },
]

const GITHUB = 'https://token.actions.githubusercontent.com'

type Policy = { id: string; issuer: string; audience: string; subject: string; claims: Record<string, string>; jwks: unknown; max_age_seconds: number | null; created_at: string }

/**
 * A client's trust policies (workload identity federation): tokens of GitHub Actions, a
 * Kubernetes cluster or any OIDC issuer that stand in for a key pair. Admins only, as the API.
 */
export function TrustPolicies({ clientId }: { clientId: string }) {
  const policies = useLoad(() => api.GET('/api/v1/federation-policies', { params: { query: { client: clientId } } }), [clientId])
  const [creating, setCreating] = useState(false)
  const [deleting, setDeleting] = useState<Policy | undefined>()
  const [notice, setNotice] = useState<string | undefined>()
  const [problem, setProblem] = useState<string | undefined>()
  const items = policies.data?.items ?? []

  const remove = async (p: Policy) => {
    const { error, response } = await api.DELETE('/api/v1/federation-policies/{id}', { params: { path: { id: p.id } } })
    setDeleting(undefined)
    if (!response.ok) setProblem(problemOf(error, response).detail)
    else { setProblem(undefined); setNotice(`Tokens of ${p.issuer} for ${p.subject} no longer get tokens of this client.`) }
    await policies.reload()
  }

  return (
    <>
      <h2>Trust policies</h2>
      <p>Machines without secrets: a platform&apos;s own token (GitHub Actions, a Kubernetes service account, any OIDC issuer) that a policy accepts gets this client&apos;s tokens at <code>/oauth2/token</code>, by token exchange or as the client assertion.</p>
      {problem && <Notice kind="error">{problem}</Notice>}
      {notice && <Notice kind="success">{notice}</Notice>}
      {policies.problem && <Notice kind="error">{policies.problem.detail}</Notice>}
      {policies.data && (items.length === 0 ? (
        <EmptyState title="No trust policy.">Add one to let a CI job or a Kubernetes workload get tokens without a client secret.</EmptyState>
      ) : (
        <div className="table-wrap" role="region" aria-label="Trust policies of the client" tabIndex={0}>
          <table className="table table-stacking">
            <thead>
              <tr><th scope="col">Issuer</th><th scope="col">Subject</th><th scope="col">Audience</th><th scope="col">Claims</th><th scope="col">Keys</th><th scope="col">Created</th><th scope="col"><span className="offscreen">Actions</span></th></tr>
            </thead>
            <tbody>
              {items.map((p) => (
                <tr key={p.id}>
                  <td data-label="Issuer" className="breakable"><code>{p.issuer}</code></td>
                  <td data-label="Subject" className="breakable"><code>{p.subject}</code></td>
                  <td data-label="Audience" className="breakable"><code>{p.audience}</code></td>
                  <td data-label="Claims" className="breakable">{Object.keys(p.claims).length === 0 ? <em>none</em> : <div>{Object.entries(p.claims).map(([k, v]) => <div key={k}><code>{k}={v}</code></div>)}</div>}</td>
                  <td data-label="Keys">{p.jwks === null ? 'from discovery' : 'given with the policy'}{p.max_age_seconds === null ? '' : `; at most ${formatDuration(p.max_age_seconds)} old`}</td>
                  <td data-label="Created">{formatTime(p.created_at)}</td>
                  <td data-label="Actions"><Button className="button button-small button-danger" onPress={() => setDeleting(p)} aria-label={`Delete the trust policy for ${p.subject}`}>Delete</Button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
      <div className="actions">
        <Button className="button" onPress={() => { setNotice(undefined); setCreating(true) }}>Add trust policy</Button>
      </div>
      <FormDialog title="Add a trust policy" isOpen={creating} onOpenChange={setCreating}>
        <CreatePolicyForm clientId={clientId} onCancel={() => setCreating(false)}
          onCreated={(p) => { setCreating(false); setNotice(`Tokens of ${p.issuer} for ${p.subject} now get tokens of this client; they carry client_id ${p.id}.`); void policies.reload() }} />
      </FormDialog>
      <Confirm title="Delete this trust policy?" confirmLabel="Delete trust policy" destructive isOpen={deleting !== undefined}
        onOpenChange={(open) => { if (!open) setDeleting(undefined) }} onConfirm={() => deleting && remove(deleting)}>
        <p>Tokens of <code>{deleting?.issuer}</code> for <code>{deleting?.subject}</code> stop getting tokens of this client, and the tokens they got stop being accepted.</p>
      </Confirm>
    </>
  )
}

type Errors = Partial<Record<'issuer' | 'audience' | 'subject' | 'claims' | 'jwks' | 'max_age_seconds', string>>

/** `name=value` lines (blank lines ignored); undefined with a message for the first malformed one. */
function parseClaimLines(text: string): Record<string, string> | string {
  const claims: Record<string, string> = {}
  for (const line of text.split('\n').map((l) => l.trim()).filter((l) => l !== '')) {
    const at = line.indexOf('=')
    if (at <= 0 || at === line.length - 1) return `Write each claim as name=value, one per line: "${line.slice(0, 40)}" is not.`
    claims[line.slice(0, at)] = line.slice(at + 1)
  }
  return claims
}

function CreatePolicyForm({ clientId, onCancel, onCreated }: { clientId: string; onCancel: () => void; onCreated: (p: Policy) => void }) {
  const [issuer, setIssuer] = useState(GITHUB)
  const [audience, setAudience] = useState(window.location.origin)
  const [subject, setSubject] = useState('')
  const [claims, setClaims] = useState('')
  const [jwks, setJwks] = useState('')
  const [maxAge, setMaxAge] = useState('600')
  const [errors, setErrors] = useState<Errors>({})
  const [formError, setFormError] = useState<string | undefined>()

  const submit = async () => {
    setFormError(undefined)
    const found: Errors = {}
    for (const [key, value] of [['issuer', issuer], ['audience', audience], ['subject', subject]] as const) if (value.trim() === '') found[key] = 'Fill this in.'
    const parsedClaims = parseClaimLines(claims)
    if (typeof parsedClaims === 'string') found.claims = parsedClaims
    let parsedJwks: { keys: Record<string, unknown>[] } | undefined
    if (jwks.trim() !== '') {
      try {
        parsedJwks = JSON.parse(jwks) as { keys: Record<string, unknown>[] }
      } catch {
        found.jwks = 'Paste the issuer\'s JWKS as JSON: {"keys": [...]}.'
      }
    }
    setErrors(found)
    if (Object.keys(found).length > 0 || typeof parsedClaims === 'string') return
    const { data, error, response } = await api.POST('/api/v1/federation-policies', {
      body: {
        client: clientId, issuer: issuer.trim(), audience: audience.trim(), subject: subject.trim(), claims: parsedClaims,
        ...(parsedJwks === undefined ? {} : { jwks: parsedJwks }),
        ...(maxAge === '' ? {} : { max_age_seconds: Number(maxAge) }),
      },
    })
    if (data) { onCreated(data); return }
    const problem = problemOf(error, response)
    const field = fieldOf(problem) ?? (['issuer', 'audience', 'subject', 'jwks', 'claim'].find((f) => problem.detail.toLowerCase().startsWith(f)))
    const key = field === 'claim' ? 'claims' : field
    if (key && ['issuer', 'audience', 'subject', 'claims', 'jwks', 'max_age_seconds'].includes(key)) setErrors({ [key]: explain(problem) })
    else setFormError(explain(problem))
  }

  return (
    <EditableForm validationErrors={errors} onEdit={() => setErrors((e) => Object.keys(e).length === 0 ? e : {})} onSubmit={(e) => { e.preventDefault(); void submit() }} className="form">
      {formError && <Notice kind="error">{formError}</Notice>}
      <Field name="issuer" label="Issuer" isRequired value={issuer} onChange={setIssuer} description={`The token's iss, exactly: ${GITHUB} for GitHub Actions; a cluster's service account issuer for Kubernetes.`} />
      <Field name="audience" label="Audience" isRequired value={audience} onChange={setAudience} description="What the workload asks its platform for (GitHub: &audience=…; Kubernetes: the projected token's audience)." />
      <Field name="subject" label="Subject" isRequired value={subject} onChange={setSubject} autoFocus placeholder="repo:acme/deploy:ref:refs/heads/main"
        description="The token's sub: exact, or with * for any run of characters, e.g. repo:acme/deploy:* or system:serviceaccount:billing:sync." />
      <TextField name="claims" value={claims} onChange={setClaims} className="field">
        <Label>Required claims</Label>
        <TextArea className="input textarea" rows={3} placeholder="workflow=deploy" />
        <Text slot="description" className="hint">One name=value per line; each must be in the token with exactly that value. kubernetes.io/namespace=billing reaches into nested claims.</Text>
        <FieldError className="field-error" />
      </TextField>
      <SelectField name="max_age_seconds" label="Maximum token age" value={maxAge} onChange={setMaxAge} options={MAX_AGES} error={errors.max_age_seconds} />
      <TextField name="jwks" value={jwks} onChange={setJwks} className="field">
        <Label>Issuer keys (JWKS, optional)</Label>
        <TextArea className="input textarea" rows={3} placeholder='{"keys": [ … ]}' />
        <Text slot="description" className="hint">Only for an issuer keymint cannot reach (e.g. kubectl get --raw /openid/v1/jwks). Empty: keys come from the issuer&apos;s discovery document.</Text>
        <FieldError className="field-error" />
      </TextField>
      <div className="actions">
        <Button className="button" onPress={onCancel}>Cancel</Button>
        <Button type="submit" className="button button-primary">Add trust policy</Button>
      </div>
    </EditableForm>
  )
}
