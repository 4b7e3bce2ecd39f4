/**
 * Project > Instances: the project's servers, live (changes-since polling, live-servers.ts),
 * with row actions, batch delete and the Launch Instance button.
 */
import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ACTIONS, deleteServer, serverAction, type ActionName, type Server } from '../api/compute';
import { listImages } from '../api/image';
import { Alert } from '../components/alert';
import { ConfirmDialog } from '../components/confirm';
import { DIALOG_LABELS, dialogsFor, RowDialog, type DialogAction } from './instance-actions/row-dialogs';
import { addresses, age, powerState, titleCase } from '../format';
import { errorMessage } from '../hooks';
import { useLiveServers } from '../live-servers';
import { Link, navigate } from '../router';
import { useSignedIn } from '../session';
import type { PageProps } from '../routes';

interface Message {
  kind: 'error' | 'success';
  text: string;
}

/** Which row actions a server in this state offers (Nova's allowed states). */
export function actionsFor(s: Server): ActionName[] {
  const busy = !!s['OS-EXT-STS:task_state'];
  if (busy) return [];
  const out: ActionName[] = [];
  switch (s.status) {
    case 'ACTIVE':
      out.push('stop', 'softReboot', 'hardReboot', 'pause', 'suspend');
      break;
    case 'SHUTOFF':
      out.push('start', 'hardReboot');
      break;
    case 'PAUSED':
      out.push('unpause', 'stop');
      break;
    case 'SUSPENDED':
      out.push('resume', 'stop');
      break;
    case 'VERIFY_RESIZE':
      out.push('confirmResize', 'revertResize');
      break;
    case 'ERROR':
      out.push('stop', 'hardReboot');
      break;
  }
  out.push(s.locked ? 'unlock' : 'lock');
  return out;
}

export const ACTION_LABELS: Record<ActionName, string> = {
  start: 'Start Instance',
  stop: 'Shut Off Instance',
  softReboot: 'Soft Reboot Instance',
  hardReboot: 'Hard Reboot Instance',
  pause: 'Pause Instance',
  unpause: 'Resume Instance',
  suspend: 'Suspend Instance',
  resume: 'Resume Instance',
  lock: 'Lock Instance',
  unlock: 'Unlock Instance',
  confirmResize: 'Confirm Resize',
  revertResize: 'Revert Resize',
};

/** allTenants (Admin > Instances): every project's servers, with their project and host columns, no Launch button. */
export function InstancesPage({ allTenants = false }: Partial<PageProps> & { allTenants?: boolean }) {
  const s = useSignedIn();
  const compute = s.endpoints.compute;
  const live = useLiveServers(compute, { allTenants });
  const [images, setImages] = useState<Map<string, string>>(new Map());
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [message, setMessage] = useState<Message | null>(null);
  const [confirm, setConfirm] = useState<Server[] | null>(null);
  const [now, setNow] = useState(Date.now());

  // Ages tick every 30 s; image names come from Glance once (and again when an unknown image shows up).
  useEffect(() => {
    const t = window.setInterval(() => setNow(Date.now()), 30_000);
    return () => window.clearInterval(t);
  }, []);
  const imageIds = useMemo(() => [...new Set([...live.servers.values()].map((v) => (v.image ? v.image.id : '')).filter(Boolean))], [live.servers]);
  const missing = imageIds.some((id) => !images.has(id));
  useEffect(() => {
    if (!missing || !s.endpoints.image) return;
    let live = true;
    listImages(s.endpoints.image).then(
      (list) => live && setImages(new Map(list.map((i) => [i.id, i.name ?? i.id]))),
      () => {},
    );
    return () => {
      live = false;
    };
  }, [missing, s.endpoints.image]);

  const rows = useMemo(() => [...live.servers.values()].sort((a, b) => b.created.localeCompare(a.created) || a.name.localeCompare(b.name)), [live.servers]);
  const selectedRows = rows.filter((r) => selected.has(r.id));

  const act = async (server: Server, action: ActionName) => {
    setMessage(null);
    try {
      await serverAction(compute, server.id, ACTIONS[action]);
      setMessage({ kind: 'success', text: `${ACTION_LABELS[action]}: requested for ${server.name}.` });
    } catch (e) {
      setMessage({ kind: 'error', text: `${ACTION_LABELS[action]} failed for ${server.name}: ${errorMessage(e)}` });
    }
    live.refresh();
  };

  const remove = async (servers: Server[]) => {
    setMessage(null);
    const failed: string[] = [];
    await Promise.all(
      servers.map((v) =>
        deleteServer(compute, v.id).catch((e: unknown) => {
          failed.push(`${v.name}: ${errorMessage(e)}`);
        }),
      ),
    );
    setSelected(new Set());
    if (failed.length) setMessage({ kind: 'error', text: `Could not delete ${failed.join('; ')}` });
    else setMessage({ kind: 'success', text: `Scheduled deletion of ${servers.map((v) => v.name).join(', ')}.` });
    live.refresh();
  };

  const toggle = useCallback(
    (id: string, on: boolean) =>
      setSelected((old) => {
        const next = new Set(old);
        if (on) next.add(id);
        else next.delete(id);
        return next;
      }),
    [],
  );
  // Stable callbacks, so that the memoized rows re-render only when their server changes.
  const actRef = useRef(act);
  actRef.current = act;
  const onAction = useCallback((v: Server, a: ActionName) => actRef.current(v, a), []);
  const onDelete = useCallback((v: Server) => setConfirm([v]), []);
  const [dialog, setDialog] = useState<{ action: DialogAction; server: Server } | null>(null);
  const onDialog = useCallback((server: Server, action: DialogAction) => {
    setMessage(null);
    setDialog({ action, server });
  }, []);

  return (
    <section aria-labelledby="instances-title">
      <div className="page-head">
        <h1 id="instances-title">{allTenants ? 'All Instances' : 'Instances'}</h1>
        <div className="toolbar">
          {!allTenants && (
            <button type="button" className="primary" onClick={() => navigate('/project/instances/launch')}>
              Launch Instance
            </button>
          )}
          <button type="button" className="danger" disabled={selectedRows.length === 0} onClick={() => setConfirm(selectedRows)}>
            Delete Instances{selectedRows.length ? ` (${selectedRows.length})` : ''}
          </button>
        </div>
      </div>
      {message && (
        <Alert kind={message.kind} onDismiss={() => setMessage(null)}>
          {message.text}
        </Alert>
      )}
      {live.error && <Alert>Could not list the instances: {live.error}</Alert>}
      <table className="grid" aria-labelledby="instances-title" aria-busy={live.loading}>
        <thead>
          <tr>
            <th scope="col">
              <input
                type="checkbox"
                aria-label="Select all instances"
                checked={rows.length > 0 && selectedRows.length === rows.length}
                onChange={(e) => setSelected(e.target.checked ? new Set(rows.map((r) => r.id)) : new Set())}
              />
            </th>
            {allTenants && <th scope="col">Project</th>}
            {allTenants && <th scope="col">Host</th>}
            <th scope="col">Instance Name</th>
            <th scope="col">Image Name</th>
            <th scope="col">IP Address</th>
            <th scope="col">Flavor</th>
            <th scope="col">Key Pair</th>
            <th scope="col">Status</th>
            <th scope="col">Availability Zone</th>
            <th scope="col">Task</th>
            <th scope="col">Power State</th>
            <th scope="col">Age</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((v) => (
            <Row key={v.id} server={v} imageName={v.image ? (images.get(v.image.id) ?? v.image.id) : '-'} now={now} allTenants={allTenants} selected={selected.has(v.id)} onSelect={toggle} onAction={onAction} onDelete={onDelete} onDialog={onDialog} />
          ))}
          {!live.loading && rows.length === 0 && (
            <tr>
              <td colSpan={allTenants ? 14 : 12} className="empty">
                {allTenants ? 'No instances in any project.' : 'No instances yet. Launch one with the Launch Instance button.'}
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <p className="count">
        {live.loading ? 'Loading instances…' : `Displaying ${rows.length} item${rows.length === 1 ? '' : 's'}`}
      </p>
      {dialog && (
        <RowDialog
          action={dialog.action}
          server={dialog.server}
          compute={compute}
          volume={s.endpoints.volume}
          onDone={(ok) => {
            setDialog(null);
            if (ok) {
              setMessage({ kind: 'success', text: ok });
              live.refresh();
            }
          }}
        />
      )}
      {confirm && (
        <ConfirmDialog
          title={confirm.length === 1 ? 'Confirm Delete Instance' : `Confirm Delete ${confirm.length} Instances`}
          message={`You have selected: ${confirm.map((v) => v.name).join(', ')}. Deleted instances are not recoverable.`}
          confirmLabel={confirm.length === 1 ? 'Delete Instance' : 'Delete Instances'}
          onClose={(ok) => {
            const list = confirm;
            setConfirm(null);
            if (ok) void remove(list);
          }}
        />
      )}
    </section>
  );
}

interface RowProps {
  server: Server;
  imageName: string;
  /** Adds the project and host cells. */
  allTenants: boolean;
  now: number;
  selected: boolean;
  onSelect: (id: string, on: boolean) => void;
  onAction: (s: Server, a: ActionName) => Promise<void>;
  onDelete: (s: Server) => void;
  onDialog: (s: Server, a: DialogAction) => void;
}

/** One server; memoized so that a change re-renders only the rows that changed (1,000 rows stay fast). */
const Row = memo(function Row({ server: v, imageName, allTenants, now, selected, onSelect, onAction, onDelete, onDialog }: RowProps) {
  const task = v['OS-EXT-STS:task_state'];
  const detail = `/project/instances/${encodeURIComponent(v.id)}`;
  return (
    <tr data-id={v.id} data-status={v.status}>
      <td>
        <input type="checkbox" aria-label={`Select ${v.name}`} checked={selected} onChange={(e) => onSelect(v.id, e.target.checked)} />
      </td>
      {allTenants && <td data-field="project">{v.tenant_id}</td>}
      {allTenants && <td data-field="host">{v['OS-EXT-SRV-ATTR:host'] ?? '-'}</td>}
      <th scope="row">
        <Link to={detail}>{v.name}</Link>
        {v.locked && <span className="badge" title="Locked">locked</span>}
      </th>
      <td>{imageName}</td>
      <td>
        {addresses(v).map((a) => (
          <div key={a}>{a}</div>
        ))}
      </td>
      <td>{v.flavor?.original_name ?? ''}</td>
      <td>{v.key_name ?? '-'}</td>
      <td className={`status status-${v.status.toLowerCase()}`}>{titleCase(v.status)}</td>
      <td>{v['OS-EXT-AZ:availability_zone'] ?? ''}</td>
      <td className="task">{titleCase(task)}</td>
      <td>{powerState(v)}</td>
      <td title={v.created}>{age(v.created, now)}</td>
      <td>
        <RowActions server={v} detail={detail} onAction={onAction} onDelete={onDelete} onDialog={onDialog} />
      </td>
    </tr>
  );
});

function RowActions({ server: v, detail, onAction, onDelete, onDialog }: { server: Server; detail: string; onAction: RowProps['onAction']; onDelete: RowProps['onDelete']; onDialog: RowProps['onDialog'] }) {
  const [open, setOpen] = useState(false);
  const actions = actionsFor(v);
  return (
    <details className="menu" open={open} onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary aria-label={`Actions for ${v.name}`}>Actions</summary>
      <ul>
        <li>
          <Link to={`${detail}?tab=log`}>View Log</Link>
        </li>
        <li>
          <Link to={`${detail}?tab=console`}>Console</Link>
        </li>
        {actions.map((a) => (
          <li key={a}>
            <button
              type="button"
              onClick={() => {
                setOpen(false);
                void onAction(v, a);
              }}
            >
              {ACTION_LABELS[a]}
            </button>
          </li>
        ))}
        {dialogsFor(v).map((a) => (
          <li key={a}>
            <button
              type="button"
              onClick={() => {
                setOpen(false);
                onDialog(v, a);
              }}
            >
              {DIALOG_LABELS[a]}
            </button>
          </li>
        ))}
        <li>
          <button
            type="button"
            className="danger"
            onClick={() => {
              setOpen(false);
              onDelete(v);
            }}
          >
            Delete Instance
          </button>
        </li>
      </ul>
    </details>
  );
}
