/**
 * POST /servers/{id}/action: one key names the action; handlers live per group
 * (server-actions-power.ts, -resize.ts, -image.ts), the shared flow in server-action-flow.ts.
 */
import { invalid } from '../../errors.js';
import { API_PREFIX, bodyObject, type MountFn } from './common.js';
import type { ActionHandler } from './server-action-flow.js';
import { powerActions } from './server-actions-power.js';
import { resizeActions } from './server-actions-resize.js';
import { imageActions } from './server-actions-image.js';
import { own } from '../../util/own.js';

const handlers: Record<string, ActionHandler> = { ...powerActions, ...resizeActions, ...imageActions };

export const mountServerActions: MountFn = (router, deps) => {
  router.post(`${API_PREFIX}/servers/:id/action`, async (req) => {
    const body = bodyObject(req);
    const keys = Object.keys(body);
    if (keys.length !== 1) throw invalid('Malformed request body');
    const handler = own(handlers, keys[0]);
    if (!handler) throw invalid(`There is no such action: ${keys[0]}`);
    return handler(deps, req, body[keys[0]]);
  });
};

