/** The Block Storage API (Cinder v3 subset) as the dashboard uses it; base = session.endpoints.volume (it ends in the project id). */
import { getJson, request } from './http';

export interface Volume {
  id: string;
  name: string | null;
  status: string;
  size: number;
  availability_zone: string;
  bootable: string;
  volume_type: string | null;
  description: string | null;
  created_at: string;
  attachments: { server_id: string; attachment_id: string; device: string; id: string }[];
}

export async function listVolumes(base: string): Promise<Volume[]> {
  return (await getJson<{ volumes: Volume[] }>(`${base}/volumes/detail`)).volumes;
}

export async function getVolume(base: string, id: string): Promise<Volume> {
  return (await getJson<{ volume: Volume }>(`${base}/volumes/${encodeURIComponent(id)}`)).volume;
}

export async function createVolume(base: string, volume: { size: number; name?: string; imageRef?: string; availability_zone?: string; volume_type?: string; description?: string }): Promise<Volume> {
  return (await request<{ volume: Volume }>(`${base}/volumes`, { method: 'POST', body: { volume } })).body.volume;
}

export async function deleteVolume(base: string, id: string): Promise<void> {
  await request(`${base}/volumes/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

/** Cinder's absolute limits of the project (maxTotalVolumes, totalVolumesUsed, maxTotalVolumeGigabytes, totalGigabytesUsed, ...). */
export async function volumeLimits(base: string): Promise<Record<string, number>> {
  return (await getJson<{ limits: { absolute: Record<string, number> } }>(`${base}/limits`)).limits.absolute;
}
