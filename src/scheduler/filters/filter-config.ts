import type { SchedulerConfig } from '../../config.js';

/** The scheduler settings filters may read (limits such as maxInstancesPerHost). */
export type FilterConfig = Pick<SchedulerConfig, 'maxInstancesPerHost' | 'maxIoOpsPerHost' | 'serviceDownTimeSec'>;

export const DEFAULT_FILTER_CONFIG: FilterConfig = { maxInstancesPerHost: 50, maxIoOpsPerHost: 8 };
