/**
 * POST /servers/{id}/action: one key names the action; handlers live per group
 * (server-actions-power.ts, -resize.ts, -image.ts, -evacuate.ts), the shared flow in server-action-flow.ts.
 */
import { invalid } from '../../errors.js';
import { ctxOf } from '../../http/types.js';
import { loadServer } from './server-access.js';
import { API_PREFIX, bodyObject, type MountFn } from './common.js';
import type { ActionHandler } from './server-action-flow.js';
import { powerActions } from './server-actions-power.js';
import { resizeActions } from './server-actions-resize.js';
import { imageActions } from './server-actions-image.js';
import { securityGroupActions } from './server-actions-secgroups.js';
import { shelveActions } from './server-actions-shelve.js';
import { consoleActions } from './remote-consoles.js';
import { evacuateActions } from './server-actions-evacuate.js';
import { own } from '../../util/own.js';

const handlers: Record<string, ActionHandler> = { ...powerActions, ...resizeActions, ...imageActions, ...securityGroupActions, ...shelveActions, ...consoleActions, ...evacuateActions };

/**
 * Nova actions nova-ts does not offer yet. They answer 404 for a server the caller cannot see
 * (as Nova would) and otherwise 400 saying so, rather than a bare "There is no such action".
 */
const NOT_YET = new Set([
  'rescue', 'unrescue', 'migrate', 'os-migrateLive',
  'changePassword', 'createBackup', 'addFixedIp', 'removeFixedIp',
  'addFloatingIp', 'removeFloatingIp', 'trigger_crash_dump', 'injectNetworkInfo', 'resetNetwork',
]);

export const mountServerActions: MountFn = (router, deps) => {
  router.post(`${API_PREFIX}/servers/:id/action`, async (req) => {
    const body = bodyObject(req);
    const keys = Object.keys(body);
    if (keys.length !== 1) throw invalid('Malformed request body');
    const handler = own(handlers, keys[0]);
    if (!handler && NOT_YET.has(keys[0])) {
      await loadServer(deps.sql, ctxOf(req), req.params.id);
      throw invalid(`There is no such action: ${keys[0]} is not available in nova-ts yet.`);
    }
    if (!handler) throw invalid(`There is no such action: ${keys[0]}`);
    return handler(deps, req, body[keys[0]]);
  });
};

