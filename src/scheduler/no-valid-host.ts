/**
 * Turns the per-host rejections of a decision into NoValidHost: one sentence per kind of
 * rejection with counts and numbers, e.g. "No valid host was found. 3 of 3 hosts lack memory:
 * needs 4096 MB, most free 2048 MB." The per-host reasons go in details.hosts (an admin can
 * read them in the instance fault's details).
 */
import { NovaError, noValidHost } from '../errors.js';
import type { Ranking } from './select.js';
import type { RequestSpec } from './rpcapi.js';
import { RESOURCE_WORDS } from './filters/resource-filter.js';

export const NO_VALID_HOST = 'No valid host was found.';

export function explain(r: Ranking, spec: RequestSpec, totalHosts: number): { message: string; hosts: Record<string, string> } {
  const parts: string[] = [];
  const hosts: Record<string, string> = {};
  if (totalHosts === 0) parts.push('There are no compute hosts.');
  else if (spec.requested_host || spec.requested_node) {
    const want = [spec.requested_host && `host '${spec.requested_host}'`, spec.requested_node && `node '${spec.requested_node}'`].filter(Boolean).join(' and ');
    if (r.considered === 0 && r.excluded.length === 0) parts.push(`The requested ${want} is not a known compute host.`);
  }
  const ignored = r.excluded.filter((e) => e.why === 'ignored');
  if (ignored.length) {
    parts.push(`${ignored.length} host${ignored.length > 1 ? 's were' : ' was'} already tried for this request (${ignored.map((e) => e.host).join(', ')}).`);
    for (const e of ignored) hosts[e.host] = `${e.host}: already tried for this request`;
  }
  const groups = new Map<string, typeof r.rejections>();
  for (const rej of r.rejections) {
    hosts[rej.host] = rej.reason;
    const key = rej.shortfall ? `res:${rej.shortfall.kind}` : `${rej.filter}:${rej.summary}`;
    const g = groups.get(key);
    if (g) g.push(rej);
    else groups.set(key, [rej]);
  }
  for (const g of groups.values()) {
    const first = g[0];
    let s = `${g.length} of ${r.considered} host${r.considered === 1 ? '' : 's'} ${first.summary}`;
    if (first.shortfall) {
      const w = RESOURCE_WORDS[first.shortfall.kind];
      const mostFree = Math.max(...g.map((x) => x.shortfall!.free));
      s += `: needs ${first.shortfall.need} ${w.unit}, most free ${mostFree} ${w.unit}`;
    }
    parts.push(s + '.');
  }
  return { message: [NO_VALID_HOST, ...parts].join(' '), hosts };
}

export function noValidHostError(r: Ranking, spec: RequestSpec, totalHosts: number): NovaError {
  const { message, hosts } = explain(r, spec, totalHosts);
  const e = noValidHost(message);
  (e.details as Record<string, unknown>).hosts = hosts;
  return e;
}
