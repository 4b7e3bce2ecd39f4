/**
 * The modal form of a row action (native <dialog>, like components/confirm.tsx): a title, the
 * labelled controls (children), Cancel and a submit button. submit() runs the API call; while
 * it runs the buttons are disabled; when it throws, the API's own message is shown in the
 * dialog and the dialog stays open; when it resolves, onDone(message) closes it.
 */
import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { Alert } from '../../components/alert';
import { errorMessage } from '../../hooks';

export interface ActionDialogProps {
  title: string;
  submitLabel: string;
  /** Disables the submit button (e.g. nothing chosen yet). */
  canSubmit?: boolean;
  /** Performs the action; resolves to the success message for the page. */
  submit: () => Promise<string>;
  /** ok = the success message, or null when cancelled. */
  onDone: (ok: string | null) => void;
  /** A problem known before submitting (e.g. the choices could not be loaded). */
  problem?: string | null;
  children: ReactNode;
}

export function ActionDialog({ title, submitLabel, canSubmit = true, submit, onDone, problem, children }: ActionDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy || !canSubmit) return;
    setBusy(true);
    setError(null);
    try {
      const message = await submit();
      onDone(message);
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };
  return (
    <dialog ref={ref} aria-labelledby={titleId} onCancel={() => onDone(null)}>
      <form onSubmit={(e) => void onSubmit(e)}>
        <h2 id={titleId}>{title}</h2>
        {children}
        {problem && <Alert>{problem}</Alert>}
        {error && <Alert>{error}</Alert>}
        <div className="buttons">
          <button type="button" onClick={() => onDone(null)} disabled={busy}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || !canSubmit}>
            {submitLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
