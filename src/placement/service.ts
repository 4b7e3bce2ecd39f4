/** The read-only Placement API's router (see api.ts), mounted by cloud.ts at `/placement`. */
import { Router } from '../http/router.js';
import type { Sql } from '../db/sql.js';
import { mountPlacement } from './api.js';

export function createPlacementApi(deps: { sql: Sql }): Router {
  const router = new Router('placement');
  mountPlacement(router, deps);
  return router;
}
