/** Admin > Flavors: every flavor (private ones too), create, delete. */
import { useState, type FormEvent } from 'react';
import { createFlavor, deleteFlavor, listAllFlavors } from '../../api/compute-admin';
import type { Flavor } from '../../api/compute';
import { Alert } from '../../components/alert';
import { ConfirmDialog } from '../../components/confirm';
import { formatBytes } from '../../format';
import { errorMessage, useLoad } from '../../hooks';
import { useSignedIn } from '../../session';

interface Message {
  kind: 'error' | 'success';
  text: string;
}

const EMPTY = { name: '', vcpus: '1', ram: '512', disk: '1', isPublic: true };

/** The form's fields as a flavor, or the first problem with them. */
export function checkFlavor(f: typeof EMPTY): { name: string; vcpus: number; ram: number; disk: number; isPublic: boolean } | string {
  const name = f.name.trim();
  if (!name) return 'The flavor needs a name.';
  const vcpus = Number(f.vcpus);
  const ram = Number(f.ram);
  const disk = Number(f.disk);
  if (!Number.isInteger(vcpus) || vcpus < 1) return 'VCPUs must be a whole number of at least 1.';
  if (!Number.isInteger(ram) || ram < 1) return 'RAM (MB) must be a whole number of at least 1.';
  if (!Number.isInteger(disk) || disk < 0) return 'Root Disk (GB) must be a whole number of at least 0.';
  return { name, vcpus, ram, disk, isPublic: f.isPublic };
}

export function FlavorsPage() {
  const s = useSignedIn();
  const compute = s.endpoints.compute;
  const flavors = useLoad(() => listAllFlavors(compute), [compute]);
  const [message, setMessage] = useState<Message | null>(null);
  const [form, setForm] = useState<typeof EMPTY | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirm, setConfirm] = useState<Flavor | null>(null);
  const list = [...(flavors.data ?? [])].sort((a, b) => a.vcpus - b.vcpus || a.ram - b.ram || a.name.localeCompare(b.name));

  const create = async (e: FormEvent) => {
    e.preventDefault();
    if (!form) return;
    const f = checkFlavor(form);
    if (typeof f === 'string') {
      setFormError(f);
      return;
    }
    setFormError(null);
    setBusy(true);
    try {
      await createFlavor(compute, f);
      setMessage({ kind: 'success', text: `Created flavor ${f.name}.` });
      setForm(null);
    } catch (err) {
      setFormError(`Could not create flavor ${f.name}: ${errorMessage(err)}`);
    } finally {
      setBusy(false);
      flavors.reload();
    }
  };

  const remove = async (f: Flavor) => {
    setMessage(null);
    try {
      await deleteFlavor(compute, f.id);
      setMessage({ kind: 'success', text: `Deleted flavor ${f.name}.` });
    } catch (err) {
      setMessage({ kind: 'error', text: `Could not delete flavor ${f.name}: ${errorMessage(err)}` });
    }
    flavors.reload();
  };

  const field = (k: 'name' | 'vcpus' | 'ram' | 'disk') => ({ value: form?.[k] ?? '', onChange: (e: { target: { value: string } }) => setForm((o) => o && { ...o, [k]: e.target.value }) });

  return (
    <section aria-labelledby="flavors-title">
      <div className="page-head">
        <h1 id="flavors-title">Flavors</h1>
        <div className="toolbar">
          <button type="button" className="primary" aria-expanded={!!form} onClick={() => setForm(form ? null : { ...EMPTY })}>
            Create Flavor
          </button>
        </div>
      </div>
      {message && (
        <Alert kind={message.kind} onDismiss={() => setMessage(null)}>
          {message.text}
        </Alert>
      )}
      {flavors.error && <Alert>Could not list the flavors: {flavors.error}</Alert>}
      {form && (
        <form className="card" aria-label="Create Flavor" onSubmit={(e) => void create(e)} noValidate>
          <label>
            Name
            <input {...field('name')} required autoFocus />
          </label>
          <label>
            VCPUs
            <input type="number" min={1} step={1} {...field('vcpus')} />
          </label>
          <label>
            RAM (MB)
            <input type="number" min={1} step={1} {...field('ram')} />
          </label>
          <label>
            Root Disk (GB)
            <input type="number" min={0} step={1} {...field('disk')} />
          </label>
          <label className="check">
            <span>
              <input type="checkbox" checked={form.isPublic} onChange={(e) => setForm({ ...form, isPublic: e.target.checked })} /> Public
            </span>
          </label>
          {formError && <Alert>{formError}</Alert>}
          <div className="toolbar">
            <button type="submit" className="primary" disabled={busy}>
              Create
            </button>
            <button type="button" onClick={() => setForm(null)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      <table className="grid" aria-labelledby="flavors-title" aria-busy={flavors.loading}>
        <thead>
          <tr>
            <th scope="col">Flavor Name</th>
            <th scope="col">VCPUs</th>
            <th scope="col">RAM</th>
            <th scope="col">Root Disk</th>
            <th scope="col">Public</th>
            <th scope="col">ID</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {list.map((f) => (
            <tr key={f.id} data-id={f.id}>
              <th scope="row">{f.name}</th>
              <td>{f.vcpus}</td>
              <td>{formatBytes(f.ram * 1024 * 1024)}</td>
              <td>{f.disk} GiB</td>
              <td>{f['os-flavor-access:is_public'] === false ? 'No' : 'Yes'}</td>
              <td>{f.id}</td>
              <td>
                <button type="button" className="danger" aria-label={`Delete ${f.name}`} onClick={() => setConfirm(f)}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
          {!flavors.loading && !flavors.error && list.length === 0 && (
            <tr>
              <td colSpan={7} className="empty">
                No flavors yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {confirm && (
        <ConfirmDialog
          title="Confirm Delete Flavor"
          message={`You have selected: ${confirm.name}. Instances already using it keep their copy of it.`}
          confirmLabel="Delete Flavor"
          onClose={(ok) => {
            const f = confirm;
            setConfirm(null);
            if (ok) void remove(f);
          }}
        />
      )}
    </section>
  );
}
