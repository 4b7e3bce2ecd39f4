import type { Migration } from '../migrate.js';

/**
 * Scheduling facts:
 * - compute_nodes.failed_builds: consecutive builds that failed on the node, reset to 0 by a
 *   successful one (the conductor keeps it; BuildFailureWeigher reads it).
 * - instances_task_state: the scheduler counts instances in I/O task states per node (IoOps)
 *   at every cache reload; most instances have no task state, so the index keeps that cheap.
 */
export const compute011: Migration = {
  id: '011-scheduling',
  up: () => `
ALTER TABLE compute_nodes ADD COLUMN failed_builds INTEGER NOT NULL DEFAULT 0;
CREATE INDEX instances_task_state ON instances (task_state);
`,
};
