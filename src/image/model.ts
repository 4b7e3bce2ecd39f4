/** The image record and the closed vocabularies of the Image API (Glance v2). */

export const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'] as const;
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'] as const;
export const VISIBILITIES = ['public', 'private', 'shared', 'community'] as const;
export const STATUSES = [
  'queued',
  'saving',
  'active',
  'killed',
  'deleted',
  'pending_delete',
  'deactivated',
  'uploading',
  'importing',
] as const;
export const MEMBER_STATUSES = ['pending', 'accepted', 'rejected'] as const;

export type Visibility = (typeof VISIBILITIES)[number];
export type ImageStatus = (typeof STATUSES)[number];
export type MemberStatus = (typeof MEMBER_STATUSES)[number];

/** Attributes the server maintains: setting them in a create or patch is a 403. */
export const READ_ONLY = [
  'created_at',
  'updated_at',
  'status',
  'checksum',
  'os_hash_algo',
  'os_hash_value',
  'size',
  'virtual_size',
  'direct_url',
  'self',
  'file',
  'schema',
  'stores',
];
/** Attributes no client may set at all (403 "reserved"). */
export const RESERVED = ['location', 'locations', 'deleted', 'deleted_at'];

/** Attributes kept in columns; everything else is an extra (string) property. */
export const BASE_ATTRS = new Set([
  'id',
  'name',
  'owner',
  'status',
  'visibility',
  'protected',
  'os_hidden',
  'disk_format',
  'container_format',
  'size',
  'virtual_size',
  'checksum',
  'os_hash_algo',
  'os_hash_value',
  'min_disk',
  'min_ram',
  'tags',
  'created_at',
  'updated_at',
  ...READ_ONLY,
  ...RESERVED,
]);

/** Largest value of min_disk / min_ram (a 32-bit signed integer, as in Glance). */
export const MAX_INT = 2 ** 31 - 1;
/** Most extra properties and tags per image (Glance's image_property_quota / image_tag_quota). */
export const PROPERTY_QUOTA = 128;
export const TAG_QUOTA = 128;
export const MEMBER_QUOTA = 128;

export interface ImageRecord {
  id: string;
  name: string | null;
  owner: string | null;
  status: ImageStatus;
  visibility: Visibility;
  protected: boolean;
  os_hidden: boolean;
  disk_format: string | null;
  container_format: string | null;
  size: number | null;
  virtual_size: number | null;
  checksum: string | null;
  os_hash_algo: string | null;
  os_hash_value: string | null;
  min_disk: number;
  min_ram: number;
  properties: Record<string, string>;
  tags: string[];
  /** Absolute path of the data file in the store, null until data is uploaded. */
  file_path: string | null;
  created_at: string;
  updated_at: string;
}

export interface MemberRecord {
  image_id: string;
  member_id: string;
  status: MemberStatus;
  created_at: string;
  updated_at: string;
}

/** Fields a client may change (create body or patch). */
export type MutableFields = Partial<
  Pick<
    ImageRecord,
    'name' | 'owner' | 'visibility' | 'protected' | 'os_hidden' | 'disk_format' | 'container_format' | 'min_disk' | 'min_ram' | 'tags'
  >
> & { id?: string; properties?: Record<string, string> };
