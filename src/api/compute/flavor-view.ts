/** How the Compute API renders a flavor, per microversion. */
import type { ApiRequest } from '../../http/types.js';
import { links } from './common.js';
import type { FlavorRow } from './flavor-store.js';

/** Index entry: id, name, links; description from 2.55. */
export function flavorBrief(req: ApiRequest, row: FlavorRow): Record<string, unknown> {
  const out: Record<string, unknown> = { id: row.flavorid, name: row.name, links: links(req, 'flavors', row.flavorid) };
  if (req.mv.atLeast('2.55')) out.description = row.description;
  return out;
}

/**
 * Full flavor (detail, show, create, update). `swap` is "" when 0 before 2.75 and a number
 * from 2.75; description from 2.55; extra_specs (when given) from 2.61.
 */
export function flavorDetail(req: ApiRequest, row: FlavorRow, extraSpecs?: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: row.flavorid,
    name: row.name,
    ram: row.memory_mb,
    disk: row.root_gb,
    vcpus: row.vcpus,
    links: links(req, 'flavors', row.flavorid),
    'OS-FLV-EXT-DATA:ephemeral': row.ephemeral_gb,
    'OS-FLV-DISABLED:disabled': !!row.disabled,
    'os-flavor-access:is_public': !!row.is_public,
    swap: row.swap === 0 && !req.mv.atLeast('2.75') ? '' : row.swap,
    rxtx_factor: Number(row.rxtx_factor),
  };
  if (req.mv.atLeast('2.55')) out.description = row.description;
  if (req.mv.atLeast('2.61') && extraSpecs) out.extra_specs = extraSpecs;
  return out;
}
