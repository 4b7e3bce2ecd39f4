/** The wizard's Networking tab: the networks to attach, in NIC order (allocate, reorder, remove). */
import type { Network } from '../../api/network';
import type { LaunchForm } from './model';

export function NetworkingTab({ form, set, networks }: { form: LaunchForm; set: (patch: Partial<LaunchForm>) => void; networks: Network[] | undefined }) {
  const byId = new Map((networks ?? []).map((n) => [n.id, n]));
  const label = (id: string) => byId.get(id)?.name || id;
  const move = (i: number, d: number) => {
    const next = [...form.networks];
    [next[i], next[i + d]] = [next[i + d], next[i]];
    set({ networks: next });
  };
  const available = (networks ?? []).filter((n) => !form.networks.includes(n.id) && !n['router:external']);
  return (
    <div className="form">
      <h2 id="allocated-title">Allocated Networks</h2>
      {form.networks.length === 0 && <p>None: the cloud picks a network for the instance (auto).</p>}
      <ol aria-labelledby="allocated-title">
        {form.networks.map((id, i) => (
          <li key={id}>
            NIC {i + 1}: {label(id)}{' '}
            <button type="button" aria-label={`Move ${label(id)} up`} disabled={i === 0} onClick={() => move(i, -1)}>
              ↑
            </button>
            <button type="button" aria-label={`Move ${label(id)} down`} disabled={i === form.networks.length - 1} onClick={() => move(i, 1)}>
              ↓
            </button>
            <button type="button" aria-label={`Remove network ${label(id)}`} onClick={() => set({ networks: form.networks.filter((n) => n !== id) })}>
              Remove
            </button>
          </li>
        ))}
      </ol>
      <h2 id="available-title">Available Networks</h2>
      {available.length === 0 && <p>Every network is allocated.</p>}
      <ul aria-labelledby="available-title">
        {available.map((n) => (
          <li key={n.id}>
            {n.name || n.id} {n.shared ? '(shared)' : ''}{' '}
            <button type="button" aria-label={`Add network ${n.name || n.id}`} onClick={() => set({ networks: [...form.networks, n.id] })}>
              Add
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
