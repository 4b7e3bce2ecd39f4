/** Admin > Availability Zones: every zone with its hosts and their services (os-availability-zone/detail). */
import { availabilityZones } from '../../api/compute';
import { Alert } from '../../components/alert';
import { useLoad } from '../../hooks';
import { useSignedIn } from '../../session';

export function AvailabilityZonesPage() {
  const s = useSignedIn();
  const compute = s.endpoints.compute;
  const zones = useLoad(() => availabilityZones(compute, true), [compute]);
  const list = [...(zones.data ?? [])].sort((a, b) => a.zoneName.localeCompare(b.zoneName));
  return (
    <section aria-labelledby="azs-title">
      <div className="page-head">
        <h1 id="azs-title">Availability Zones</h1>
        <div className="toolbar">
          <button type="button" onClick={zones.reload}>
            Refresh
          </button>
        </div>
      </div>
      {zones.error && <Alert>Could not list the availability zones: {zones.error}</Alert>}
      <table className="grid" aria-labelledby="azs-title" aria-busy={zones.loading}>
        <thead>
          <tr>
            <th scope="col">Availability Zone Name</th>
            <th scope="col">Hosts</th>
            <th scope="col">Services</th>
            <th scope="col">Available</th>
          </tr>
        </thead>
        <tbody>
          {list.map((z) => {
            const hosts = Object.entries(z.hosts ?? {}).sort(([a], [b]) => a.localeCompare(b));
            return (
              <tr key={z.zoneName} data-zone={z.zoneName}>
                <th scope="row">{z.zoneName}</th>
                <td>
                  {hosts.map(([h]) => (
                    <div key={h}>{h}</div>
                  ))}
                  {hosts.length === 0 && '-'}
                </td>
                <td>
                  {hosts.map(([h, services]) => (
                    <div key={h}>
                      {Object.entries(services)
                        .map(([name, st]) => `${name} on ${h} (${st.active ? 'enabled' : 'disabled'}, ${st.available ? 'up' : 'down'})`)
                        .join(', ')}
                    </div>
                  ))}
                </td>
                <td>{z.zoneState.available ? 'Yes' : 'No'}</td>
              </tr>
            );
          })}
          {!zones.loading && !zones.error && list.length === 0 && (
            <tr>
              <td colSpan={4} className="empty">
                No availability zones.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
