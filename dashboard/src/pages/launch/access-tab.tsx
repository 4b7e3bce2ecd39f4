/**
 * The wizard's Access & Security tab: the key pair (with Import Key Pair in place: the new pair
 * is created through os-keypairs and selected) and the security groups.
 */
import { useState } from 'react';
import { createKeypair, type Keypair } from '../../api/compute';
import type { SecurityGroup } from '../../api/network';
import { Alert } from '../../components/alert';
import { errorMessage } from '../../hooks';
import type { LaunchForm } from './model';

export interface AccessProps {
  form: LaunchForm;
  set: (patch: Partial<LaunchForm>) => void;
  compute: string;
  keypairs: Keypair[] | undefined;
  reloadKeypairs: () => void;
  groups: SecurityGroup[] | undefined;
}

export function AccessTab({ form, set, compute, keypairs, reloadKeypairs, groups }: AccessProps) {
  const [importing, setImporting] = useState(false);
  return (
    <div className="form">
      <label>
        Key Pair
        <select aria-label="Key Pair" value={form.keyName} onChange={(e) => set({ keyName: e.target.value })}>
          <option value="">No key pair</option>
          {(keypairs ?? []).map((k) => (
            <option key={k.name} value={k.name}>
              {k.name}
            </option>
          ))}
        </select>
      </label>
      {importing ? (
        <ImportKeypair
          compute={compute}
          onDone={(name) => {
            setImporting(false);
            if (name) {
              reloadKeypairs();
              set({ keyName: name });
            }
          }}
        />
      ) : (
        <div className="toolbar">
          <button type="button" onClick={() => setImporting(true)}>
            Import Key Pair
          </button>
        </div>
      )}
      <fieldset>
        <legend>Security Groups</legend>
        {(groups ?? []).map((g) => (
          <label key={g.id} className="check">
            <input
              type="checkbox"
              checked={form.securityGroups.includes(g.name)}
              onChange={(e) =>
                set({ securityGroups: e.target.checked ? [...form.securityGroups, g.name] : form.securityGroups.filter((n) => n !== g.name) })
              }
            />
            {g.name}
          </label>
        ))}
        {groups && groups.length === 0 && <p>No security groups.</p>}
      </fieldset>
    </div>
  );
}

function ImportKeypair({ compute, onDone }: { compute: string; onDone: (name: string | null) => void }) {
  const [name, setName] = useState('');
  const [publicKey, setPublicKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    if (!name.trim()) return setError('Key Pair Name is required.');
    if (!publicKey.trim()) return setError('Public Key is required: paste an OpenSSH public key (ssh-ed25519 AAAA… or ssh-rsa AAAA…).');
    setBusy(true);
    try {
      const k = await createKeypair(compute, name.trim(), publicKey.trim());
      onDone(k.name);
    } catch (e) {
      setError(`${errorMessage(e)} Check the name is unused and the key is one line of an OpenSSH public key.`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <fieldset>
      <legend>Import Key Pair</legend>
      {error && <Alert>{error}</Alert>}
      <label>
        Key Pair Name
        <input value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Public Key
        <textarea rows={3} value={publicKey} onChange={(e) => setPublicKey(e.target.value)} />
      </label>
      <div className="toolbar">
        <button type="button" className="primary" disabled={busy} onClick={() => void submit()}>
          Import
        </button>
        <button type="button" onClick={() => onDone(null)}>
          Cancel Import
        </button>
      </div>
    </fieldset>
  );
}
