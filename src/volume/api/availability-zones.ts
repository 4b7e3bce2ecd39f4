/** GET /os-availability-zone: the one volume zone, available while a volume service is up. */
import type { Router } from '../../http/router.js';
import { pickVolumeHost } from '../volume-host.js';
import { route, type ApiDeps } from './context.js';

export function mountAvailabilityZones(router: Router, deps: ApiDeps): void {
  route(router, 'GET', '/os-availability-zone', async () => ({
    status: 200,
    body: { availabilityZoneInfo: [{ zoneName: deps.defaultAvailabilityZone, zoneState: { available: (await pickVolumeHost(deps.sql)) !== null } }] },
  }));
}
