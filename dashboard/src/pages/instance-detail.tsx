/**
 * Project > Instances > one instance: Overview (live), Log (console output), Console (the
 * noVNC page from remote-consoles, in a frame and as a link) and Action Log
 * (os-instance-actions). The tab is in the query (?tab=log) so it can be linked to.
 */
import { useEffect, useState } from 'react';
import { consoleOutput, getServer, instanceActions, remoteConsole, type Server } from '../api/compute';
import { getImage } from '../api/image';
import { ApiError } from '../api/http';
import { Alert } from '../components/alert';
import { addresses, age, powerState, titleCase } from '../format';
import { errorMessage, useInterval, useLoad } from '../hooks';
import { POLL_MS } from '../live-servers';
import type { PageProps } from '../routes';
import { Link, navigate, useLocation } from '../router';
import { useSignedIn } from '../session';

const TABS = [
  ['overview', 'Overview'],
  ['log', 'Log'],
  ['console', 'Console'],
  ['actions', 'Action Log'],
] as const;
type Tab = (typeof TABS)[number][0];

export function InstanceDetailPage({ params }: PageProps) {
  const s = useSignedIn();
  const compute = s.endpoints.compute;
  const id = params.id;
  const { search } = useLocation();
  const tab = (new URLSearchParams(search).get('tab') ?? 'overview') as Tab;
  const [server, setServer] = useState<Server | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [gone, setGone] = useState(false);

  const load = async () => {
    try {
      setServer(await getServer(compute, id));
      setError(null);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) setGone(true);
      else setError(errorMessage(e));
    }
  };
  useEffect(() => {
    void load();
  }, [compute, id]);
  useInterval(() => (gone ? undefined : load()), POLL_MS);

  const select = (t: Tab) => navigate(`/project/instances/${encodeURIComponent(id)}${t === 'overview' ? '' : `?tab=${t}`}`, { replace: true });

  return (
    <section aria-labelledby="instance-title">
      <p className="crumbs">
        <Link to="/project/instances">Instances</Link> / {server?.name ?? id}
      </p>
      <h1 id="instance-title">{server?.name ?? 'Instance'}</h1>
      {gone && <Alert>This instance does not exist (it may have been deleted).</Alert>}
      {error && <Alert>{error}</Alert>}
      <div role="tablist" aria-label="Instance details" className="tabs">
        {TABS.map(([key, label]) => (
          <button
            key={key}
            type="button"
            role="tab"
            id={`tab-${key}`}
            aria-selected={tab === key}
            aria-controls={`panel-${key}`}
            tabIndex={tab === key ? 0 : -1}
            onClick={() => select(key)}
            onKeyDown={(e) => {
              const i = TABS.findIndex(([k]) => k === tab);
              if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
                const next = TABS[(i + (e.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length][0];
                select(next);
                document.getElementById(`tab-${next}`)?.focus();
              }
            }}
          >
            {label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="panel">
        {tab === 'overview' && server && <Overview server={server} imageUrl={s.endpoints.image} />}
        {tab === 'log' && <LogTab compute={compute} id={id} />}
        {tab === 'console' && <ConsoleTab compute={compute} id={id} />}
        {tab === 'actions' && <ActionsTab compute={compute} id={id} />}
      </div>
    </section>
  );
}

function Overview({ server: v, imageUrl }: { server: Server; imageUrl: string | null }) {
  const imageId = v.image ? v.image.id : null;
  const image = useLoad(async () => (imageId && imageUrl ? (await getImage(imageUrl, imageId)).name : null), [imageId, imageUrl]);
  const f = v.flavor;
  const rows: [string, string][] = [
    ['Name', v.name],
    ['ID', v.id],
    ['Status', titleCase(v.status)],
    ['Task', titleCase(v['OS-EXT-STS:task_state'])],
    ['Power State', powerState(v)],
    ['Locked', v.locked ? `Yes${v.locked_reason ? ` (${v.locked_reason})` : ''}` : 'No'],
    ['Availability Zone', v['OS-EXT-AZ:availability_zone'] ?? ''],
    ['Created', `${v.created} (${age(v.created)} ago)`],
    ['Flavor', f ? `${f.original_name} (${f.vcpus} VCPU, ${f.ram} MB RAM, ${f.disk} GB disk)` : ''],
    ['Image', imageId ? (image.data ?? imageId) : 'None (booted from volume)'],
    ['IP Addresses', addresses(v).join(', ') || '-'],
    ['Key Pair', v.key_name ?? '-'],
    ['Security Groups', (v.security_groups ?? []).map((g) => g.name).join(', ') || '-'],
    ['Volumes Attached', (v['os-extended-volumes:volumes_attached'] ?? []).map((a) => a.id).join(', ') || '-'],
  ];
  return (
    <>
      {v.fault && (
        <Alert>
          Fault: {v.fault.message} (code {v.fault.code})
        </Alert>
      )}
      <dl className="props">
        {rows.map(([k, val]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd data-field={k}>{val}</dd>
          </div>
        ))}
      </dl>
    </>
  );
}

function LogTab({ compute, id }: { compute: string; id: string }) {
  const [lines, setLines] = useState(35);
  const log = useLoad(() => consoleOutput(compute, id, lines || undefined), [compute, id, lines]);
  return (
    <>
      <div className="toolbar">
        <label>
          Log length
          <input type="number" min={0} value={lines} onChange={(e) => setLines(Number(e.target.value))} />
        </label>
        <button type="button" onClick={() => setLines(0)}>
          View Full Log
        </button>
        <button type="button" onClick={log.reload}>
          Refresh
        </button>
      </div>
      {log.error && <Alert>{log.error}</Alert>}
      <pre className="console-log" aria-label="Console log" tabIndex={0}>
        {log.data ?? (log.loading ? 'Loading…' : '')}
      </pre>
    </>
  );
}

function ConsoleTab({ compute, id }: { compute: string; id: string }) {
  const c = useLoad(() => remoteConsole(compute, id), [compute, id]);
  if (c.error) return <Alert>Could not open the console: {c.error}</Alert>;
  if (!c.data) return <p>Opening the console…</p>;
  return (
    <>
      <p>
        If the console does not answer to the keyboard, click its title bar.{' '}
        <a href={c.data.url} target="_blank" rel="noreferrer">
          Open the console in its own window
        </a>
      </p>
      <iframe title="Instance console" className="console-frame" src={c.data.url} />
    </>
  );
}

function ActionsTab({ compute, id }: { compute: string; id: string }) {
  const a = useLoad(() => instanceActions(compute, id), [compute, id]);
  return (
    <>
      {a.error && <Alert>{a.error}</Alert>}
      <table className="grid" aria-label="Action log">
        <thead>
          <tr>
            <th scope="col">Request ID</th>
            <th scope="col">Action</th>
            <th scope="col">Start Time</th>
            <th scope="col">User ID</th>
            <th scope="col">Message</th>
          </tr>
        </thead>
        <tbody>
          {(a.data ?? []).map((x) => (
            <tr key={x.request_id + x.action}>
              <td>{x.request_id}</td>
              <td>{titleCase(x.action)}</td>
              <td>{x.start_time}</td>
              <td>{x.user_id}</td>
              <td>{x.message ?? '-'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
