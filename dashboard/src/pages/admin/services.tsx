/** Admin > Services: every Compute service (os-services) with enable / disable (with a reason). */
import { useState, type FormEvent } from 'react';
import { listServices, setServiceStatus, type ComputeService } from '../../api/compute-admin';
import { Alert } from '../../components/alert';
import { age, titleCase } from '../../format';
import { errorMessage, useLoad } from '../../hooks';
import { useSignedIn } from '../../session';

interface Message {
  kind: 'error' | 'success';
  text: string;
}

export function ServicesPage() {
  const s = useSignedIn();
  const compute = s.endpoints.compute;
  const services = useLoad(() => listServices(compute), [compute]);
  const [message, setMessage] = useState<Message | null>(null);
  const [disabling, setDisabling] = useState<ComputeService | null>(null);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const list = [...(services.data ?? [])].sort((a, b) => a.binary.localeCompare(b.binary) || a.host.localeCompare(b.host));

  const set = async (v: ComputeService, enabled: boolean, why?: string) => {
    setMessage(null);
    setBusy(true);
    try {
      await setServiceStatus(compute, v.id, enabled, why);
      setMessage({ kind: 'success', text: `${enabled ? 'Enabled' : 'Disabled'} ${v.binary} on ${v.host}.` });
      setDisabling(null);
      setReason('');
    } catch (e) {
      setMessage({ kind: 'error', text: `Could not ${enabled ? 'enable' : 'disable'} ${v.binary} on ${v.host}: ${errorMessage(e)}` });
    } finally {
      setBusy(false);
      services.reload();
    }
  };

  const disable = (e: FormEvent) => {
    e.preventDefault();
    if (disabling) void set(disabling, false, reason.trim() || undefined);
  };

  return (
    <section aria-labelledby="services-title">
      <div className="page-head">
        <h1 id="services-title">Compute Services</h1>
        <div className="toolbar">
          <button type="button" onClick={services.reload}>
            Refresh
          </button>
        </div>
      </div>
      {message && (
        <Alert kind={message.kind} onDismiss={() => setMessage(null)}>
          {message.text}
        </Alert>
      )}
      {services.error && <Alert>Could not list the services: {services.error}</Alert>}
      {disabling && (
        <form className="card" aria-label={`Disable ${disabling.binary} on ${disabling.host}`} onSubmit={disable}>
          <p>
            Disable {disabling.binary} on {disabling.host}: the scheduler stops placing instances there.
          </p>
          <label>
            Reason
            <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={255} autoFocus />
          </label>
          <div className="toolbar">
            <button type="submit" className="danger" disabled={busy}>
              Disable Service
            </button>
            <button type="button" onClick={() => setDisabling(null)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      <table className="grid" aria-labelledby="services-title" aria-busy={services.loading}>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Host</th>
            <th scope="col">Zone</th>
            <th scope="col">Status</th>
            <th scope="col">State</th>
            <th scope="col">Last Updated</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {list.map((v) => (
            <tr key={v.id} data-id={v.id} data-binary={v.binary} data-host={v.host}>
              <th scope="row">{v.binary}</th>
              <td>{v.host}</td>
              <td>{v.zone}</td>
              <td>
                {titleCase(v.status)}
                {v.disabled_reason && <div className="count">{v.disabled_reason}</div>}
              </td>
              <td className={v.state === 'down' ? 'status-error' : undefined}>{titleCase(v.state)}</td>
              <td title={v.updated_at ?? undefined}>{v.updated_at ? `${age(v.updated_at.endsWith('Z') ? v.updated_at : v.updated_at + 'Z')} ago` : '-'}</td>
              <td>
                {v.status === 'disabled' ? (
                  <button type="button" disabled={busy} aria-label={`Enable ${v.binary} on ${v.host}`} onClick={() => void set(v, true)}>
                    Enable Service
                  </button>
                ) : (
                  <button type="button" aria-label={`Disable ${v.binary} on ${v.host}`} onClick={() => setDisabling(v)}>
                    Disable Service
                  </button>
                )}
              </td>
            </tr>
          ))}
          {!services.loading && !services.error && list.length === 0 && (
            <tr>
              <td colSpan={7} className="empty">
                No services.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
