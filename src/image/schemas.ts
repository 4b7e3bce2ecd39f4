/**
 * JSON schemas of the Image API: served at /v2/schemas/* (clients such as glanceclient fetch
 * them to know which attributes are base ones) and used to validate what clients write.
 */
import { CONTAINER_FORMATS, DISK_FORMATS, MAX_INT, MEMBER_STATUSES, STATUSES, VISIBILITIES } from './model.js';

const nullableString = (description: string, maxLength = 255) => ({ type: ['null', 'string'], maxLength, description });
const readOnly = <T extends object>(p: T) => ({ ...p, readOnly: true });

/** The writable attributes with their constraints: what a create body or a patched image must satisfy. */
const writable = {
  id: {
    type: 'string',
    pattern: '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
    description: 'An identifier for the image',
  },
  name: nullableString('Descriptive name for the image'),
  visibility: { type: 'string', enum: [...VISIBILITIES], description: 'Scope of image accessibility' },
  protected: { type: 'boolean', description: 'If true, image will not be deletable.' },
  os_hidden: { type: 'boolean', description: 'If true, image will not appear in default image list response.' },
  owner: nullableString('Owner of the image'),
  disk_format: { type: ['null', 'string'], enum: [null, ...DISK_FORMATS], description: 'Format of the disk' },
  container_format: { type: ['null', 'string'], enum: [null, ...CONTAINER_FORMATS], description: 'Format of the container' },
  min_ram: { type: 'integer', minimum: 0, maximum: MAX_INT, description: 'Amount of ram (in MB) required to boot image.' },
  min_disk: { type: 'integer', minimum: 0, maximum: MAX_INT, description: 'Amount of disk space (in GB) required to boot image.' },
  tags: {
    type: 'array',
    items: { type: 'string', maxLength: 255 },
    description: 'List of strings related to the image',
  },
};

/** Validates a create body or a patched image (read-only attributes are checked before this). */
export const imageWriteSchema = {
  type: 'object',
  properties: writable,
  propertyNames: { maxLength: 255 },
  additionalProperties: { type: 'string', maxLength: 65535 },
};

/** GET /v2/schemas/image. */
export const imageSchema = {
  name: 'image',
  additionalProperties: { type: 'string' },
  properties: {
    ...writable,
    status: readOnly({ type: 'string', enum: [...STATUSES], description: 'Status of the image' }),
    checksum: readOnly(nullableString('md5 hash of image contents.', 32)),
    os_hash_algo: readOnly(nullableString('Algorithm to calculate the os_hash_value', 64)),
    os_hash_value: readOnly(nullableString('Hexdigest of the image contents using the algorithm specified by the os_hash_algo', 128)),
    size: readOnly({ type: ['null', 'integer'], description: 'Size of image file in bytes' }),
    virtual_size: readOnly({ type: ['null', 'integer'], description: 'Virtual size of image in bytes' }),
    created_at: readOnly({ type: 'string', description: 'Date and time of image registration' }),
    updated_at: readOnly({ type: 'string', description: 'Date and time of the last image modification' }),
    self: readOnly({ type: 'string', description: 'An image self url' }),
    file: readOnly({ type: 'string', description: 'An image file url' }),
    schema: readOnly({ type: 'string', description: 'An image schema url' }),
    direct_url: readOnly({ type: 'string', description: 'URL to access the image file kept in external store' }),
    locations: {
      type: 'array',
      items: { type: 'object', properties: { url: { type: 'string' }, metadata: { type: 'object' } } },
      description: 'A set of URLs to access the image file kept in external store',
    },
    kernel_id: { type: ['null', 'string'], description: 'ID of image stored in Glance that should be used as the kernel when booting an AMI-style image.', is_base: false },
    ramdisk_id: { type: ['null', 'string'], description: 'ID of image stored in Glance that should be used as the ramdisk when booting an AMI-style image.', is_base: false },
    instance_uuid: { type: 'string', description: 'Metadata which can be used to record which instance this image is associated with.', is_base: false },
    architecture: { type: 'string', description: 'Operating system architecture', is_base: false },
    os_distro: { type: 'string', description: 'Common name of operating system distribution', is_base: false },
    os_version: { type: 'string', description: 'Operating system version as specified by the distributor', is_base: false },
  },
  links: [
    { rel: 'self', href: '{self}' },
    { rel: 'enclosure', href: '{file}' },
    { rel: 'describedby', href: '{schema}' },
  ],
};

/** GET /v2/schemas/images. */
export const imagesSchema = {
  name: 'images',
  properties: {
    images: { type: 'array', items: imageSchema },
    schema: { type: 'string' },
    first: { type: 'string' },
    next: { type: 'string' },
  },
  links: [
    { rel: 'first', href: '{first}' },
    { rel: 'next', href: '{next}' },
    { rel: 'describedby', href: '{schema}' },
  ],
};

/** GET /v2/schemas/member. */
export const memberSchema = {
  name: 'member',
  properties: {
    created_at: { type: 'string', description: 'Date and time of image member creation' },
    image_id: { type: 'string', description: 'An identifier for the image' },
    member_id: { type: 'string', description: 'An identifier for the image member (tenantId)' },
    status: { type: 'string', enum: [...MEMBER_STATUSES], description: 'The status of this image member' },
    updated_at: { type: 'string', description: 'Date and time of last modification of image member' },
    schema: { readOnly: true, type: 'string' },
  },
};

/** GET /v2/schemas/members. */
export const membersSchema = {
  name: 'members',
  properties: { members: { type: 'array', items: memberSchema }, schema: { type: 'string' } },
  links: [{ rel: 'describedby', href: '{schema}' }],
};
