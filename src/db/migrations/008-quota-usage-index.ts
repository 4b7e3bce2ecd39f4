import type { Migration } from '../migrate.js';

/**
 * Quota usage (COUNT, SUM(vcpus), SUM(memory_mb) of a project's live instances) is read on
 * every server create: a covering index answers it from the index alone. Pollers of a
 * project's servers ask for `changes-since`: (project_id, updated_at) serves that. The name
 * index goes: names are matched as regular expressions, which no index serves, and every
 * index is paid for on each write.
 */
export const compute008: Migration = {
  id: '008-quota-usage-index',
  up: () => `
CREATE INDEX instances_usage ON instances (project_id, deleted, vcpus, memory_mb);
DROP INDEX instances_name;
CREATE INDEX instances_project_updated ON instances (project_id, updated_at);
`,
};
