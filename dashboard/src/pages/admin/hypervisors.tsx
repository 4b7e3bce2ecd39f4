/** Admin > Hypervisors: every compute node with its usage (os-hypervisors/detail). */
import { listHypervisors } from '../../api/compute-admin';
import { Alert } from '../../components/alert';
import { formatBytes, titleCase } from '../../format';
import { useLoad } from '../../hooks';
import { useSignedIn } from '../../session';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export function HypervisorsPage() {
  const s = useSignedIn();
  const compute = s.endpoints.compute;
  const list = useLoad(() => listHypervisors(compute), [compute]);
  const rows = [...(list.data ?? [])].sort((a, b) => a.hypervisor_hostname.localeCompare(b.hypervisor_hostname));
  const sum = (f: (h: (typeof rows)[number]) => number) => rows.reduce((n, h) => n + f(h), 0);
  return (
    <section aria-labelledby="hypervisors-title">
      <div className="page-head">
        <h1 id="hypervisors-title">All Hypervisors</h1>
        <div className="toolbar">
          <button type="button" onClick={list.reload}>
            Refresh
          </button>
        </div>
      </div>
      {list.error && <Alert>Could not list the hypervisors: {list.error}</Alert>}
      {rows.length > 0 && (
        <dl className="props" aria-label="Hypervisor summary">
          <dt>VCPU Usage</dt>
          <dd data-field="VCPU Usage">
            Used {sum((h) => h.vcpus_used)} of {sum((h) => h.vcpus)}
          </dd>
          <dt>Memory Usage</dt>
          <dd data-field="Memory Usage">
            Used {formatBytes(sum((h) => h.memory_mb_used) * MiB)} of {formatBytes(sum((h) => h.memory_mb) * MiB)}
          </dd>
          <dt>Local Disk Usage</dt>
          <dd data-field="Local Disk Usage">
            Used {formatBytes(sum((h) => h.local_gb_used) * GiB)} of {formatBytes(sum((h) => h.local_gb) * GiB)}
          </dd>
        </dl>
      )}
      <table className="grid" aria-labelledby="hypervisors-title" aria-busy={list.loading}>
        <thead>
          <tr>
            <th scope="col">Hostname</th>
            <th scope="col">Type</th>
            <th scope="col">State</th>
            <th scope="col">Status</th>
            <th scope="col">VCPUs (used)</th>
            <th scope="col">VCPUs (total)</th>
            <th scope="col">RAM (used)</th>
            <th scope="col">RAM (total)</th>
            <th scope="col">Local Storage (used)</th>
            <th scope="col">Local Storage (total)</th>
            <th scope="col">Instances</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((h) => (
            <tr key={h.id} data-id={h.id}>
              <th scope="row">{h.hypervisor_hostname}</th>
              <td>{h.hypervisor_type ?? ''}</td>
              <td>{titleCase(h.state)}</td>
              <td title={h.service.disabled_reason ?? undefined}>{titleCase(h.status)}</td>
              <td>{h.vcpus_used}</td>
              <td>{h.vcpus}</td>
              <td>{formatBytes(h.memory_mb_used * MiB)}</td>
              <td>{formatBytes(h.memory_mb * MiB)}</td>
              <td>{formatBytes(h.local_gb_used * GiB)}</td>
              <td>{formatBytes(h.local_gb * GiB)}</td>
              <td>{h.running_vms}</td>
            </tr>
          ))}
          {!list.loading && !list.error && rows.length === 0 && (
            <tr>
              <td colSpan={11} className="empty">
                No hypervisors: no compute service has reported yet.
              </td>
            </tr>
          )}
        </tbody>
      </table>
      <p className="count">{list.loading ? 'Loading hypervisors…' : `Displaying ${rows.length} item${rows.length === 1 ? '' : 's'}`}</p>
    </section>
  );
}
