/**
 * Attach Volume: choose one of the project's available volumes; os-volume_attachments attaches
 * it (the device is chosen by the cloud). The volume goes attaching, then in-use.
 */
import { useState } from 'react';
import { attachVolume, type Server } from '../../api/compute';
import { listVolumes } from '../../api/volume';
import { useLoad } from '../../hooks';
import { ActionDialog } from './action-dialog';

export function AttachVolumeDialog({ compute, volume, server, onDone }: { compute: string; volume: string | null; server: Server; onDone: (ok: string | null) => void }) {
  const volumes = useLoad(() => (volume ? listVolumes(volume) : Promise.resolve([])), [volume]);
  const [volumeId, setVolumeId] = useState('');
  const available = (volumes.data ?? []).filter((v) => v.status === 'available');
  const chosen = available.find((v) => v.id === volumeId);
  const label = (v: { id: string; name: string | null; size: number }) => `${v.name || v.id} (${v.size} GB)`;
  const problem = !volume
    ? 'This cloud has no Block Storage service in the catalog.'
    : volumes.error
      ? `Could not list the volumes: ${volumes.error}`
      : !volumes.loading && available.length === 0
        ? 'No volume of this project is available. Create one on the Volumes page.'
        : null;
  return (
    <ActionDialog
      title={`Attach Volume to ${server.name}`}
      submitLabel="Attach Volume"
      canSubmit={!!chosen}
      problem={problem}
      submit={async () => {
        const a = await attachVolume(compute, server.id, volumeId);
        return `Attach Volume: ${label(chosen!)} is being attached to ${server.name}${a.device ? ` on ${a.device}` : ''}.`;
      }}
      onDone={onDone}
    >
      <label>
        Volume
        <select value={volumeId} onChange={(e) => setVolumeId(e.target.value)} required autoFocus>
          <option value="">{volumes.loading ? 'Loading volumes…' : 'Select a volume'}</option>
          {available.map((v) => (
            <option key={v.id} value={v.id}>
              {label(v)}
            </option>
          ))}
        </select>
      </label>
    </ActionDialog>
  );
}
