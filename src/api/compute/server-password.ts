/**
 * os-server-password: the encrypted administrator password a guest posted to the metadata
 * service, kept in the instance's system metadata in 255-character chunks password_0..3 (as
 * Nova). GET returns it ('' when the guest posted none); DELETE clears it (204) and is
 * idempotent. Neither changes the guest.
 */
import { updateInstance } from '../../db/instances.js';
import { json } from '../../db/sql.js';
import { ctxOf } from '../../http/types.js';
import { requireWriter } from '../policy.js';
import { API_PREFIX, type MountFn } from './common.js';
import { loadServer } from './server-access.js';

const CHUNKS = 4;
const chunkKey = (i: number) => `password_${i}`;

/** The stored password: the chunks joined in order, '' when none. */
export function passwordOf(systemMetadata: Record<string, string>): string {
  let out = '';
  for (let i = 0; i < CHUNKS; i++) out += systemMetadata[chunkKey(i)] ?? '';
  return out;
}

export const mountServerPassword: MountFn = (router, deps) => {
  const P = `${API_PREFIX}/servers/:id/os-server-password`;
  router.get(P, async (req) => {
    const row = await loadServer(deps.sql, ctxOf(req), req.params.id);
    return { status: 200, body: { password: passwordOf(json<Record<string, string>>(row.system_metadata, {})) } };
  });
  router.delete(P, async (req) => {
    const ctx = ctxOf(req);
    requireWriter(ctx, 'os_compute_api:os-server-password:clear');
    const row = await loadServer(deps.sql, ctx, req.params.id);
    const sys = json<Record<string, string>>(row.system_metadata, {});
    if (Array.from({ length: CHUNKS }, (_, i) => chunkKey(i)).some((k) => k in sys)) {
      for (let i = 0; i < CHUNKS; i++) delete sys[chunkKey(i)];
      await updateInstance(deps.sql, row.uuid, { system_metadata: JSON.stringify(sys) });
    }
    return { status: 204 };
  });
};
