/**
 * The Instances page's row actions that need a form: which a server offers in its state
 * (Nova's allowed states), their menu labels, and the dialog that performs each.
 */
import type { Server } from '../../api/compute';
import { AttachVolumeDialog } from './attach-volume-dialog';
import { ResizeDialog } from './resize-dialog';
import { SnapshotDialog } from './snapshot-dialog';

export type DialogAction = 'resize' | 'snapshot' | 'attachVolume';

export const DIALOG_LABELS: Record<DialogAction, string> = {
  snapshot: 'Create Snapshot',
  attachVolume: 'Attach Volume',
  resize: 'Resize Instance',
};

/** The form actions a server offers: none while a task runs; resize when active or shut off. */
export function dialogsFor(s: Server): DialogAction[] {
  if (s['OS-EXT-STS:task_state']) return [];
  const out: DialogAction[] = [];
  if (['ACTIVE', 'SHUTOFF', 'PAUSED', 'SUSPENDED'].includes(s.status)) out.push('snapshot');
  if (['ACTIVE', 'SHUTOFF', 'PAUSED', 'VERIFY_RESIZE', 'SHELVED', 'SHELVED_OFFLOADED'].includes(s.status)) out.push('attachVolume');
  if (['ACTIVE', 'SHUTOFF'].includes(s.status) && !s.locked) out.push('resize');
  return out;
}

export interface RowDialogProps {
  action: DialogAction;
  server: Server;
  compute: string;
  /** The Block Storage endpoint (null when the catalog has none). */
  volume: string | null;
  /** ok = the success message for the page; null when cancelled. */
  onDone: (ok: string | null) => void;
}

export function RowDialog({ action, server, compute, volume, onDone }: RowDialogProps) {
  switch (action) {
    case 'resize':
      return <ResizeDialog compute={compute} server={server} onDone={onDone} />;
    case 'snapshot':
      return <SnapshotDialog compute={compute} server={server} onDone={onDone} />;
    case 'attachVolume':
      return <AttachVolumeDialog compute={compute} volume={volume} server={server} onDone={onDone} />;
  }
}
