/**
 * The Launch Instance wizard's form state, its validation and the POST /servers body it makes.
 * Contract: validate() returns every problem (field -> message, in tab order); a form with any
 * problem is never sent. toRequest() is only called on a valid form.
 */

// Structural types (no imports: the model is also tested by Node, outside the dashboard's build);
// api/compute.ts's Flavor, AbsoluteLimits and CreateServerRequest fit them.
export interface FlavorSize {
  id: string;
  vcpus: number;
  ram: number;
}
export interface ComputeLimits {
  maxTotalInstances: number;
  maxTotalCores: number;
  maxTotalRAMSize: number;
  totalInstancesUsed: number;
  totalCoresUsed: number;
  totalRAMUsed: number;
}
export interface ServerBody {
  name: string;
  flavorRef: string;
  [k: string]: unknown;
}

export type BootSource = 'image' | 'volume';

export interface LaunchForm {
  name: string;
  availabilityZone: string;
  count: number;
  flavorId: string;
  bootSource: BootSource;
  imageId: string;
  volumeId: string;
  keyName: string;
  securityGroups: string[];
  /** Network ids in the order the NICs are attached. */
  networks: string[];
  userData: string;
  diskConfig: 'AUTO' | 'MANUAL';
  configDrive: boolean;
  serverGroup: string;
}

export const EMPTY_FORM: LaunchForm = {
  name: '',
  availabilityZone: '',
  count: 1,
  flavorId: '',
  bootSource: 'image',
  imageId: '',
  volumeId: '',
  keyName: '',
  securityGroups: ['default'],
  networks: [],
  userData: '',
  diskConfig: 'AUTO',
  configDrive: false,
  serverGroup: '',
};

/** The wizard's tabs, in order; each field belongs to one. */
export const TABS = [
  ['details', 'Details'],
  ['access', 'Access & Security'],
  ['networking', 'Networking'],
  ['post', 'Post-creation'],
  ['advanced', 'Advanced'],
] as const;
export type TabKey = (typeof TABS)[number][0];

export type Field = 'name' | 'count' | 'flavor' | 'source' | 'quota';
export const FIELD_TAB: Record<Field, TabKey> = { name: 'details', count: 'details', flavor: 'details', source: 'details', quota: 'details' };

/** One row of the quota preview: what is used, what this launch adds, the limit (-1: unlimited). */
export interface QuotaRow {
  label: string;
  used: number;
  adds: number;
  limit: number;
  unit: string;
}

export function quotaRows(l: ComputeLimits | undefined, flavor: FlavorSize | undefined, count: number): QuotaRow[] {
  if (!l) return [];
  const n = Number.isInteger(count) && count > 0 ? count : 0;
  return [
    { label: 'Instances', used: l.totalInstancesUsed, adds: n, limit: l.maxTotalInstances, unit: '' },
    { label: 'VCPUs', used: l.totalCoresUsed, adds: (flavor?.vcpus ?? 0) * n, limit: l.maxTotalCores, unit: '' },
    { label: 'RAM', used: l.totalRAMUsed, adds: (flavor?.ram ?? 0) * n, limit: l.maxTotalRAMSize, unit: ' MB' },
  ];
}

export const exceeds = (q: QuotaRow) => q.limit >= 0 && q.used + q.adds > q.limit;

export function validate(f: LaunchForm, flavors: FlavorSize[] | undefined, l: ComputeLimits | undefined): Partial<Record<Field, string>> {
  const out: Partial<Record<Field, string>> = {};
  if (!f.name.trim()) out.name = 'Instance Name is required: type a name for the instance.';
  else if (f.name.length > 255) out.name = 'Instance Name must be at most 255 characters.';
  if (!Number.isInteger(f.count) || f.count < 1) out.count = 'Count must be a whole number of at least 1.';
  const flavor = flavors?.find((x) => x.id === f.flavorId);
  if (!flavor) out.flavor = 'Flavor is required: choose the size of the instance.';
  if (f.bootSource === 'image' && !f.imageId) out.source = 'Image is required: choose the image to boot from.';
  if (f.bootSource === 'volume' && !f.volumeId) out.source = 'Volume is required: choose the volume to boot from.';
  if (flavor && !out.count) {
    const over = quotaRows(l, flavor, f.count).filter(exceeds);
    if (over.length)
      out.quota = over
        .map((q) => `${q.label} quota exceeded: ${q.used}${q.unit} used + ${q.adds}${q.unit} requested > ${q.limit}${q.unit} allowed`)
        .join('; ') + '. Choose a smaller flavor or count, or delete instances.';
  }
  return out;
}

/** UTF-8 text as base64 (user_data must be base64). */
export function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

export function toRequest(f: LaunchForm): { server: ServerBody; hints?: Record<string, unknown> } {
  const server: ServerBody = { name: f.name.trim(), flavorRef: f.flavorId, 'OS-DCF:diskConfig': f.diskConfig };
  if (f.bootSource === 'image') server.imageRef = f.imageId;
  else
    server.block_device_mapping_v2 = [
      { boot_index: 0, uuid: f.volumeId, source_type: 'volume', destination_type: 'volume', delete_on_termination: false },
    ];
  if (f.availabilityZone) server.availability_zone = f.availabilityZone;
  if (f.count > 1) {
    server.min_count = f.count;
    server.max_count = f.count;
  }
  if (f.keyName) server.key_name = f.keyName;
  if (f.securityGroups.length) server.security_groups = f.securityGroups.map((name) => ({ name }));
  server.networks = f.networks.length ? f.networks.map((uuid) => ({ uuid })) : 'auto';
  if (f.userData) server.user_data = base64(f.userData);
  if (f.configDrive) server.config_drive = true;
  return { server, hints: f.serverGroup ? { group: f.serverGroup } : undefined };
}

/** What to do about an API error of POST /servers, after the API's own message. */
export function adviceFor(status: number, message: string): string {
  if (/quota/i.test(message)) return 'Choose a smaller flavor or count, delete instances you no longer need, or ask an administrator to raise the quota.';
  if (/No valid host/i.test(message)) return 'No compute host can take this instance: try a smaller flavor or another availability zone.';
  if (/key ?pair/i.test(message)) return 'Choose another key pair on the Access & Security tab.';
  if (/security group/i.test(message)) return 'Check the security groups on the Access & Security tab.';
  if (/network/i.test(message)) return 'Check the networks on the Networking tab.';
  if (/availability zone/i.test(message)) return 'Choose another availability zone on the Details tab.';
  if (status === 403) return 'Your role does not allow this: ask an administrator.';
  if (status === 409) return 'Wait for the conflicting operation to finish, then launch again.';
  if (status >= 500) return 'The cloud failed: try again, and tell an administrator if it persists.';
  return 'Correct the form and launch again.';
}
