/**
 * Resize Instance: choose another flavor (the current one is not offered). The server then
 * goes through Resize to Verify Resize, where the row menu offers Confirm Resize / Revert Resize.
 */
import { useState } from 'react';
import { listFlavors, resizeServer, type Server } from '../../api/compute';
import { formatBytes } from '../../format';
import { useLoad } from '../../hooks';
import { ActionDialog } from './action-dialog';

export function ResizeDialog({ compute, server, onDone }: { compute: string; server: Server; onDone: (ok: string | null) => void }) {
  const flavors = useLoad(() => listFlavors(compute), [compute]);
  const [flavorId, setFlavorId] = useState('');
  const current = server.flavor?.original_name;
  const choices = (flavors.data ?? []).filter((f) => f.name !== current);
  const chosen = choices.find((f) => f.id === flavorId);
  return (
    <ActionDialog
      title={`Resize Instance ${server.name}`}
      submitLabel="Resize"
      canSubmit={!!chosen}
      problem={flavors.error && `Could not list the flavors: ${flavors.error}`}
      submit={async () => {
        await resizeServer(compute, server.id, flavorId);
        return `Resize Instance: requested for ${server.name} (to ${chosen!.name}). Confirm or revert it from the row menu when it reaches Verify Resize.`;
      }}
      onDone={onDone}
    >
      <p>Old flavor: {current ?? 'unknown'}</p>
      <label>
        New flavor
        <select value={flavorId} onChange={(e) => setFlavorId(e.target.value)} required autoFocus>
          <option value="">{flavors.loading ? 'Loading flavors…' : 'Select a flavor'}</option>
          {choices.map((f) => (
            <option key={f.id} value={f.id}>
              {f.name}
            </option>
          ))}
        </select>
      </label>
      {chosen && (
        <p>
          {chosen.vcpus} VCPU, {formatBytes(chosen.ram * 1024 * 1024)} RAM, {chosen.disk} GB root disk
        </p>
      )}
    </ActionDialog>
  );
}
