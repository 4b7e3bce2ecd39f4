/** Admin > Instances: every project's servers (all_tenants), live, in the Instances page's table. */
import { InstancesPage } from '../instances';

export function AllInstancesPage() {
  return <InstancesPage allTenants />;
}
