/** Query-string checks shared by Compute API resources. */
import { invalid } from '../../errors.js';
import type { ApiRequest } from '../../http/types.js';

/** 400 for a query parameter outside `allowed` (Nova's strict query schemas, e.g. from 2.75). */
export function rejectUnknownQuery(req: ApiRequest, allowed: readonly string[]): void {
  for (const k of req.query.keys())
    if (!allowed.includes(k)) throw invalid(`Invalid input for query parameters ${k}. Additional properties are not allowed ('${k}' was unexpected)`);
}

/** A boolean query parameter as Nova's strbool reads it; 400 for anything else. */
export function queryBool(req: ApiRequest, name: string): boolean | undefined {
  const raw = req.query.get(name);
  if (raw === null) return undefined;
  const v = raw.toLowerCase();
  if (['true', 't', '1', 'on', 'y', 'yes'].includes(v)) return true;
  if (['false', 'f', '0', 'off', 'n', 'no'].includes(v)) return false;
  throw invalid(`Invalid input for query parameters ${name}. Value: ${raw}. '${raw}' is not a valid boolean`);
}
