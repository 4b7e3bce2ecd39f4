/** The Image API (Glance v2) as the dashboard uses it; base = session.endpoints.image. */
import { ApiError, faultMessage, getJson, query, request } from './http';

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

/** Creates an image record (status queued); its data follows with uploadImageFile. */
export async function createImage(base: string, image: { name: string; disk_format: string; container_format: string; visibility?: string; min_disk?: number; min_ram?: number }): Promise<Image> {
  return (await request<Image>(`${base}/v2/images`, { method: 'POST', body: image })).body;
}

/**
 * PUT /v2/images/{id}/file with the file's bytes, reporting progress (0..1) as it goes. Uses
 * XMLHttpRequest (fetch reports no upload progress); the token is the session's.
 */
export function uploadImageFile(base: string, id: string, file: Blob, token: string, onProgress?: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', `${base}/v2/images/${encodeURIComponent(id)}/file`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.setRequestHeader('x-auth-token', token);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      let body: unknown = xhr.responseText;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* plain text */
      }
      reject(new ApiError(xhr.status, faultMessage(xhr.status, body, 'The image upload failed'), body));
    };
    xhr.onerror = () => reject(new ApiError(0, 'The image upload could not reach the cloud.'));
    xhr.send(file);
  });
}
