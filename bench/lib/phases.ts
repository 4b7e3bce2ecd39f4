/**
 * The three phases of the boot storm, measured the way ../shared/bench/boot_storm.py measures
 * them, so the figures compare directly:
 *  create  C workers POST /servers (N in total); a poller GETs /servers/detail?changes-since=...
 *          and stamps each server when first seen ACTIVE. wall = first POST sent -> last ACTIVE;
 *          latency per server = its POST sent -> first poll response showing it ACTIVE.
 *  list    20 x GET /servers/detail with all N servers present.
 *  delete  C workers DELETE; a poller GETs /servers?name=<prefix>- until none is left.
 * `compute` is the compute endpoint, or several (one per API process of the same cloud): worker
 * w then sends to compute[w % n], and successive polls and list calls go round them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Session } from './openstack.js';
import { round, summary, type Summary } from './stats.js';

export interface PhaseOptions {
  servers: number;
  concurrency: number;
  /** Seconds between polls. */
  pollInterval: number;
  /** Seconds a phase may take before it gives up. */
  timeout: number;
}

const now = () => performance.now() / 1000;

/** Server clock from the Date header, minus 2 s (as the reference does), in Nova's format. */
function since(headers: Headers): string {
  const d = headers.get('date');
  const t = (d ? Date.parse(d) : Date.now()) - 2000;
  return new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Runs `count` jobs with `concurrency` workers; job(i, w) gets a 0-based index and the worker's number. */
async function pool(count: number, concurrency: number, job: (i: number, w: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (_: unknown, w: number) => {
    while (next < count) await job(next++, w);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** One compute endpoint or several (one per API process). */
export type Endpoints = string | string[];
const pick = (e: Endpoints, i: number): string => (typeof e === 'string' ? e : e[i % e.length]);

export interface CreateResult {
  requested: number;
  accepted: number;
  active: number;
  error: number;
  timed_out: number;
  wall_s: number;
  servers_per_s: number | null;
  post_latency_s: Summary;
  create_to_active_s: Summary;
  polls: number;
  poll_latency_s: Summary;
  errors: string[];
  /** The five slowest servers (create -> ACTIVE), with the host they landed on. */
  slowest: { id: string; latency_s: number; host: string | null; index: number; post_s: number; sent_at_s: number }[];
}

export async function createPhase(
  s: Session,
  compute: Endpoints,
  o: PhaseOptions,
  body: (i: number) => Record<string, unknown>,
): Promise<{ ids: string[]; result: CreateResult }> {
  const created = new Map<string, number>();
  const postInfo = new Map<string, { index: number; post_s: number }>();
  const postLat: number[] = [];
  const errors: string[] = [];
  const first = await s.req('GET', `${pick(compute, 0)}/servers?limit=1`);
  let sinceQ = since(first.headers);
  const active = new Map<string, number>();
  const failed = new Map<string, number>();
  const hostOf = new Map<string, string | null>();
  const pollLat: number[] = [];
  let polls = 0;
  let posting = true;

  const tStart = now();
  const posts = pool(o.servers, o.concurrency, async (i, w) => {
    const t0 = now();
    const r = await s.req('POST', `${pick(compute, w)}/servers`, { server: body(i) });
    const t1 = now();
    if (r.status === 202) {
      created.set(r.body.server.id, t0);
      postInfo.set(r.body.server.id, { index: i, post_s: round(t1 - t0) });
      postLat.push(t1 - t0);
    } else errors.push(`POST ${r.status}: ${JSON.stringify(r.body).slice(0, 200)}`);
  }).finally(() => (posting = false));

  const deadline = tStart + o.timeout;
  while (now() < deadline) {
    await sleep(o.pollInterval * 1000);
    const t0 = now();
    const r = await s.req('GET', `${pick(compute, polls)}/servers/detail?changes-since=${encodeURIComponent(sinceQ)}`);
    const t = now();
    polls++;
    pollLat.push(t - t0);
    if (r.status !== 200) {
      errors.push(`poll ${r.status}: ${JSON.stringify(r.body).slice(0, 200)}`);
      continue;
    }
    sinceQ = since(r.headers);
    for (const srv of r.body.servers) {
      if (srv.status === 'ACTIVE' && !active.has(srv.id)) {
        active.set(srv.id, t);
        hostOf.set(srv.id, srv['OS-EXT-SRV-ATTR:host'] ?? null);
      }
      else if (srv.status === 'ERROR' && !failed.has(srv.id)) failed.set(srv.id, t);
    }
    const pending = [...created.keys()].filter((id) => !active.has(id) && !failed.has(id));
    if (!posting && pending.length === 0) break;
  }
  await posts;
  const perServer = [...created]
    .filter(([id]) => active.has(id))
    .map(([id, t0]) => ({ id, latency_s: round(active.get(id)! - t0), host: hostOf.get(id) ?? null, ...postInfo.get(id)!, sent_at_s: round(t0 - tStart) }));
  const lat = perServer.map((x) => x.latency_s);
  const slowest = perServer.sort((a, b) => b.latency_s - a.latency_s).slice(0, 5);
  const mine = [...created.keys()];
  const tLast = Math.max(...mine.map((id) => active.get(id) ?? 0), 0) || now();
  const wall = tLast - tStart;
  const nActive = mine.filter((id) => active.has(id)).length;
  const nError = mine.filter((id) => failed.has(id)).length;
  return {
    ids: mine,
    result: {
      requested: o.servers,
      accepted: created.size,
      active: nActive,
      error: nError,
      timed_out: created.size - nActive - nError,
      wall_s: round(wall, 3),
      servers_per_s: wall > 0 ? round(nActive / wall, 3) : null,
      post_latency_s: summary(postLat),
      create_to_active_s: summary(lat),
      polls,
      poll_latency_s: summary(pollLat),
      errors: errors.slice(0, 10),
      slowest,
    },
  };
}

export interface ListResult {
  calls: number;
  servers_returned: number | string;
  latency_s: Summary;
}

export async function listPhase(s: Session, compute: Endpoints, calls = 20): Promise<ListResult> {
  const lat: number[] = [];
  let count: number | string = 0;
  for (let i = 0; i < calls; i++) {
    const t0 = now();
    const r = await s.req('GET', `${pick(compute, i)}/servers/detail`);
    lat.push(now() - t0);
    count = r.status === 200 ? r.body.servers.length : `HTTP ${r.status}`;
  }
  return { calls, servers_returned: count, latency_s: summary(lat) };
}

export interface DeleteResult {
  deleted: number;
  remaining: number | null;
  wall_s: number;
  servers_per_s: number;
  delete_request_latency_s: Summary;
  errors: string[];
}

export async function deletePhase(s: Session, compute: Endpoints, ids: string[], prefix: string, o: PhaseOptions): Promise<DeleteResult> {
  const lat: number[] = [];
  const errors: string[] = [];
  const wanted = new Set(ids);
  let deleting = true;
  const tStart = now();
  const dels = pool(ids.length, o.concurrency, async (i, w) => {
    const t0 = now();
    const r = await s.req('DELETE', `${pick(compute, w)}/servers/${ids[i]}`);
    lat.push(now() - t0);
    if (r.status !== 204 && r.status !== 404) errors.push(`DELETE ${r.status}: ${JSON.stringify(r.body).slice(0, 200)}`);
  }).finally(() => (deleting = false));
  let remaining: number | null = null;
  const deadline = tStart + o.timeout;
  for (let poll = 0; now() < deadline; poll++) {
    await sleep(o.pollInterval * 1000);
    const r = await s.req('GET', `${pick(compute, poll)}/servers?name=${encodeURIComponent(prefix + '-')}&limit=1000`);
    // Count client-side too, in case the name filter is ignored.
    if (r.status === 200) remaining = r.body.servers.filter((x: any) => wanted.has(x.id)).length;
    if (remaining === 0 && !deleting) break;
  }
  await dels;
  const wall = now() - tStart;
  const deleted = ids.length - (remaining ?? 0);
  return {
    deleted,
    remaining,
    wall_s: round(wall, 3),
    servers_per_s: round(deleted / wall, 3),
    delete_request_latency_s: summary(lat),
    errors: errors.slice(0, 10),
  };
}
