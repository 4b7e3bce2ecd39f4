/**
 * Shared guards of the server APIs: loading a server as the caller may see it, Nova's
 * lock and state checks, and the way casts to a compute host get the instance payload.
 */
import { conflict, invalidState, notFound } from '../../errors.js';
import { getInstance, type InstanceRow } from '../../db/instances.js';
import type { Sql } from '../../db/sql.js';
import type { RequestContext } from '../../http/types.js';
import { ownsOrAdmin } from '../policy.js';
import { isUuidLike } from '../../util/ids.js';
import type { ImageMeta, InstancePayload } from '../../virt/driver.js';
import type { ImageView } from '../../image/service.js';
import { instancePayload } from '../../conductor/payload.js';

/**
 * The server if ctx may see it; NotFound in Nova's words otherwise (other projects' servers
 * are 404, never 403). readDeleted also finds soft-deleted rows (instance actions).
 */
export async function loadServer(sql: Sql, ctx: RequestContext, id: string, opts: { readDeleted?: boolean } = {}): Promise<InstanceRow> {
  if (!isUuidLike(id)) throw notFound(`Instance ${id} could not be found.`);
  const row = await getInstance(sql, id, opts).catch(() => undefined);
  if (!row || !ownsOrAdmin(ctx, row.project_id)) throw notFound(`Instance ${id} could not be found.`);
  return row;
}

/** Nova's check_instance_lock: 409 for a locked server unless the caller is an admin. */
export function checkNotLocked(ctx: RequestContext, row: InstanceRow): void {
  if (row.locked && !ctx.isAdmin) throw conflict(`Instance ${row.uuid} is locked`);
}

/**
 * Nova's check_instance_state: vmStates (undefined: any) and taskStates (undefined: any;
 * the default of most actions is [null]). 409 naming the state that blocked the action.
 */
export function checkState(
  row: InstanceRow,
  action: string,
  vmStates: string[] | undefined,
  taskStates: (string | null)[] | undefined = [null],
): void {
  if (vmStates && !vmStates.includes(row.vm_state)) throw invalidState(action, row.uuid, 'vm_state', row.vm_state);
  if (taskStates && !taskStates.includes(row.task_state)) throw invalidState(action, row.uuid, 'task_state', String(row.task_state));
}

/** The instance payload for ComputeRpcApi casts (built by the conductor's payload module). */
export function payloadOf(sql: Sql, row: InstanceRow, opts: { image?: ImageMeta | null } = {}): Promise<InstancePayload> {
  return instancePayload(sql, row, opts);
}

const STANDARD_IMAGE_FIELDS = new Set([
  'id', 'name', 'status', 'visibility', 'protected', 'os_hidden', 'checksum', 'os_hash_algo', 'os_hash_value', 'owner', 'size',
  'virtual_size', 'min_ram', 'min_disk', 'disk_format', 'container_format', 'created_at', 'updated_at', 'tags', 'self', 'file',
  'schema', 'direct_url', 'locations', 'stores',
]);

/** An image as the compute host sees it, from the Image API's view. */
export function imageMetaOfView(image: ImageView): ImageMeta {
  const properties: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(image)) if (!STANDARD_IMAGE_FIELDS.has(k)) properties[k] = v;
  return {
    id: image.id,
    name: image.name ?? null,
    disk_format: (image.disk_format as string | undefined) ?? null,
    container_format: (image.container_format as string | undefined) ?? null,
    size: (image.size as number | undefined) ?? null,
    min_disk: Number(image.min_disk ?? 0),
    min_ram: Number(image.min_ram ?? 0),
    properties,
  };
}
