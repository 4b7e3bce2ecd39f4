/**
 * os-hypervisors (admin): compute nodes with their service state and usage. Ids are integers
 * before 2.53 and uuids from 2.53; paging from 2.33; search/servers sub-resources until 2.52
 * (then ?hypervisor_hostname_pattern= and ?with_servers=); usage fields and /statistics and
 * /uptime go at 2.88, when show and detail gain `uptime`.
 */
import { loadavg, uptime } from 'node:os';
import { invalid, notFound } from '../../errors.js';
import type { ApiRequest } from '../../http/types.js';
import { ctxOf } from '../../http/types.js';
import { requireAdmin } from '../policy.js';
import { isUuidLike } from '../../util/ids.js';
import { API_PREFIX, nextLinks, pageParams, type MountFn } from './common.js';
import type { ComputeApiDeps } from './deps.js';
import { queryBool, rejectUnknownQuery } from './query.js';
import { isServiceUp, serviceDownTime } from './service-state.js';
import { listNodes, nodeUsage, type Node, type NodeUsage } from './hypervisor-store.js';

const notFoundId = (id: string) => notFound(`Hypervisor with ID '${id}' could not be found.`);
const gone = () => notFound('The resource could not be found.');

/** cpu_info as an object, whether stored as JSON of an object or of a JSON string. */
function parseCpuInfo(text: string | null): Record<string, unknown> {
  try {
    let v: unknown = JSON.parse(text || '{}');
    if (typeof v === 'string') v = JSON.parse(v);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/**
 * The host's uptime in the format of the `uptime` command, as Nova's drivers report it. The
 * all-in-one cloud runs every compute host on this machine, so this machine's figures serve.
 */
export function uptimeText(now = new Date(), secs = uptime(), load = loadavg()): string {
  const hhmmss = now.toISOString().slice(11, 19);
  const days = Math.floor(secs / 86400);
  const h = Math.floor((secs % 86400) / 3600);
  const m = Math.floor((secs % 3600) / 60);
  const up = `${days > 0 ? `${days} day${days === 1 ? '' : 's'}, ` : ''}${h > 0 ? `${String(h).padStart(2)}:${String(m).padStart(2, '0')}` : `${m} min`}`;
  return ` ${hhmmss} up ${up},  0 users,  load average: ${load.map((x) => x.toFixed(2)).join(', ')}`;
}

interface ViewOpts {
  detail: boolean;
  servers?: boolean;
  uptime?: boolean;
}

function render(deps: ComputeApiDeps, req: ApiRequest, n: Node, usage: NodeUsage, opts: ViewOpts): Record<string, unknown> {
  const v253 = req.mv.atLeast('2.53');
  const svc = n.service;
  const up = svc ? isServiceUp(svc, serviceDownTime(deps.config)) : false;
  const out: Record<string, unknown> = {
    id: v253 ? n.row.uuid : Number(n.row.id),
    hypervisor_hostname: n.row.hypervisor_hostname,
    state: up ? 'up' : 'down',
    status: svc && !svc.disabled ? 'enabled' : 'disabled',
  };
  if (opts.detail) {
    const v288 = req.mv.atLeast('2.88');
    if (!v288) {
      const r = n.row;
      const cpuObj = parseCpuInfo(r.cpu_info);
      const cpuInfo: unknown = req.mv.atLeast('2.28') ? cpuObj : JSON.stringify(cpuObj);
      const freeDisk = Number(r.local_gb) - usage.local_gb_used;
      Object.assign(out, {
        vcpus: Number(r.vcpus),
        memory_mb: Number(r.memory_mb),
        local_gb: Number(r.local_gb),
        vcpus_used: usage.vcpus_used,
        memory_mb_used: usage.memory_mb_used,
        local_gb_used: usage.local_gb_used,
        free_ram_mb: Number(r.memory_mb) - usage.memory_mb_used,
        free_disk_gb: freeDisk,
        current_workload: Number(r.current_workload ?? 0),
        running_vms: usage.running_vms,
        disk_available_least: r.disk_available_least ?? freeDisk,
        cpu_info: cpuInfo,
      });
    }
    Object.assign(out, {
      hypervisor_type: n.row.hypervisor_type,
      hypervisor_version: Number(n.row.hypervisor_version),
      host_ip: n.row.host_ip,
      service: {
        host: svc?.host ?? n.row.host,
        id: svc ? (v253 ? svc.uuid : Number(svc.id)) : null,
        disabled_reason: svc?.disabled_reason ?? null,
      },
    });
    if (v288 && opts.uptime) out.uptime = uptimeText();
  }
  if (opts.servers && (usage.servers.length > 0 || req.mv.atLeast('2.75'))) out.servers = usage.servers;
  return out;
}

/** GET /os-hypervisors and /detail with the query parameters of the request's microversion. */
async function list(deps: ComputeApiDeps, req: ApiRequest, detail: boolean) {
  requireAdmin(ctxOf(req), 'os_compute_api:os-hypervisors:list');
  let nodes = await listNodes(deps.sql);
  let withServers = false;
  const body: Record<string, unknown> = {};
  if (req.mv.atLeast('2.53')) {
    rejectUnknownQuery(req, ['limit', 'marker', 'hypervisor_hostname_pattern', 'with_servers']);
    withServers = queryBool(req, 'with_servers') ?? false;
    const pattern = req.query.get('hypervisor_hostname_pattern');
    if (pattern !== null) {
      if (req.query.has('limit') || req.query.has('marker'))
        throw invalid('Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.');
      nodes = nodes.filter((n) => n.row.hypervisor_hostname.includes(pattern));
      if (nodes.length === 0) throw notFound(`No hypervisor matching '${pattern}' could be found.`);
    }
  }
  if (req.mv.atLeast('2.33')) {
    const { limit, marker } = pageParams(req);
    if (marker !== null) {
      const i = nodes.findIndex((n) => (req.mv.atLeast('2.53') ? n.row.uuid === marker : String(n.row.id) === marker));
      if (i < 0) throw invalid(`marker [${marker}] not found`);
      nodes = nodes.slice(i + 1);
    }
    nodes = nodes.slice(0, limit);
    const ids = nodes.map((n) => ({ id: req.mv.atLeast('2.53') ? n.row.uuid : n.row.id }));
    const next = nextLinks(req, detail ? 'os-hypervisors/detail' : 'os-hypervisors', ids, limit);
    if (next) body.hypervisors_links = next;
  }
  const usage = await nodeUsage(deps.sql, nodes.map((n) => n.row));
  const hypervisors = nodes.map((n) => render(deps, req, n, usage.get(n.row.uuid)!, { detail, servers: withServers, uptime: true }));
  return { status: 200, body: { hypervisors, ...body } };
}

async function findNode(deps: ComputeApiDeps, req: ApiRequest, id: string): Promise<Node> {
  const nodes = await listNodes(deps.sql);
  if (req.mv.atLeast('2.53')) {
    if (!isUuidLike(id)) throw invalid(`Invalid uuid ${id}`);
    const n = nodes.find((x) => x.row.uuid === id);
    if (!n) throw notFoundId(id);
    return n;
  }
  const n = /^\d+$/.test(id) ? nodes.find((x) => Number(x.row.id) === Number(id)) : undefined;
  if (!n) throw notFoundId(id);
  return n;
}

/** Nodes whose hostname contains pattern (legacy search and servers); 404 when none. */
async function matching(deps: ComputeApiDeps, pattern: string): Promise<Node[]> {
  const nodes = (await listNodes(deps.sql)).filter((n) => n.row.hypervisor_hostname.includes(pattern));
  if (nodes.length === 0) throw notFound(`No hypervisor matching '${pattern}' could be found.`);
  return nodes;
}

export const mountHypervisors: MountFn = (router, deps) => {
  const base = `${API_PREFIX}/os-hypervisors`;

  router.get(base, (req) => list(deps, req, false));
  router.get(`${base}/detail`, (req) => list(deps, req, true));

  router.get(`${base}/statistics`, async (req) => {
    requireAdmin(ctxOf(req), 'os_compute_api:os-hypervisors:statistics');
    if (req.mv.atLeast('2.88')) throw gone();
    const nodes = await listNodes(deps.sql);
    const usage = await nodeUsage(deps.sql, nodes.map((n) => n.row));
    const s = { count: nodes.length, vcpus: 0, memory_mb: 0, local_gb: 0, vcpus_used: 0, memory_mb_used: 0, local_gb_used: 0, free_ram_mb: 0, free_disk_gb: 0, current_workload: 0, running_vms: 0, disk_available_least: 0 };
    for (const n of nodes) {
      const u = usage.get(n.row.uuid)!;
      const freeDisk = Number(n.row.local_gb) - u.local_gb_used;
      s.vcpus += Number(n.row.vcpus);
      s.memory_mb += Number(n.row.memory_mb);
      s.local_gb += Number(n.row.local_gb);
      s.vcpus_used += u.vcpus_used;
      s.memory_mb_used += u.memory_mb_used;
      s.local_gb_used += u.local_gb_used;
      s.free_ram_mb += Number(n.row.memory_mb) - u.memory_mb_used;
      s.free_disk_gb += freeDisk;
      s.current_workload += Number(n.row.current_workload ?? 0);
      s.running_vms += u.running_vms;
      s.disk_available_least += Number(n.row.disk_available_least ?? freeDisk);
    }
    return { status: 200, body: { hypervisor_statistics: s } };
  });

  router.get(`${base}/:id`, async (req) => {
    requireAdmin(ctxOf(req), 'os_compute_api:os-hypervisors:show');
    let withServers = false;
    if (req.mv.atLeast('2.53')) {
      rejectUnknownQuery(req, ['with_servers']);
      withServers = queryBool(req, 'with_servers') ?? false;
    }
    const n = await findNode(deps, req, req.params.id);
    const usage = (await nodeUsage(deps.sql, [n.row])).get(n.row.uuid)!;
    return { status: 200, body: { hypervisor: render(deps, req, n, usage, { detail: true, servers: withServers, uptime: true }) } };
  });

  router.get(`${base}/:id/uptime`, async (req) => {
    requireAdmin(ctxOf(req), 'os_compute_api:os-hypervisors:uptime');
    if (req.mv.atLeast('2.88')) throw gone();
    const n = await findNode(deps, req, req.params.id);
    const usage = (await nodeUsage(deps.sql, [n.row])).get(n.row.uuid)!;
    return { status: 200, body: { hypervisor: { ...render(deps, req, n, usage, { detail: false }), uptime: uptimeText() } } };
  });

  router.get(`${base}/:pattern/search`, async (req) => {
    requireAdmin(ctxOf(req), 'os_compute_api:os-hypervisors:search');
    if (req.mv.atLeast('2.53')) throw gone();
    const nodes = await matching(deps, req.params.pattern);
    const usage = await nodeUsage(deps.sql, nodes.map((n) => n.row));
    return { status: 200, body: { hypervisors: nodes.map((n) => render(deps, req, n, usage.get(n.row.uuid)!, { detail: false })) } };
  });

  router.get(`${base}/:pattern/servers`, async (req) => {
    requireAdmin(ctxOf(req), 'os_compute_api:os-hypervisors:servers');
    if (req.mv.atLeast('2.53')) throw gone();
    const nodes = await matching(deps, req.params.pattern);
    const usage = await nodeUsage(deps.sql, nodes.map((n) => n.row));
    return { status: 200, body: { hypervisors: nodes.map((n) => render(deps, req, n, usage.get(n.row.uuid)!, { detail: false, servers: true })) } };
  });
};
