import { Router } from '../../http/router.js';
import type { ComputeApiDeps } from './deps.js';
import { mountServers } from './servers.js';
import { mountServerActions } from './server-actions.js';
import { mountServerIps } from './server-ips.js';
import { mountServerMetadata } from './server-metadata.js';
import { mountServerTags } from './server-tags.js';
import { mountServerPassword } from './server-password.js';
import { mountInstanceActions } from './instance-actions.js';
import { mountVersions } from './versions.js';
import { mountFlavors } from './flavors.js';
import { mountFlavorExtraSpecs } from './flavor-extra-specs.js';
import { mountFlavorAccess } from './flavor-access.js';
import { mountKeypairs } from './keypairs.js';
import { mountLimits } from './limits.js';
import { mountQuotaSets } from './quota-sets.js';
import { mountQuotaClassSets } from './quota-class-sets.js';
import { mountServices } from './services.js';
import { mountHypervisors } from './hypervisors.js';
import { mountAvailabilityZones } from './availability-zones.js';
import { mountExtensions } from './extensions.js';
import { mountImages } from './images.js';
import { mountAggregates } from './aggregates.js';
import { mountServerGroups } from './server-groups.js';
import { mountServerInterfaces } from './server-interfaces.js';

export type { ComputeApiDeps };

/** The Compute API v2.1 router (mounted at /compute): every resource module, mounted explicitly. */
export function createComputeApi(deps: ComputeApiDeps): Router {
  const router = new Router('nova');
  mountServers(router, deps);
  mountServerActions(router, deps);
  mountServerIps(router, deps);
  mountServerMetadata(router, deps);
  mountServerTags(router, deps);
  mountServerPassword(router, deps);
  mountInstanceActions(router, deps);
  mountVersions(router, deps);
  mountFlavors(router, deps);
  mountFlavorExtraSpecs(router, deps);
  mountFlavorAccess(router, deps);
  mountKeypairs(router, deps);
  mountLimits(router, deps);
  mountQuotaSets(router, deps);
  mountQuotaClassSets(router, deps);
  mountServices(router, deps);
  mountHypervisors(router, deps);
  mountAvailabilityZones(router, deps);
  mountExtensions(router, deps);
  mountImages(router, deps);
  mountAggregates(router, deps);
  mountServerGroups(router, deps);
  mountServerInterfaces(router, deps);
  return router;
}
