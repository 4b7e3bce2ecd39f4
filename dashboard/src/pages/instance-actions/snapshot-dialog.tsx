/**
 * Create Snapshot: a name, then createImage. The snapshot is an image of the project: it
 * appears on the Images page (queued, then active when the upload is done).
 */
import { useState } from 'react';
import { createServerImage, type Server } from '../../api/compute';
import { ActionDialog } from './action-dialog';

export function SnapshotDialog({ compute, server, onDone }: { compute: string; server: Server; onDone: (ok: string | null) => void }) {
  const [name, setName] = useState(`${server.name}-snapshot`);
  const trimmed = name.trim();
  return (
    <ActionDialog
      title={`Create Snapshot of ${server.name}`}
      submitLabel="Create Snapshot"
      canSubmit={trimmed.length > 0}
      submit={async () => {
        await createServerImage(compute, server.id, trimmed);
        return `Create Snapshot: requested for ${server.name}. The image "${trimmed}" appears on the Images page.`;
      }}
      onDone={onDone}
    >
      <label>
        Snapshot Name
        <input value={name} onChange={(e) => setName(e.target.value)} maxLength={255} required autoFocus />
      </label>
      {trimmed.length === 0 && <p className="field-error">Enter a name for the snapshot.</p>}
      <p>The snapshot is listed on the Images page; it becomes Active once its data is uploaded.</p>
    </ActionDialog>
  );
}
