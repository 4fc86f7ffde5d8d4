import { useState } from 'react'
import { Button, FieldError, Label, TextArea, TextField } from 'react-aria-components'
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose'
import { api, problemOf } from '../api/client'
import { EditableForm, PageTitle } from '../components/ui'
import { formatTime } from '../format'

type Decoded =
  | { kind: 'jws'; header: Record<string, unknown>; claims: Record<string, unknown> }
  | { kind: 'jwe'; header: Record<string, unknown> }

const REASONS: Readonly<Record<string, string>> = {
  malformed: 'It is not a token keymint issued: not a JWT or JWE it can read.',
  invalid: "Its signature, issuer or type does not check out against this server's keys, or it is encrypted to a key keymint does not hold.",
  expired: 'It has expired.',
  revoked: 'It was revoked.',
  other_account: 'It belongs to another account.',
  key_pair_revoked: 'The key pair it was issued to was revoked, or its rotation grace period ended.',
  key_pair_expired: 'The key pair it was issued to has expired.',
  client_disabled: 'Its client is disabled, or was disabled after the token was issued.',
  plan: 'Its account is not on the enterprise plan.',
  user_not_allowed: "Its user is disabled, or lacks the ui or api permission.",
  user_cut_off: 'Its user was disabled or lost the ui or api permission after the token was issued: enabling them again revives no earlier token.',
}

function base64UrlJson(part: string): Record<string, unknown> {
  const bytes = Uint8Array.from(atob(part.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0))
  const value: unknown = JSON.parse(new TextDecoder().decode(bytes))
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('not a JSON object')
  return value as Record<string, unknown>
}

function decode(token: string): Decoded {
  const parts = token.split('.')
  if (parts.length === 3 && parts[0] && parts[1]) return { kind: 'jws', header: base64UrlJson(parts[0]), claims: base64UrlJson(parts[1]) }
  if (parts.length === 5 && parts[0]) return { kind: 'jwe', header: base64UrlJson(parts[0]) }
  throw new Error('not a JWT')
}

type Signature = { verified: true; kid: string | undefined } | { verified: false; why: string } | { verified: 'encrypted' }

/** Verifies the signature here, in the browser, against the keys this server publishes. */
async function checkSignature(token: string, decoded: Decoded): Promise<Signature> {
  if (decoded.kind === 'jwe') return { verified: 'encrypted' }
  const jwks = await (await fetch('/.well-known/jwks.json')).json() as JSONWebKeySet
  try {
    const { protectedHeader } = await compactVerify(token, createLocalJWKSet({ keys: jwks.keys.filter((k) => k.use !== 'enc') }))
    return { verified: true, kid: protectedHeader.kid }
  } catch (err) {
    const code = (err as { code?: string }).code
    return { verified: false, why: code === 'ERR_JWKS_NO_MATCHING_KEY' ? 'no key this server publishes has its kid and algorithm' : 'the signature does not match' }
  }
}

const time = (v: unknown) => typeof v === 'number' ? `${formatTime(new Date(v * 1000).toISOString())}` : '—'

export function TokenTester() {
  const [token, setToken] = useState('')
  const [error, setError] = useState<string | undefined>()
  const [result, setResult] = useState<{ decoded: Decoded; signature: Signature; state: { active: boolean; reason: string | null } | { problem: string } } | undefined>()
  const [busy, setBusy] = useState(false)

  const check = async () => {
    setError(undefined)
    setResult(undefined)
    const trimmed = token.trim().replace(/^Bearer\s+/i, '')
    if (trimmed === '') {
      setError('Paste a token first.')
      return
    }
    let decoded: Decoded
    try {
      decoded = decode(trimmed)
    } catch {
      setError('This is not a JWT: paste the whole token, three parts separated by dots (five for an encrypted one).')
      return
    }
    setBusy(true)
    try {
      const [signature, checked] = await Promise.all([checkSignature(trimmed, decoded), api.POST('/api/v1/token-checks', { body: { token: trimmed } })])
      const state = checked.data ? { active: checked.data.active, reason: checked.data.reason } : { problem: problemOf(checked.error, checked.response).detail }
      setResult({ decoded, signature, state })
    } finally {
      setBusy(false)
    }
  }

  return (
    <>
      <PageTitle>Token tester</PageTitle>
      <p>Paste an access token to see its header and claims, whether its signature verifies against this server's published keys (checked here, in your browser), and whether it is active for your account (asked of the server).</p>
      <EditableForm className="form" validationErrors={error ? { token: error } : {}} onEdit={() => setError(undefined)} onSubmit={(e) => { e.preventDefault(); void check() }}>
        <TextField name="token" value={token} onChange={setToken} isRequired className="field">
          <Label>Access token</Label>
          <TextArea className="input textarea" rows={5} spellCheck={false} />
          <FieldError className="field-error" />
        </TextField>
        <div className="actions"><Button type="submit" className="button button-primary" isDisabled={busy}>{busy ? 'Checking…' : 'Check token'}</Button></div>
      </EditableForm>
      {result && (
        <section aria-labelledby="token-result" className="token-result">
          <h2 id="token-result">Result</h2>
          <ul className="verdicts">
            <li data-testid="signature-verdict">
              {result.signature.verified === true && <><span className="badge badge-ok">signature verified</span> with key <code>{result.signature.kid}</code> from /.well-known/jwks.json</>}
              {result.signature.verified === false && <><span className="badge badge-bad">signature not verified</span> {result.signature.why}</>}
              {result.signature.verified === 'encrypted' && <><span className="badge badge-muted">encrypted</span> The claims and signature are inside the encryption: only the server (or the API it was encrypted for) can open it.</>}
            </li>
            <li data-testid="active-verdict">
              {'problem' in result.state
                ? <><span className="badge badge-bad">not checked</span> {result.state.problem}</>
                : result.state.active
                  ? <><span className="badge badge-ok">active</span> keymint accepts it now.</>
                  : <><span className="badge badge-bad">not active</span> {REASONS[result.state.reason ?? ''] ?? result.state.reason}</>}
            </li>
          </ul>
          {result.decoded.kind === 'jws' && (
            <dl className="facts">
              <dt>Issued</dt><dd>{time(result.decoded.claims.iat)}</dd>
              <dt>Expires</dt><dd>{time(result.decoded.claims.exp)}</dd>
            </dl>
          )}
          <div className="decoded">
            <div>
              <h3>Header</h3>
              <pre tabIndex={0} aria-label="Header"><code>{JSON.stringify(result.decoded.header, null, 2)}</code></pre>
            </div>
            {result.decoded.kind === 'jws' && (
              <div>
                <h3>Claims</h3>
                <pre tabIndex={0} aria-label="Claims"><code>{JSON.stringify(result.decoded.claims, null, 2)}</code></pre>
              </div>
            )}
          </div>
        </section>
      )}
    </>
  )
}
