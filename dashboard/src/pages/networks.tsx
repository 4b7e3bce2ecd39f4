/** Project > Networks (read-only): the networks the project sees, each with its subnets' CIDR and gateway. */
import { listNetworks, listSubnets } from '../api/network';
import { Alert } from '../components/alert';
import { titleCase } from '../format';
import { useLoad } from '../hooks';
import { useSignedIn } from '../session';

export function NetworksPage() {
  const s = useSignedIn();
  const base = s.endpoints.network;
  const data = useLoad(async () => {
    if (!base) return null;
    const [networks, subnets] = await Promise.all([listNetworks(base), listSubnets(base)]);
    return { networks, subnets: new Map(subnets.map((x) => [x.id, x])) };
  }, [base]);
  if (!base) return <Alert>This cloud offers no Network service.</Alert>;
  const rows = [...(data.data?.networks ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  const project = s.token.body.project?.id;
  return (
    <section aria-labelledby="networks-title">
      <div className="page-head">
        <h1 id="networks-title">Networks</h1>
        <div className="toolbar">
          <button type="button" onClick={data.reload}>
            Refresh
          </button>
        </div>
      </div>
      {data.error && <Alert>{data.error}</Alert>}
      <table className="grid" aria-label="Networks">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Subnets Associated</th>
            <th scope="col">Shared</th>
            <th scope="col">External</th>
            <th scope="col">Status</th>
            <th scope="col">Admin State</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((n) => (
            <tr key={n.id} data-id={n.id}>
              <th scope="row">
                {n.name || n.id}
                {n.project_id !== project && <span className="badge">other project</span>}
              </th>
              <td>
                {n.subnets.map((id) => {
                  const sub = data.data?.subnets.get(id);
                  return (
                    <div key={id} className="subnet">
                      {sub ? `${sub.name || sub.id.slice(0, 8)} ${sub.cidr}${sub.gateway_ip ? `, gateway ${sub.gateway_ip}` : ', no gateway'}` : id}
                    </div>
                  );
                })}
              </td>
              <td>{n.shared ? 'Yes' : 'No'}</td>
              <td>{n['router:external'] ? 'Yes' : 'No'}</td>
              <td>{titleCase(n.status)}</td>
              <td>{n.admin_state_up ? 'Up' : 'Down'}</td>
            </tr>
          ))}
          {!data.loading && rows.length === 0 && (
            <tr>
              <td colSpan={6} className="empty">
                No networks.
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </section>
  );
}
