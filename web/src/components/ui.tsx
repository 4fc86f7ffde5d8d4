import { useEffect, useRef, useState, type ReactNode } from 'react'
import {
  Button, Dialog, FieldError, Form, Heading, Input, Label, Modal, ModalOverlay, Text, TextField, type FormProps, type TextFieldProps,
} from 'react-aria-components'

/** A labelled text field whose error (from the browser's checks or the server) sits right under it. */
export function Field(props: TextFieldProps & { label: string; description?: string; placeholder?: string; inputClassName?: string }) {
  const { label, description, placeholder, inputClassName, ...rest } = props
  return (
    <TextField {...rest} className="field">
      <Label>{label}</Label>
      <Input {...(placeholder === undefined ? {} : { placeholder })} className={inputClassName ?? "input"} />
      {description && <Text slot="description" className="hint">{description}</Text>}
      <FieldError className="field-error" />
    </TextField>
  )
}

/** A message for the whole form or page; `role="alert"` for errors, so screen readers say it at once. */
export function Notice({ kind = 'info', children }: { kind?: 'info' | 'error' | 'success' | 'warning'; children: ReactNode }) {
  return <div className={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>{children}</div>
}

/** Why a control is missing: the API would refuse it too. */
export function NotAllowed({ children }: { children: ReactNode }) {
  return <p className="not-allowed">{children}</p>
}

export function EmptyState({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      <div>{children}</div>
    </div>
  )
}

/** Copies a value to the clipboard, and says so where a screen reader hears it. */
export function CopyButton({ value, label }: { value: string; label: string }) {
  const [copied, setCopied] = useState(false)
  const timer = useRef<number | undefined>(undefined)
  useEffect(() => () => window.clearTimeout(timer.current), [])
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value)
    } catch {
      // Without clipboard access, select a hidden copy and use the older command.
      const area = document.createElement('textarea')
      area.value = value
      area.setAttribute('readonly', '')
      area.className = 'offscreen'
      document.body.append(area)
      area.select()
      document.execCommand('copy')
      area.remove()
    }
    setCopied(true)
    window.clearTimeout(timer.current)
    timer.current = window.setTimeout(() => setCopied(false), 2500)
  }
  return (
    <span className="copy">
      <Button className="button button-small" onPress={() => void copy()} aria-label={label}>Copy</Button>
      <span className="copied" role="status">{copied ? 'Copied' : ''}</span>
    </span>
  )
}

export interface ConfirmProps {
  readonly title: string
  readonly children: ReactNode
  readonly confirmLabel: string
  readonly onConfirm: () => Promise<void> | void
  readonly isOpen: boolean
  readonly onOpenChange: (open: boolean) => void
  readonly destructive?: boolean
}

/** A modal question before something that cannot be undone. */
export function Confirm({ title, children, confirmLabel, onConfirm, isOpen, onOpenChange, destructive }: ConfirmProps) {
  const [busy, setBusy] = useState(false)
  return (
    <ModalOverlay className="overlay" isOpen={isOpen} onOpenChange={onOpenChange} isDismissable={!busy}>
      <Modal className="modal">
        <Dialog role="alertdialog" className="dialog">
          {({ close }) => (
            <>
              <Heading slot="title" className="dialog-title">{title}</Heading>
              <div className="dialog-body">{children}</div>
              <div className="actions">
                <Button className="button" onPress={close} isDisabled={busy}>Cancel</Button>
                <Button
                  className={destructive ? 'button button-danger' : 'button button-primary'}
                  isDisabled={busy}
                  onPress={async () => {
                    setBusy(true)
                    try { await onConfirm() } finally { setBusy(false) }
                  }}
                >{confirmLabel}</Button>
              </div>
            </>
          )}
        </Dialog>
      </Modal>
    </ModalOverlay>
  )
}

/** A page's title, focused when the screen changes so keyboard and screen reader users start there. */
export function PageTitle({ children }: { children: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null)
  useEffect(() => { ref.current?.focus() }, [])
  return <h1 ref={ref} tabIndex={-1} className="page-title">{children}</h1>
}

/** A labelled native select: the platform's own accessible list, on every device. */
export function SelectField({ label, value, onChange, options, name, error }: {
  label: string
  value: string
  onChange: (value: string) => void
  options: readonly { value: string; label: string }[]
  name: string
  error?: string | undefined
}) {
  const id = `select-${name}`
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} name={name} className="input" value={value} onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined} aria-describedby={error ? `${id}-error` : undefined}>
        {options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
      </select>
      {error && <span id={`${id}-error`} className="field-error">{error}</span>}
    </div>
  )
}

/** A modal form. */
export function FormDialog({ title, isOpen, onOpenChange, children }: { title: string; isOpen: boolean; onOpenChange: (open: boolean) => void; children: ReactNode }) {
  return (
    <ModalOverlay className="overlay" isOpen={isOpen} onOpenChange={onOpenChange} isDismissable>
      <Modal className="modal modal-wide">
        <Dialog className="dialog">
          <Heading slot="title" className="dialog-title">{title}</Heading>
          {children}
        </Dialog>
      </Modal>
    </ModalOverlay>
  )
}

/**
 * A form whose errors (the server's, and its own checks on submit) show next to their fields until
 * the person edits any field. Errors appear only on submit, never as a field loses focus: an error
 * appearing then would move the submit button away from under the pointer mid-click.
 */
export function EditableForm({ onEdit, ...props }: FormProps & { onEdit: () => void }) {
  return <div className="contents" onInput={onEdit}><Form {...props} validationBehavior="aria" /></div>
}
