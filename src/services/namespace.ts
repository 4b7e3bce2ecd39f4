import { createHash } from 'node:crypto';

/** The network namespace of a compute host: unique per data dir, so clouds side by side never share one. */
export function hostNamespace(dataDir: string, host: string): string {
  return `nts-${createHash('sha256').update(dataDir).digest('hex').slice(0, 8)}-${host}`;
}
