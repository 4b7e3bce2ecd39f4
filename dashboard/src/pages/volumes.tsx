/**
 * Project > Volumes: list (statuses refresh while any volume is changing), create (name, size,
 * optionally from an image), attach to an instance and detach (Compute's
 * os-volume_attachments), delete with confirmation.
 */
import { useState, type FormEvent } from 'react';
import { attachVolume, detachVolume, listServers } from '../api/compute';
import { listImages } from '../api/image';
import { createVolume, deleteVolume, listVolumes, type Volume } from '../api/volume';
import { Alert } from '../components/alert';
import { ConfirmDialog } from '../components/confirm';
import { titleCase } from '../format';
import { useAction, useInterval, useLoad } from '../hooks';
import { useSignedIn } from '../session';

const SETTLED = ['available', 'in-use', 'error', 'error_deleting', 'error_extending', 'error_restoring'];

export function VolumesPage() {
  const s = useSignedIn();
  const base = s.endpoints.volume;
  const compute = s.endpoints.compute;
  const list = useLoad(() => (base ? listVolumes(base) : Promise.resolve([])), [base]);
  const servers = useLoad(() => listServers(compute), [compute]);
  const images = useLoad(() => (s.endpoints.image ? listImages(s.endpoints.image, { status: 'active' }) : Promise.resolve([])), [s.endpoints.image]);
  const [form, setForm] = useState(false);
  const [name, setName] = useState('');
  const [size, setSize] = useState('1');
  const [imageId, setImageId] = useState('');
  const { busy, error, message, setError, setMessage, run } = useAction(list.reload);
  const [attaching, setAttaching] = useState<Volume | null>(null);
  const [serverId, setServerId] = useState('');
  const [confirm, setConfirm] = useState<Volume | null>(null);

  const changing = (list.data ?? []).some((v) => !SETTLED.includes(v.status));
  useInterval(() => {
    if (changing) list.reload();
  }, 1500);

  if (!base) return <Alert>This cloud offers no Block Storage service.</Alert>;
  const serverName = (id: string) => servers.data?.find((v) => v.id === id)?.name ?? id;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const n = Number(size);
    if (!Number.isInteger(n) || n < 1) return setError('The size must be a whole number of GiB, at least 1.');
    const ok = await run(() => createVolume(base, { size: n, name: name.trim() || undefined, imageRef: imageId || undefined }), `Creating volume ${name.trim() || '(no name)'}.`);
    if (ok) setForm(false);
  };

  const attach = async (e: FormEvent) => {
    e.preventDefault();
    if (!attaching) return;
    if (!serverId) return setError('Choose the instance to attach to.');
    const v = attaching;
    const ok = await run(() => attachVolume(compute, serverId, v.id), `Attaching volume ${v.name || v.id} to ${serverName(serverId)}.`);
    if (ok) setAttaching(null);
  };

  const rows = [...(list.data ?? [])].sort((a, b) => b.created_at.localeCompare(a.created_at));
  return (
    <section aria-labelledby="volumes-title">
      <div className="page-head">
        <h1 id="volumes-title">Volumes</h1>
        <div className="toolbar">
          <button
            type="button"
            className="primary"
            onClick={() => {
              setForm(true);
              setAttaching(null);
              setError(null);
            }}
          >
            Create Volume
          </button>
        </div>
      </div>
      {list.error && <Alert>{list.error}</Alert>}
      {message && (
        <Alert kind="success" onDismiss={() => setMessage(null)}>
          {message}
        </Alert>
      )}
      {error && <Alert onDismiss={() => setError(null)}>{error}</Alert>}
      {form && (
        <form className="inline" aria-label="Create Volume" onSubmit={(e) => void submit(e)}>
          <label>
            Volume Name
            <input value={name} onChange={(e) => setName(e.target.value)} autoFocus />
          </label>
          <label>
            Size (GiB)
            <input type="number" min={1} step={1} value={size} onChange={(e) => setSize(e.target.value)} required />
          </label>
          <label>
            Volume Source
            <select value={imageId} onChange={(e) => setImageId(e.target.value)}>
              <option value="">No source, empty volume</option>
              {(images.data ?? []).map((i) => (
                <option key={i.id} value={i.id}>
                  Image: {i.name ?? i.id}
                </option>
              ))}
            </select>
          </label>
          <div className="buttons">
            <button type="submit" className="primary" disabled={busy}>
              Create Volume
            </button>
            <button type="button" onClick={() => setForm(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {attaching && (
        <form className="inline" aria-label={`Attach volume ${attaching.name || attaching.id}`} onSubmit={(e) => void attach(e)}>
          <label>
            Attach to Instance
            <select value={serverId} onChange={(e) => setServerId(e.target.value)} autoFocus>
              <option value="">Select an instance</option>
              {(servers.data ?? [])
                .filter((v) => v.status === 'ACTIVE' || v.status === 'SHUTOFF')
                .map((v) => (
                  <option key={v.id} value={v.id}>
                    {v.name} ({v.id.slice(0, 8)})
                  </option>
                ))}
            </select>
          </label>
          {servers.error && <Alert>{servers.error}</Alert>}
          <div className="buttons">
            <button type="submit" className="primary" disabled={busy}>
              Attach Volume
            </button>
            <button type="button" onClick={() => setAttaching(null)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      <table className="grid" aria-label="Volumes">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Size</th>
            <th scope="col">Status</th>
            <th scope="col">Attached To</th>
            <th scope="col">Availability Zone</th>
            <th scope="col">Bootable</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((v) => {
            const label = v.name || v.id;
            return (
              <tr key={v.id} data-id={v.id} data-status={v.status}>
                <th scope="row">{label}</th>
                <td>{v.size} GiB</td>
                <td className={`status status-${v.status}`}>{titleCase(v.status)}</td>
                <td>{v.attachments.map((a) => `${a.device} on ${serverName(a.server_id)}`).join(', ')}</td>
                <td>{v.availability_zone}</td>
                <td>{v.bootable === 'true' ? 'Yes' : 'No'}</td>
                <td className="row-actions">
                  {v.status === 'available' && (
                    <button
                      type="button"
                      aria-label={`Attach volume ${label}`}
                      onClick={() => {
                        setAttaching(v);
                        setForm(false);
                        setServerId('');
                        servers.reload();
                      }}
                    >
                      Attach
                    </button>
                  )}
                  {v.attachments.map((a) => (
                    <button key={a.server_id} type="button" disabled={busy} aria-label={`Detach volume ${label} from ${serverName(a.server_id)}`} onClick={() => void run(() => detachVolume(compute, a.server_id, v.id), `Detaching volume ${label}.`)}>
                      Detach
                    </button>
                  ))}
                  <button type="button" className="danger" disabled={v.attachments.length > 0} aria-label={`Delete volume ${label}`} onClick={() => setConfirm(v)}>
                    Delete
                  </button>
                </td>
              </tr>
            );
          })}
          {!list.loading && rows.length === 0 && (
            <tr>
              <td colSpan={7} className="empty">
                No volumes.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {confirm && (
        <ConfirmDialog
          title="Confirm Delete Volume"
          message={`Delete volume ${confirm.name || confirm.id}? Its data is lost.`}
          confirmLabel="Delete Volume"
          onClose={(ok) => {
            const v = confirm;
            setConfirm(null);
            if (ok) void run(() => deleteVolume(base, v.id), `Deleting volume ${v.name || v.id}.`);
          }}
        />
      )}
    </section>
  );
}
