/**
 * Admin > Host Aggregates: list, create (optionally as an availability zone), and for the
 * aggregate being managed: add and remove hosts, set metadata, delete.
 */
import { useState, type FormEvent } from 'react';
import { aggregateAction, createAggregate, deleteAggregate, listAggregates, listServices, type Aggregate } from '../../api/compute-admin';
import { Alert } from '../../components/alert';
import { ConfirmDialog } from '../../components/confirm';
import { errorMessage, useLoad } from '../../hooks';
import { useSignedIn } from '../../session';

interface Message {
  kind: 'error' | 'success';
  text: string;
}

/** "k=v" lines into metadata; an empty value ("k=") removes the key. Throws on a line without "=". */
export function parseMetadata(text: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const i = line.indexOf('=');
    if (i <= 0) throw new Error(`"${line}" is not key=value.`);
    const v = line.slice(i + 1).trim();
    out[line.slice(0, i).trim()] = v === '' ? null : v;
  }
  return out;
}

export function HostAggregatesPage() {
  const s = useSignedIn();
  const compute = s.endpoints.compute;
  const aggs = useLoad(() => listAggregates(compute), [compute]);
  const hosts = useLoad(async () => [...new Set((await listServices(compute)).filter((v) => v.binary === 'nova-compute').map((v) => v.host))].sort(), [compute]);
  const [message, setMessage] = useState<Message | null>(null);
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  const [zone, setZone] = useState('');
  const [busy, setBusy] = useState(false);
  const [managed, setManaged] = useState<number | null>(null);
  const [confirm, setConfirm] = useState<Aggregate | null>(null);
  const list = [...(aggs.data ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const current = list.find((a) => a.id === managed) ?? null;

  const run = async (what: string, fn: () => Promise<unknown>): Promise<boolean> => {
    setMessage(null);
    setBusy(true);
    try {
      await fn();
      setMessage({ kind: 'success', text: `${what}.` });
      return true;
    } catch (e) {
      setMessage({ kind: 'error', text: `${what} failed: ${errorMessage(e)}` });
      return false;
    } finally {
      setBusy(false);
      aggs.reload();
    }
  };

  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) {
      setMessage({ kind: 'error', text: 'The aggregate needs a name.' });
      return;
    }
    const ok = await run(`Created aggregate ${name.trim()}`, () => createAggregate(compute, name.trim(), zone.trim() || undefined));
    if (ok) {
      setCreating(false);
      setName('');
      setZone('');
    }
  };

  return (
    <section aria-labelledby="aggregates-title">
      <div className="page-head">
        <h1 id="aggregates-title">Host Aggregates</h1>
        <div className="toolbar">
          <button type="button" className="primary" aria-expanded={creating} onClick={() => setCreating(!creating)}>
            Create Host Aggregate
          </button>
        </div>
      </div>
      {message && (
        <Alert kind={message.kind} onDismiss={() => setMessage(null)}>
          {message.text}
        </Alert>
      )}
      {aggs.error && <Alert>Could not list the host aggregates: {aggs.error}</Alert>}
      {creating && (
        <form className="card" aria-label="Create Host Aggregate" onSubmit={(e) => void create(e)}>
          <label>
            Name
            <input value={name} onChange={(e) => setName(e.target.value)} required autoFocus />
          </label>
          <label>
            Availability Zone
            <input value={zone} onChange={(e) => setZone(e.target.value)} placeholder="none" />
          </label>
          <div className="toolbar">
            <button type="submit" className="primary" disabled={busy}>
              Create
            </button>
            <button type="button" onClick={() => setCreating(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      <table className="grid" aria-labelledby="aggregates-title" aria-busy={aggs.loading}>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Availability Zone</th>
            <th scope="col">Hosts</th>
            <th scope="col">Metadata</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {list.map((a) => (
            <tr key={a.id} data-id={a.id}>
              <th scope="row">{a.name}</th>
              <td>{a.availability_zone ?? '-'}</td>
              <td>{(a.hosts ?? []).join(', ') || '-'}</td>
              <td>
                {Object.entries(a.metadata ?? {}).map(([k, v]) => (
                  <div key={k}>
                    {k} = {v}
                  </div>
                ))}
              </td>
              <td>
                <div className="toolbar">
                  <button type="button" aria-label={`Manage ${a.name}`} aria-pressed={managed === a.id} onClick={() => setManaged(managed === a.id ? null : a.id)}>
                    Manage
                  </button>
                  <button type="button" className="danger" aria-label={`Delete ${a.name}`} onClick={() => setConfirm(a)}>
                    Delete
                  </button>
                </div>
              </td>
            </tr>
          ))}
          {!aggs.loading && !aggs.error && list.length === 0 && (
            <tr>
              <td colSpan={5} className="empty">
                No host aggregates yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {current && <ManageAggregate key={current.id} aggregate={current} allHosts={hosts.data ?? []} hostsError={hosts.error} busy={busy} run={run} compute={compute} />}
      {confirm && (
        <ConfirmDialog
          title="Confirm Delete Host Aggregate"
          message={`You have selected: ${confirm.name}. An aggregate must have no hosts to be deleted.`}
          confirmLabel="Delete Host Aggregate"
          onClose={(ok) => {
            const a = confirm;
            setConfirm(null);
            if (ok) void run(`Deleted aggregate ${a.name}`, () => deleteAggregate(compute, a.id)).then((done) => done && setManaged(null));
          }}
        />
      )}
    </section>
  );
}

interface ManageProps {
  aggregate: Aggregate;
  allHosts: string[];
  hostsError: string | null;
  busy: boolean;
  compute: string;
  run: (what: string, fn: () => Promise<unknown>) => Promise<boolean>;
}

function ManageAggregate({ aggregate: a, allHosts, hostsError, busy, compute, run }: ManageProps) {
  const members = a.hosts ?? [];
  const candidates = allHosts.filter((h) => !members.includes(h));
  const [host, setHost] = useState('');
  const [meta, setMeta] = useState('');
  const [metaError, setMetaError] = useState<string | null>(null);
  const chosen = candidates.includes(host) ? host : (candidates[0] ?? '');

  const saveMetadata = async (e: FormEvent) => {
    e.preventDefault();
    let metadata: Record<string, string | null>;
    try {
      metadata = parseMetadata(meta);
    } catch (err) {
      setMetaError(errorMessage(err));
      return;
    }
    setMetaError(null);
    if (Object.keys(metadata).length === 0) {
      setMetaError('Enter at least one key=value line.');
      return;
    }
    if (await run(`Updated the metadata of ${a.name}`, () => aggregateAction(compute, a.id, { set_metadata: { metadata } }))) setMeta('');
  };

  return (
    <section className="panel" aria-labelledby="manage-title">
      <h2 id="manage-title">Manage {a.name}</h2>
      <h3>Hosts</h3>
      {hostsError && <Alert>Could not list the compute hosts: {hostsError}</Alert>}
      <ul>
        {members.map((h) => (
          <li key={h}>
            {h}{' '}
            <button type="button" disabled={busy} onClick={() => void run(`Removed ${h} from ${a.name}`, () => aggregateAction(compute, a.id, { remove_host: { host: h } }))}>
              Remove {h}
            </button>
          </li>
        ))}
        {members.length === 0 && <li>No hosts.</li>}
      </ul>
      <form
        className="toolbar"
        aria-label="Add host"
        onSubmit={(e) => {
          e.preventDefault();
          if (chosen) void run(`Added ${chosen} to ${a.name}`, () => aggregateAction(compute, a.id, { add_host: { host: chosen } }));
        }}
      >
        <label>
          Host
          <select aria-label="Host" value={chosen} onChange={(e) => setHost(e.target.value)} disabled={candidates.length === 0}>
            {candidates.map((h) => (
              <option key={h} value={h}>
                {h}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={busy || !chosen}>
          Add Host
        </button>
      </form>
      <h3>Metadata</h3>
      <form className="card" aria-label="Set metadata" onSubmit={(e) => void saveMetadata(e)}>
        <label>
          Metadata (key=value, one per line; key= removes the key)
          <textarea rows={3} value={meta} onChange={(e) => setMeta(e.target.value)} aria-invalid={!!metaError} />
        </label>
        {metaError && <Alert>{metaError}</Alert>}
        <div className="toolbar">
          <button type="submit" disabled={busy}>
            Set Metadata
          </button>
        </div>
      </form>
    </section>
  );
}
