import { useState } from 'react'
import { Label, Radio, RadioGroup } from 'react-aria-components'
import type { Schemas } from '../api/client'
import { formatDuration, formatLastUsed } from '../format'
import { useSession } from '../session'
import { Confirm } from './ui'

const GRACES = [15 * 60, 3600, 24 * 3600, 7 * 24 * 3600] as const
const DAY = 86400
const LIFETIMES = [30 * DAY, 90 * DAY, 365 * DAY] as const

export interface RotateDialogProps {
  readonly isOpen: boolean
  readonly onOpenChange: (open: boolean) => void
  /** The pair that stops working, when one is live. */
  readonly replacing: Schemas['KeyPair'] | undefined
  /** `keyExpiresIn` undefined: the account's default. */
  readonly onRotate: (graceSeconds: number, keyExpiresIn: number | undefined) => Promise<void>
}

/** What "the account's default" means for a new pair's lifetime, in words. */
function accountDefault(account: Schemas['Account']): string {
  if (account.default_key_expires_in_seconds !== null) return `The account's default: expires after ${formatDuration(account.default_key_expires_in_seconds)}`
  if (account.max_key_expires_in_seconds !== null) return `The account's longest: expires after ${formatDuration(account.max_key_expires_in_seconds)}`
  return "The account's default: never expires"
}

/**
 * Second seed: "If an admin generates a new API key pair while the old key pair is still being
 * used by existing integration code, your integration will stop working until you update the key
 * pair values in the code." Said before it happens, with when the old pair was last used, and a
 * grace period to update the code in; and how long the new pair lives.
 */
export function RotateDialog({ isOpen, onOpenChange, replacing, onRotate }: RotateDialogProps) {
  const { account } = useSession().signedIn
  const [when, setWhen] = useState<string>('now')
  const [lifetime, setLifetime] = useState<string>('default')
  const max = account.max_key_expires_in_seconds
  return (
    <Confirm
      title="Generate new keys?"
      confirmLabel="Generate new keys"
      isOpen={isOpen}
      onOpenChange={onOpenChange}
      onConfirm={() => onRotate(when === 'now' ? 0 : Number(when), lifetime === 'default' ? undefined : Number(lifetime))}
    >
      <p>Generating a new key pair revokes access to the old key pair.</p>
      {replacing && (
        <p className="warning-text" data-testid="old-pair-last-used">
          The old key pair was last used {formatLastUsed(replacing.last_used_at)}. If integration code still uses it,
          your integration will stop working until you update the key pair values in the code.
        </p>
      )}
      <RadioGroup value={when} onChange={setWhen} className="radio-group">
        <Label>When the old key pair stops working</Label>
        <Radio value="now" className="radio">Now</Radio>
        {GRACES.map((g) => <Radio key={g} value={String(g)} className="radio">After a grace period of {formatDuration(g)}</Radio>)}
      </RadioGroup>
      <RadioGroup value={lifetime} onChange={setLifetime} className="radio-group">
        <Label>When the new key pair expires</Label>
        <Radio value="default" className="radio">{accountDefault(account)}</Radio>
        {LIFETIMES.map((l) => (
          <Radio key={l} value={String(l)} className="radio" isDisabled={max !== null && l > max}>
            After {formatDuration(l)}{max !== null && l > max ? ' (longer than the account allows)' : ''}
          </Radio>
        ))}
      </RadioGroup>
    </Confirm>
  )
}
