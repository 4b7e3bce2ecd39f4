import type { HostState } from '../host-state.js';
import type { RequestSpec } from '../rpcapi.js';
import { matches, parseRequirement, type Requirement } from './extra-spec-match.js';
import { perRequest } from './per-request.js';
import { PASS, type FilterResult, type HostFilter } from './types.js';

export const NAME = 'ComputeCapabilitiesFilter';
const SCOPE = 'capabilities:';

interface Capability {
  /** The extra-spec key as written, e.g. "capabilities:cpu_info:arch". */
  key: string;
  /** The host attribute then the path inside it: ["cpu_info", "topology", "cores"]. */
  path: string[];
  req: Requirement;
  summary: string;
}

/** The flavor's `capabilities:` extra specs, parsed once per request. */
const capabilitiesOf = perRequest((spec: RequestSpec): Capability[] => {
  const out: Capability[] = [];
  for (const [key, value] of Object.entries(spec.flavor.extra_specs ?? {})) {
    if (!key.startsWith(SCOPE)) continue;
    const path = key.slice(SCOPE.length).split(/[:.]/).filter((p) => p !== '');
    if (path.length === 0) continue;
    out.push({ key, path, req: parseRequirement(String(value)), summary: `lack the capability the flavor requires: ${key} '${value}' (${NAME})` });
  }
  return out;
});

type Value = string | number | boolean | readonly unknown[] | null | undefined;

/** A host attribute a `capabilities:` key may name; cpu_info descends into its fields. */
const MISSING = Symbol('missing');

function capability(h: HostState, path: readonly string[]): Value | typeof MISSING {
  let v: unknown;
  switch (path[0]) {
    case 'hypervisor_type': v = h.hypervisor_type; break;
    case 'hypervisor_version': v = h.hypervisor_version; break;
    case 'hypervisor_hostname': v = h.node; break;
    case 'host': v = h.host; break;
    case 'cpu_info': v = h.cpu_info; break;
    case 'num_instances': v = h.instances; break;
    case 'num_io_ops': v = h.io_ops; break;
    default: return MISSING;
  }
  for (let i = 1; i < path.length; i++) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return MISSING;
    v = (v as Record<string, unknown>)[path[i]];
    if (v === undefined) return MISSING;
  }
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) v = JSON.stringify(v);
  return v as Value;
}

/**
 * Passes hosts whose facts satisfy every `capabilities:<attr>[:<field>...]` extra spec of the
 * flavor (attributes: hypervisor_type, hypervisor_version, hypervisor_hostname, host,
 * cpu_info and its fields, num_instances, num_io_ops), with Nova's extra-spec operators. A key
 * naming a fact the host does not have rejects it, as in Nova. Unscoped legacy keys are not read.
 */
export const computeCapabilitiesFilter = (): HostFilter => ({
  name: NAME,
  relevant: (spec) => capabilitiesOf(spec).length > 0,
  filter(h: HostState, spec: RequestSpec): FilterResult {
    const caps = capabilitiesOf(spec);
    for (let i = 0; i < caps.length; i++) {
      const c = caps[i];
      const value = capability(h, c.path);
      if (value !== MISSING && matches(value, c.req)) continue;
      const why = value !== MISSING
        ? `${c.path.join('.')} is ${JSON.stringify(value)}, which does not satisfy '${c.req.text}'`
        : `has no capability ${c.path.join('.')}`;
      return { pass: false, reason: `${h.host}: ${why} (flavor extra spec ${c.key})`, summary: c.summary };
    }
    return PASS;
  },
});
