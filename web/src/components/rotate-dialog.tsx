import { useState } from 'react'
import { Label, Radio, RadioGroup } from 'react-aria-components'
import type { Schemas } from '../api/client'
import { formatDuration, formatLastUsed } from '../format'
import { Confirm } from './ui'

const GRACES = [15 * 60, 3600, 24 * 3600, 7 * 24 * 3600] as const

export interface RotateDialogProps {
  readonly isOpen: boolean
  readonly onOpenChange: (open: boolean) => void
  /** The pair that stops working, when one is live. */
  readonly replacing: Schemas['KeyPair'] | undefined
  readonly onRotate: (graceSeconds: number) => Promise<void>
}

/**
 * Second seed: "If an admin generates a new API key pair while the old key pair is still being
 * used by existing integration code, your integration will stop working until you update the key
 * pair values in the code." Said before it happens, with when the old pair was last used, and a
 * grace period to update the code in.
 */
export function RotateDialog({ isOpen, onOpenChange, replacing, onRotate }: RotateDialogProps) {
  const [when, setWhen] = useState<string>('now')
  return (
    <Confirm
      title="Generate new keys?"
      confirmLabel="Generate new keys"
      isOpen={isOpen}
      onOpenChange={onOpenChange}
      onConfirm={() => onRotate(when === 'now' ? 0 : Number(when))}
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
    </Confirm>
  )
}
