import type { HostWeigher } from './types.js';

export const NAME = 'BuildFailureWeigher';

/**
 * Weight = minus the host's recent consecutive failed builds (reset by a successful build), so
 * a host that keeps failing sinks below every healthy one. Its large default multiplier
 * (1,000,000, as Nova's) makes it outweigh the resource weighers; when no host has failures
 * every weight is equal and it changes nothing.
 */
export const buildFailureWeigher = (): HostWeigher => ({ name: NAME, weigh: (h) => -h.failed_builds });
