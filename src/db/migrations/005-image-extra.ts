import type { Migration } from '../migrate.js';

/**
 * Image extras: a row per extra property so property filters (`GET /v2/images?os_distro=x`)
 * are indexed lookups, and indexes for every other filter and sort key the Image API accepts.
 * `images.properties` keeps the same key/value pairs as JSON for rendering; both are written
 * together by src/image/repo.ts.
 */
export const image005: Migration = {
  id: '005-image-extra',
  up: () => `
CREATE TABLE image_properties (
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE, name TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (image_id, name));
CREATE INDEX image_properties_name_value ON image_properties (name, value);
CREATE INDEX image_tags_tag ON image_tags (tag);
CREATE INDEX image_members_member_status ON image_members (member_id, status);
CREATE INDEX images_status ON images (status);
CREATE INDEX images_visibility ON images (visibility, deleted);
CREATE INDEX images_updated ON images (updated_at);
CREATE INDEX images_disk_format ON images (disk_format);
CREATE INDEX images_container_format ON images (container_format);
CREATE INDEX images_size ON images (size);
`,
};
