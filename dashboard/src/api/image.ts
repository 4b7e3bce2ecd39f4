/** The Image API (Glance v2) as the dashboard uses it; base = session.endpoints.image. */
import { getJson, query, request } from './http';

export interface Image {
  id: string;
  name: string | null;
  status: string;
  visibility: string;
  size?: number | null;
  disk_format?: string | null;
  container_format?: string | null;
  min_disk?: number;
  min_ram?: number;
  owner?: string;
  created_at: string;
  updated_at?: string;
  protected?: boolean;
  [k: string]: unknown;
}

export interface ListImagesOptions {
  status?: string;
  visibility?: string;
  limit?: number;
  sortKey?: string;
  sortDir?: 'asc' | 'desc';
}

/** Every image the project can see (follows Glance's `next` links). */
export async function listImages(base: string, o: ListImagesOptions = {}): Promise<Image[]> {
  const out: Image[] = [];
  let url: string | null = `${base}/v2/images${query({ status: o.status, visibility: o.visibility, limit: o.limit ?? 200, sort_key: o.sortKey, sort_dir: o.sortDir })}`;
  while (url) {
    const body: { images: Image[]; next?: string } = await getJson(url);
    out.push(...body.images);
    url = body.next ? `${base}${body.next}` : null;
  }
  return out;
}

export async function getImage(base: string, id: string): Promise<Image> {
  return getJson<Image>(`${base}/v2/images/${encodeURIComponent(id)}`);
}

export async function deleteImage(base: string, id: string): Promise<void> {
  await request(`${base}/v2/images/${encodeURIComponent(id)}`, { method: 'DELETE' });
}
