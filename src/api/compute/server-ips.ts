/**
 * Server addresses (/servers/{id}/ips and /ips/{network}), from the instance's network_info,
 * in the `addresses` shape of the server view (without the OS-EXT-IPS keys, as Nova).
 */
import { notFound } from '../../errors.js';
import { ctxOf } from '../../http/types.js';
import { API_PREFIX, type MountFn } from './common.js';
import { loadServer } from './server-access.js';
import { addressesOf } from './server-view.js';

function plain(list: unknown[]) {
  return (list as { version: number; addr: string }[]).map((a) => ({ version: a.version, addr: a.addr }));
}

export const mountServerIps: MountFn = (router, deps) => {
  router.get(`${API_PREFIX}/servers/:id/ips`, async (req) => {
    const row = await loadServer(deps.sql, ctxOf(req), req.params.id);
    const addresses = Object.fromEntries(Object.entries(addressesOf(row)).map(([k, v]) => [k, plain(v)]));
    return { status: 200, body: { addresses } };
  });
  router.get(`${API_PREFIX}/servers/:id/ips/:network`, async (req) => {
    const row = await loadServer(deps.sql, ctxOf(req), req.params.id);
    const all = addressesOf(row);
    if (!Object.hasOwn(all, req.params.network)) throw notFound('Instance is not a member of specified network');
    return { status: 200, body: { [req.params.network]: plain(all[req.params.network]) } };
  });
};
