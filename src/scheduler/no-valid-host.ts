/**
 * Turns the per-host rejections of a decision into NoValidHost: one sentence per kind of
 * rejection with counts and numbers, e.g. "No valid host was found. 2 of 3 hosts lack memory:
 * needs 4096 MB, most free 2048 MB. 1 of 3 hosts has its compute service disabled or down."
 *
 * Contract: the message never names a host (every user who owns the instance reads it in the
 * fault); the per-host reasons, which do, go in details.hosts (host -> reason), shown to
 * admins only (fault details, the action event's traceback).
 */
import { NovaError, noValidHost } from '../errors.js';
import type { Ranking } from './select.js';
import type { RequestSpec } from './rpcapi.js';
import { RESOURCE_WORDS } from './filters/resource-filter.js';

export const NO_VALID_HOST = 'No valid host was found.';

/** "1 host" / "2 hosts". */
export const countHosts = (n: number): string => `${n} host${n === 1 ? '' : 's'}`;

const SINGULAR_VERB: Record<string, string> = { are: 'is', have: 'has', were: 'was', do: 'does', go: 'goes' };
/** Words that may precede a summary's verb: kept, the verb comes after them. */
const ADVERBS = new Set(['already', 'not', 'also', 'still', 'only', 'never', 'all']);
/** Modal verbs: the same in both numbers, and nothing after them changes. */
const MODALS = new Set(['cannot', 'can', 'must', 'may', 'might', 'would', 'will', 'could', 'should']);
const SINGULAR_WORD: Record<string, string> = { their: 'its', them: 'it', themselves: 'itself' };

/**
 * A filter summary is a plural verb phrase ("lack memory", "have their compute service
 * disabled", "are not in availability zone 'az1'"): this answers its singular form ("lacks
 * memory", "has its ...", "is not in ..."). The first word that is not an adverb is the verb.
 */
export function singular(summary: string): string {
  let verbDone = false;
  return summary
    .split(' ')
    .map((w) => {
      if (verbDone || ADVERBS.has(w) || w === '') return SINGULAR_WORD[w] ?? w;
      verbDone = true;
      if (MODALS.has(w)) return w;
      return SINGULAR_VERB[w] ?? (/(s|sh|ch|x|z|o)$/.test(w) ? `${w}es` : /[^aeiou]y$/.test(w) ? `${w.slice(0, -1)}ies` : `${w}s`);
    })
    .join(' ');
}

/** "2 of 3 hosts lack memory" / "1 of 3 hosts lacks memory" / "The only host lacks memory". */
function countPhrase(n: number, of: number, summary: string): string {
  if (of === 1 && n === 1) return `The only host ${singular(summary)}`;
  return `${n} of ${countHosts(of)} ${n === 1 ? singular(summary) : summary}`;
}

export function explain(r: Ranking, spec: RequestSpec, totalHosts: number): { message: string; hosts: Record<string, string> } {
  const parts: string[] = [];
  const per: Record<string, string> = {};
  if (totalHosts === 0) parts.push('There are no compute hosts.');
  else if (spec.requested_host || spec.requested_node) {
    // The requester named this host: repeating it leaks nothing.
    const want = [spec.requested_host && `host '${spec.requested_host}'`, spec.requested_node && `node '${spec.requested_node}'`].filter(Boolean).join(' and ');
    if (r.considered === 0 && r.excluded.length === 0) parts.push(`The requested ${want} is not a known compute host.`);
  }
  const ignored = r.excluded.filter((e) => e.why === 'ignored');
  if (ignored.length) {
    parts.push(`${countHosts(ignored.length)} ${ignored.length === 1 ? 'was' : 'were'} already tried for this request.`);
    for (const e of ignored) per[e.host] = `${e.host}: already tried for this request`;
  }
  const groups = new Map<string, typeof r.rejections>();
  for (const rej of r.rejections) {
    per[rej.host] = rej.reason;
    const key = rej.shortfall ? `res:${rej.shortfall.kind}` : `${rej.filter}:${rej.summary}`;
    const g = groups.get(key);
    if (g) g.push(rej);
    else groups.set(key, [rej]);
  }
  // Largest group first (what removed most hosts); ties keep the order hosts were seen in.
  for (const g of [...groups.values()].sort((a, b) => b.length - a.length)) {
    const first = g[0];
    let s = countPhrase(g.length, r.considered, first.summary);
    if (first.shortfall) {
      const w = RESOURCE_WORDS[first.shortfall.kind];
      const mostFree = Math.max(...g.map((x) => x.shortfall!.free));
      s += `: needs ${first.shortfall.need} ${w.unit}, ${g.length === 1 ? 'free' : 'most free'} ${mostFree} ${w.unit}`;
    }
    parts.push(s + '.');
  }
  return { message: [NO_VALID_HOST, ...parts].join(' '), hosts: per };
}

export function noValidHostError(r: Ranking, spec: RequestSpec, totalHosts: number): NovaError {
  const { message, hosts: per } = explain(r, spec, totalHosts);
  const e = noValidHost(message);
  (e.details as Record<string, unknown>).hosts = per;
  return e;
}

/**
 * Adds to a NoValidHost error the hosts that passed the filters but whose claim was lost to
 * concurrent requests (the host's state changed between the cache and the DB). The message
 * gains a count and the kinds of shortfall ("not enough memory"), never the hosts; each
 * host's claim reason goes to details.hosts.
 */
export function addClaimLosses(e: NovaError, losses: readonly { host: string; reason: string }[]): NovaError {
  if (losses.length === 0) return e;
  const per = ((e.details as Record<string, unknown>).hosts ??= {}) as Record<string, string>;
  const kinds = new Set<string>();
  for (const l of losses) {
    per[l.host] = l.reason.startsWith(`${l.host}:`) ? l.reason : `${l.host}: ${l.reason}`;
    const why = l.reason.startsWith(`${l.host}: `) ? l.reason.slice(l.host.length + 2) : l.reason;
    const kind = why.split(':')[0].trim();
    // Only generic words: a reason naming a host or a node id stays in the details.
    if (/^[a-z ]+$/i.test(kind) && !losses.some((o) => kind.includes(o.host))) kinds.add(kind);
  }
  const n = losses.length;
  e.message +=
    ` ${countHosts(n)} passed the filters but ${n === 1 ? 'was' : 'were'} taken by concurrent requests before ${n === 1 ? 'its' : 'their'} claim` +
    `${kinds.size ? ` (${[...kinds].join('; ')})` : ''}.`;
  return e;
}
