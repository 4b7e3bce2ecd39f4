/** GET /limits: the project's absolute limits and usage (Cinder's names); no rate limits. */
import type { Router } from '../../http/router.js';
import { quotaLimits, quotaUsage } from '../quotas.js';
import { route, type ApiDeps } from './context.js';

export function mountLimits(router: Router, deps: ApiDeps): void {
  route(router, 'GET', '/limits', async (_req, c) => {
    const l = await quotaLimits(deps.sql, c.projectId);
    const u = await quotaUsage(deps.sql, c.projectId);
    return {
      status: 200,
      body: {
        limits: {
          rate: [],
          absolute: {
            maxTotalVolumes: l.volumes, maxTotalSnapshots: l.snapshots, maxTotalVolumeGigabytes: l.gigabytes,
            maxTotalBackups: l.backups, maxTotalBackupGigabytes: l.backup_gigabytes,
            totalVolumesUsed: u.volumes, totalSnapshotsUsed: u.snapshots, totalGigabytesUsed: u.gigabytes,
            totalBackupsUsed: 0, totalBackupGigabytesUsed: 0,
          },
        },
      },
    };
  });
}
