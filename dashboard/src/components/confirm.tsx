/**
 * A modal confirmation (the native <dialog>: focus is trapped, Escape cancels). Render it
 * when a question is pending; onClose(true) on confirm.
 */
import { useEffect, useRef } from 'react';

export function ConfirmDialog({ title, message, confirmLabel, onClose }: { title: string; message: string; confirmLabel: string; onClose: (ok: boolean) => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onCancel={() => onClose(false)}>
      <h2 id="confirm-title">{title}</h2>
      <p>{message}</p>
      <div className="buttons">
        <button type="button" onClick={() => onClose(false)} autoFocus>
          Cancel
        </button>
        <button type="button" className="danger" onClick={() => onClose(true)}>
          {confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
