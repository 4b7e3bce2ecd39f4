/** Renders images and members as the Image API (Glance v2) shows them. */
import { apiTime } from '../util/time.js';
import type { ImageRecord, MemberRecord } from './model.js';
import type { ImageView } from './service.js';

/** Glance's image view: the base attributes, links relative to the API root, and every extra property at the top level. */
export function imageView(r: ImageRecord): ImageView {
  return {
    ...r.properties,
    id: r.id,
    name: r.name,
    status: r.status,
    visibility: r.visibility,
    protected: r.protected,
    os_hidden: r.os_hidden,
    checksum: r.checksum,
    os_hash_algo: r.os_hash_algo,
    os_hash_value: r.os_hash_value,
    min_ram: r.min_ram,
    min_disk: r.min_disk,
    owner: r.owner,
    size: r.size,
    virtual_size: r.virtual_size,
    disk_format: r.disk_format,
    container_format: r.container_format,
    created_at: apiTime(r.created_at),
    updated_at: apiTime(r.updated_at),
    tags: r.tags,
    self: `/v2/images/${r.id}`,
    file: `/v2/images/${r.id}/file`,
    schema: '/v2/schemas/image',
  };
}

export function memberView(m: MemberRecord): Record<string, unknown> {
  return {
    created_at: apiTime(m.created_at),
    image_id: m.image_id,
    member_id: m.member_id,
    schema: '/v2/schemas/member',
    status: m.status,
    updated_at: apiTime(m.updated_at),
  };
}
