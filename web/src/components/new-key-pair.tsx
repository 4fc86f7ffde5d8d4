import { useEffect, useRef } from 'react'
import { Button, Tab, TabList, TabPanel, Tabs } from 'react-aria-components'
import { useServerUrls } from '../server-url'
import { snippetsFor } from './snippets'
import { CopyButton } from './ui'

export interface NewKeyPairProps {
  readonly clientId: string
  /** Absent for a client that authenticates with its public key alone. */
  readonly clientSecret?: string | undefined
  readonly level: 'user' | 'subscription'
  readonly onDone: () => void
}

/** A key pair right after it was generated: the only time its secret can be seen. */
export function NewKeyPair({ clientId, clientSecret, level, onDone }: NewKeyPairProps) {
  const urls = useServerUrls()
  const heading = useRef<HTMLHeadingElement>(null)
  useEffect(() => { heading.current?.focus() }, [clientId])
  return (
    <section className="card new-key-pair" aria-labelledby="new-key-pair-title">
      <h2 id="new-key-pair-title" ref={heading} tabIndex={-1}>Your new key pair</h2>
      <p className="warning-text">
        {clientSecret === undefined
          ? 'This client authenticates with its public key: there is no secret to show.'
          : 'Copy the Client Secret now: it is shown only this once, and keymint keeps only a hash of it.'}
      </p>
      <dl className="credentials">
        <div className="credential">
          <dt id="new-client-id-label">Client ID</dt>
          <dd><code className="secret" data-testid="new-client-id" aria-labelledby="new-client-id-label">{clientId}</code> <CopyButton value={clientId} label="Copy the Client ID" /></dd>
        </div>
        {clientSecret !== undefined && (
          <div className="credential">
            <dt id="new-client-secret-label">Client Secret</dt>
            <dd><code className="secret" data-testid="new-client-secret" aria-labelledby="new-client-secret-label">{clientSecret}</code> <CopyButton value={clientSecret} label="Copy the Client Secret" /></dd>
          </div>
        )}
      </dl>
      {clientSecret !== undefined && (
        <>
          <h3>Get a token with it</h3>
          <Tabs className="snippets">
            <TabList aria-label="Ready-to-run examples" className="tablist tablist-small">
              {snippetsFor({ clientId, clientSecret, level, ...urls }).map((s) => <Tab key={s.id} id={s.id} className="tab">{s.title}</Tab>)}
            </TabList>
            {snippetsFor({ clientId, clientSecret, level, ...urls }).map((s) => (
              <TabPanel key={s.id} id={s.id} className="snippet">
                <pre tabIndex={0} aria-label={`${s.title} example`}><code data-testid={`snippet-${s.id}`}>{s.code}</code></pre>
                <CopyButton value={s.code} label={`Copy the ${s.title} example`} />
              </TabPanel>
            ))}
          </Tabs>
        </>
      )}
      <div className="actions">
        <Button className="button" onPress={onDone}>I have copied them</Button>
      </div>
    </section>
  )
}
