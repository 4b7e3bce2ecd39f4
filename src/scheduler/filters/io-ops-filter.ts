import type { HostState } from '../host-state.js';
import { PASS, type FilterResult, type HostFilter } from './types.js';
import type { FilterConfig } from './filter-config.js';

export const NAME = 'IoOpsFilter';

/**
 * Passes hosts with fewer instances in an I/O-heavy task state (IO_TASK_STATES: building,
 * resizing, snapshotting, ...) than config.scheduler.maxIoOpsPerHost (Nova's max_io_ops_per_host).
 */
export const ioOpsFilter = (config: FilterConfig): HostFilter => {
  const max = config.maxIoOpsPerHost;
  const summary = `are busy with the most concurrent I/O operations allowed per host, ${max} (${NAME})`;
  return {
    name: NAME,
    filter(h: HostState): FilterResult {
      if (h.io_ops < max) return PASS;
      return { pass: false, reason: `${h.host}: has ${h.io_ops} instances building, resizing or snapshotting, max_io_ops_per_host ${max}`, summary };
    },
  };
};
