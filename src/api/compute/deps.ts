import type { Bus } from '../../bus/bus.js';
import type { Config } from '../../config.js';
import type { Sql } from '../../db/sql.js';
import type { ImageApi } from '../../image/service.js';

export interface ComputeApiDeps {
  sql: Sql;
  bus: Bus;
  images: ImageApi;
  identity: { projectExists(id: string): Promise<boolean> };
  config: Config;
}
