/**
 * Project > Key Pairs: list, create (the cloud generates the key; its private key is offered
 * for download as <name>.pem at once: it is shown only this one time), import a public key,
 * delete with confirmation.
 */
import { useState, type FormEvent } from 'react';
import { createKeypair, deleteKeypair, listKeypairs, type Keypair } from '../api/compute';
import { Alert } from '../components/alert';
import { ConfirmDialog } from '../components/confirm';
import { errorMessage, useLoad } from '../hooks';
import { useSignedIn } from '../session';

type Mode = null | 'create' | 'import';

/** Starts a browser download of text as a file. */
export function downloadText(filename: string, text: string, type = 'application/x-pem-file'): string {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return url;
}

export function KeyPairsPage() {
  const s = useSignedIn();
  const compute = s.endpoints.compute;
  const list = useLoad(() => listKeypairs(compute), [compute]);
  const [mode, setMode] = useState<Mode>(null);
  const [name, setName] = useState('');
  const [publicKey, setPublicKey] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [created, setCreated] = useState<Keypair | null>(null);
  const [confirm, setConfirm] = useState<Keypair | null>(null);

  const open = (m: Mode) => {
    setMode(m);
    setName('');
    setPublicKey('');
    setError(null);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setMessage(null);
    const n = name.trim();
    if (!n) return setError('Enter a key pair name.');
    if (mode === 'import' && !publicKey.trim()) return setError('Paste the public key (or load it from a file).');
    setBusy(true);
    try {
      const kp = await createKeypair(compute, n, mode === 'import' ? publicKey.trim() : undefined);
      if (kp.private_key) {
        downloadText(`${kp.name}.pem`, kp.private_key);
        setCreated(kp);
      } else {
        setMessage(`Imported key pair ${kp.name}.`);
      }
      setMode(null);
      list.reload();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const remove = async (kp: Keypair) => {
    setMessage(null);
    setError(null);
    try {
      await deleteKeypair(compute, kp.name);
      setMessage(`Deleted key pair ${kp.name}.`);
    } catch (err) {
      setError(errorMessage(err));
    }
    list.reload();
  };

  const rows = [...(list.data ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <section aria-labelledby="keypairs-title">
      <div className="page-head">
        <h1 id="keypairs-title">Key Pairs</h1>
        <div className="toolbar">
          <button type="button" className="primary" onClick={() => open('create')}>
            Create Key Pair
          </button>
          <button type="button" onClick={() => open('import')}>
            Import Public Key
          </button>
        </div>
      </div>
      {list.error && <Alert>{list.error}</Alert>}
      {message && (
        <Alert kind="success" onDismiss={() => setMessage(null)}>
          {message}
        </Alert>
      )}
      {created && (
        <Alert kind="info" onDismiss={() => setCreated(null)}>
          Key pair {created.name} created: its private key was downloaded as {created.name}.pem. It is shown only this once and the cloud keeps no copy.{' '}
          <button type="button" className="link" onClick={() => downloadText(`${created.name}.pem`, created.private_key ?? '')}>
            Download {created.name}.pem again
          </button>
        </Alert>
      )}
      {mode && (
        <form className="inline" aria-label={mode === 'create' ? 'Create Key Pair' : 'Import Public Key'} onSubmit={(e) => void submit(e)}>
          <label>
            Key Pair Name
            <input value={name} onChange={(e) => setName(e.target.value)} autoFocus required maxLength={255} />
          </label>
          {mode === 'import' && (
            <>
              <label>
                Public Key
                <textarea aria-label="Public Key" value={publicKey} onChange={(e) => setPublicKey(e.target.value)} rows={3} cols={50} placeholder="ssh-rsa AAAA… user@host" />
              </label>
              <label>
                Load Public Key from a file
                <input
                  type="file"
                  onChange={(e) => {
                    const f = e.target.files?.[0];
                    if (f) void f.text().then((t) => setPublicKey(t.trim()));
                  }}
                />
              </label>
            </>
          )}
          {error && <Alert>{error}</Alert>}
          <div className="buttons">
            <button type="submit" className="primary" disabled={busy}>
              {mode === 'create' ? 'Create Key Pair' : 'Import Key Pair'}
            </button>
            <button type="button" onClick={() => setMode(null)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {!mode && error && <Alert onDismiss={() => setError(null)}>{error}</Alert>}
      <table className="grid" aria-label="Key pairs">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Type</th>
            <th scope="col">Fingerprint</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((kp) => (
            <tr key={kp.name} data-name={kp.name}>
              <th scope="row">{kp.name}</th>
              <td>{kp.type ?? 'ssh'}</td>
              <td className="mono">{kp.fingerprint}</td>
              <td>
                <button type="button" className="danger" aria-label={`Delete key pair ${kp.name}`} onClick={() => setConfirm(kp)}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
          {!list.loading && rows.length === 0 && (
            <tr>
              <td colSpan={4} className="empty">
                No key pairs yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      {confirm && (
        <ConfirmDialog
          title="Confirm Delete Key Pair"
          message={`Delete key pair ${confirm.name}? Instances that use it keep their copy.`}
          confirmLabel="Delete Key Pair"
          onClose={(ok) => {
            const kp = confirm;
            setConfirm(null);
            if (ok) void remove(kp);
          }}
        />
      )}
    </section>
  );
}
