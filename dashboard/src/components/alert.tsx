/** An error (or other) message announced to screen readers. */
import type { ReactNode } from 'react';

export function Alert({ children, kind = 'error', onDismiss }: { children: ReactNode; kind?: 'error' | 'info' | 'success'; onDismiss?: () => void }) {
  return (
    <div className={`alert alert-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      <span>{children}</span>
      {onDismiss && (
        <button type="button" className="link" aria-label="Dismiss" onClick={onDismiss}>
          ×
        </button>
      )}
    </div>
  );
}
