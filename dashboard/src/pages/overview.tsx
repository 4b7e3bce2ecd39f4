/**
 * Project > Overview: the project's quota usage as bars (Horizon's "Limit Summary"): compute
 * from GET /limits, volumes from the Block Storage /limits, networking from Neutron's quota
 * details. A service the catalog lacks is left out; its error is shown without hiding the rest.
 */
import { limits } from '../api/compute';
import { networkQuotaDetails } from '../api/network';
import { volumeLimits } from '../api/volume';
import { Alert } from '../components/alert';
import { useLoad } from '../hooks';
import { useSignedIn } from '../session';

interface Usage {
  label: string;
  used: number;
  /** -1: unlimited. */
  limit: number;
  unit?: string;
}

/** One quota as a labelled meter: "Instances: Used 2 of 10". */
export function QuotaBar({ label, used, limit, unit }: Usage) {
  const unlimited = limit < 0;
  const pct = unlimited || limit === 0 ? (used > 0 && limit === 0 ? 100 : 0) : Math.min(100, (used / limit) * 100);
  const u = unit ? ` ${unit}` : '';
  const text = `Used ${used}${u} of ${unlimited ? 'unlimited' : `${limit}${u}`}`;
  const id = `quota-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return (
    <div className="quota" data-quota={label}>
      <div className="quota-label" id={id}>
        {label}
      </div>
      <div
        className={`quota-bar${pct >= 100 ? ' full' : pct >= 80 ? ' high' : ''}`}
        role="meter"
        aria-labelledby={id}
        aria-valuemin={0}
        aria-valuemax={unlimited ? undefined : limit}
        aria-valuenow={used}
        aria-valuetext={text}
      >
        <div style={{ width: `${pct}%` }} />
      </div>
      <div className="quota-text">{text}</div>
    </div>
  );
}

function Group({ title, items, error, loading }: { title: string; items: Usage[] | undefined; error: string | null; loading: boolean }) {
  const id = `overview-${title.toLowerCase()}`;
  return (
    <section aria-labelledby={id} className="quota-group">
      <h2 id={id}>{title}</h2>
      {error && <Alert>{error}</Alert>}
      {loading && !items && <p className="count">Loading…</p>}
      {items && <div className="quotas">{items.map((q) => <QuotaBar key={q.label} {...q} />)}</div>}
    </section>
  );
}

export function OverviewPage() {
  const s = useSignedIn();
  const projectId = s.token.body.project!.id;
  const compute = useLoad(async (): Promise<Usage[]> => {
    const l = await limits(s.endpoints.compute);
    return [
      { label: 'Instances', used: l.totalInstancesUsed, limit: l.maxTotalInstances },
      { label: 'VCPUs', used: l.totalCoresUsed, limit: l.maxTotalCores },
      { label: 'RAM', used: l.totalRAMUsed, limit: l.maxTotalRAMSize, unit: 'MB' },
      { label: 'Server Groups', used: l.totalServerGroupsUsed, limit: l.maxServerGroups },
    ];
  }, [s.endpoints.compute]);
  const volume = useLoad(async (): Promise<Usage[] | null> => {
    if (!s.endpoints.volume) return null;
    const l = await volumeLimits(s.endpoints.volume);
    return [
      { label: 'Volumes', used: l.totalVolumesUsed ?? 0, limit: l.maxTotalVolumes ?? -1 },
      { label: 'Volume Snapshots', used: l.totalSnapshotsUsed ?? 0, limit: l.maxTotalSnapshots ?? -1 },
      { label: 'Volume Storage', used: l.totalGigabytesUsed ?? 0, limit: l.maxTotalVolumeGigabytes ?? -1, unit: 'GB' },
    ];
  }, [s.endpoints.volume]);
  const network = useLoad(async (): Promise<Usage[] | null> => {
    if (!s.endpoints.network) return null;
    const q = await networkQuotaDetails(s.endpoints.network, projectId);
    const names: [string, string][] = [
      ['floatingip', 'Floating IPs'],
      ['security_group', 'Security Groups'],
      ['security_group_rule', 'Security Group Rules'],
      ['network', 'Networks'],
      ['port', 'Ports'],
      ['router', 'Routers'],
    ];
    return names.filter(([k]) => q[k]).map(([k, label]) => ({ label, used: q[k].used, limit: q[k].limit }));
  }, [s.endpoints.network, projectId]);

  return (
    <section aria-labelledby="overview-title">
      <div className="page-head">
        <h1 id="overview-title">Overview</h1>
        <div className="toolbar">
          <button
            type="button"
            onClick={() => {
              compute.reload();
              volume.reload();
              network.reload();
            }}
          >
            Refresh
          </button>
        </div>
      </div>
      <Group title="Compute" items={compute.data} error={compute.error} loading={compute.loading} />
      {volume.data !== null && <Group title="Volume" items={volume.data} error={volume.error} loading={volume.loading} />}
      {network.data !== null && <Group title="Network" items={network.data} error={network.error} loading={network.loading} />}
    </section>
  );
}
