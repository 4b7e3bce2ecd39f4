/**
 * Every page of the dashboard. To add one: write dashboard/src/pages/<name>.tsx exporting a
 * component that takes PageProps, and add one entry here. `nav` puts it in the left
 * navigation under its group (Project or Admin, in the order listed); `admin` pages are only
 * shown to and routed for users with the admin role. The first pattern that matches wins, so
 * put /x/new before /x/:id.
 */
import type { ComponentType } from 'react';
import { InstancesPage } from './pages/instances';
import { InstanceDetailPage } from './pages/instance-detail';
import { LaunchInstancePage } from './pages/launch-instance';
import { OverviewPage } from './pages/overview';
import { ImagesPage } from './pages/images';
import { KeyPairsPage } from './pages/key-pairs';
import { VolumesPage } from './pages/volumes';
import { NetworksPage } from './pages/networks';
import { SecurityGroupsPage } from './pages/security-groups';
import { AllInstancesPage } from './pages/admin/instances';
import { AvailabilityZonesPage } from './pages/admin/availability-zones';
import { FlavorsPage } from './pages/admin/flavors';
import { HostAggregatesPage } from './pages/admin/host-aggregates';
import { HypervisorsPage } from './pages/admin/hypervisors';
import { ServicesPage } from './pages/admin/services';

export interface PageProps {
  /** The :params of the path. */
  params: Record<string, string>;
}

export interface PageDef {
  path: string;
  /** The document title and the nav label. */
  title: string;
  component: ComponentType<PageProps>;
  /** In the left navigation under this group. */
  nav?: 'project' | 'admin';
  /** Only for users with the admin role. */
  admin?: boolean;
}

export const PAGES: PageDef[] = [
  { path: '/project/overview', title: 'Overview', component: OverviewPage, nav: 'project' },
  { path: '/project/instances', title: 'Instances', component: InstancesPage, nav: 'project' },
  { path: '/project/instances/launch', title: 'Launch Instance', component: LaunchInstancePage },
  { path: '/project/instances/:id', title: 'Instance', component: InstanceDetailPage },
  { path: '/project/images', title: 'Images', component: ImagesPage, nav: 'project' },
  { path: '/project/key_pairs', title: 'Key Pairs', component: KeyPairsPage, nav: 'project' },
  { path: '/project/volumes', title: 'Volumes', component: VolumesPage, nav: 'project' },
  { path: '/project/networks', title: 'Networks', component: NetworksPage, nav: 'project' },
  { path: '/project/security_groups', title: 'Security Groups', component: SecurityGroupsPage, nav: 'project' },
  { path: '/admin/hypervisors', title: 'Hypervisors', component: HypervisorsPage, nav: 'admin', admin: true },
  { path: '/admin/aggregates', title: 'Host Aggregates', component: HostAggregatesPage, nav: 'admin', admin: true },
  { path: '/admin/availability_zones', title: 'Availability Zones', component: AvailabilityZonesPage, nav: 'admin', admin: true },
  { path: '/admin/flavors', title: 'Flavors', component: FlavorsPage, nav: 'admin', admin: true },
  { path: '/admin/services', title: 'Services', component: ServicesPage, nav: 'admin', admin: true },
  { path: '/admin/instances', title: 'All Instances', component: AllInstancesPage, nav: 'admin', admin: true },
];

/** Where "/" and the login lead. */
export const HOME = '/project/instances';

export const GROUP_LABELS: Record<'project' | 'admin', string> = { project: 'Project', admin: 'Admin' };
