import { type InputHTMLAttributes, type ReactNode, useEffect, useId, useRef } from 'react';
import { createPortal } from 'react-dom';

/**
 * A modal dialog on the native <dialog>: the browser keeps focus inside it, Escape closes it, and focus
 * goes back to what opened it. The first field (or the element marked data-autofocus) gets focus on open.
 * It is rendered into <body>, so it inherits nothing from where it was opened (a table cell's nowrap cut its
 * text at the dialog's edge when opened from the keys list).
 */
export function Dialog({
  title,
  onClose,
  children,
  dismissible = true,
}: {
  title: string;
  onClose: () => void;
  children: ReactNode;
  /** False for a dialog that must be acknowledged (a secret shown once): Escape does nothing. */
  dismissible?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return;
    const opener = document.activeElement as HTMLElement | null;
    dialog.showModal();
    const first = dialog.querySelector<HTMLElement>('[data-autofocus], input, select, textarea, button');
    first?.focus();
    return () => {
      dialog.close();
      opener?.focus();
    };
  }, []);
  return createPortal(
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onCancel={(event) => {
        event.preventDefault();
        if (dismissible) onClose();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      {children}
    </dialog>,
    document.body,
  );
}

/** "Are you sure?" with the consequence spelled out. */
export function ConfirmDialog({
  title,
  message,
  confirmLabel,
  onConfirm,
  onClose,
  busy,
  error,
}: {
  title: string;
  message: ReactNode;
  confirmLabel: string;
  onConfirm: () => void;
  onClose: () => void;
  busy: boolean;
  error: string | null;
}) {
  return (
    <Dialog title={title} onClose={onClose}>
      <p>{message}</p>
      <ErrorMessage message={error} />
      <div className="actions">
        <button type="button" className="secondary" onClick={onClose} data-autofocus>
          Cancel
        </button>
        <button type="button" className="danger" onClick={onConfirm} disabled={busy}>
          {busy ? 'Working…' : confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}

/** An error for people, announced to screen readers. */
export function ErrorMessage({ message }: { message: string | null }) {
  if (message === null) return null;
  return (
    <p className="error" role="alert">
      {message}
    </p>
  );
}

/** What is wrong with one field, right under it; the field points at it with aria-describedby. */
export function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (message === undefined) return null;
  return (
    <p className="field-error" id={id} role="alert">
      {message}
    </p>
  );
}

/** A dialog form's buttons: Cancel, and the submit button, which says what it does while it is busy. */
export function FormActions({
  onCancel,
  busy,
  submitLabel,
  busyLabel,
  disabled = busy,
}: {
  onCancel: () => void;
  busy: boolean;
  submitLabel: string;
  busyLabel: string;
  /** When the submit button is disabled; while busy by default. */
  disabled?: boolean;
}) {
  return (
    <div className="actions">
      <button type="button" className="secondary" onClick={onCancel}>
        Cancel
      </button>
      <button type="submit" disabled={disabled}>
        {busy ? busyLabel : submitLabel}
      </button>
    </div>
  );
}

/**
 * A labelled input with its problem right under it: marked invalid while there is one, and pointing at its
 * hint (if any) and its problem with aria-describedby.
 */
export function LabelledInput({
  id,
  label,
  problem,
  hintId,
  ...input
}: {
  id: string;
  label: string;
  problem: string | undefined;
  hintId?: string | undefined;
} & InputHTMLAttributes<HTMLInputElement>) {
  const errorId = `${id}-error`;
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        {...input}
        aria-invalid={problem !== undefined}
        aria-describedby={
          [hintId, problem === undefined ? undefined : errorId].filter(Boolean).join(' ') || undefined
        }
      />
      <FieldError id={errorId} message={problem} />
    </>
  );
}
