/**
 * What creating, resizing and rebuilding a server look up elsewhere: flavors (read directly
 * from the flavors tables), key pairs, availability zones and images. Each lookup answers the
 * 400 Nova gives for a bad reference in a server request.
 */
import { invalid, isNovaError } from '../../errors.js';
import type { Sql } from '../../db/sql.js';
import type { RequestContext } from '../../http/types.js';
import type { FlavorSnapshot } from '../../objects/flavor.js';
import type { ComputeApiDeps } from './deps.js';
import type { ImageView } from '../../image/service.js';
import { canSeeFlavor, flavorSnapshot, getFlavorRow } from './flavor-store.js';


/** The flavor id of a flavorRef, which may be an id or a URL ending in it. */
export function flavorIdOfRef(ref: string | number): string {
  const s = String(ref);
  return s.includes('/') ? s.replace(/\/+$/, '').split('/').pop()! : s;
}

/**
 * The flavor a project may boot (public, or private with access; admins see all), as the
 * snapshot recorded on the instance. 400 "Flavor X could not be found." otherwise, and 400
 * when it is disabled.
 */
export async function flavorForBoot(sql: Sql, ctx: RequestContext, ref: string | number): Promise<FlavorSnapshot> {
  const id = flavorIdOfRef(ref);
  const f = await findFlavor(sql, ctx, id);
  if (!f) throw invalid(`Flavor ${id} could not be found.`);
  if (f.disabled) throw invalid(`Flavor ${id} could not be found.`);
  return f.snapshot;
}

/** The flavor by flavorid if ctx may see it, or undefined. */
export async function findFlavor(sql: Sql, ctx: RequestContext, flavorid: string): Promise<{ snapshot: FlavorSnapshot; disabled: boolean } | undefined> {
  const row = await getFlavorRow(sql, flavorid);
  if (!row || !(await canSeeFlavor(sql, ctx, row))) return undefined;
  return { disabled: !!row.disabled, snapshot: await flavorSnapshot(sql, row) };
}

/** The public key of the user's key pair; 400 "Invalid key_name provided." when missing. */
export async function keyPairData(sql: Sql, userId: string, name: string): Promise<string> {
  const kp = await sql.get<{ public_key: string }>('SELECT public_key FROM key_pairs WHERE user_id = ? AND name = ?', [userId, name]);
  if (!kp) throw invalid('Invalid key_name provided.');
  return kp.public_key;
}

/** Availability zones that exist: the default zone and every zone named on an aggregate. */
export async function availabilityZones(deps: ComputeApiDeps): Promise<Set<string>> {
  const rows = await deps.sql.all<{ value: string }>(
    "SELECT DISTINCT m.value FROM aggregate_metadata m JOIN aggregates a ON a.id = m.aggregate_id WHERE a.deleted = 0 AND m.key = 'availability_zone'",
  );
  return new Set([deps.config.compute.defaultAvailabilityZone, ...rows.map((r) => r.value)]);
}

/**
 * The image a server is built from, as ctx sees it: 400 "Image X could not be found." when
 * missing or invisible, 400 when not active.
 */
export async function imageForBoot(deps: ComputeApiDeps, ctx: RequestContext, id: string): Promise<ImageView> {
  let image: ImageView;
  try {
    image = await deps.images.show(ctx, id);
  } catch (e) {
    if (isNovaError(e) && e.kind === 'NotFound') throw invalid(`Image ${id} could not be found.`);
    throw e;
  }
  if (image.status !== 'active') throw invalid(`Image ${id} is not active.`);
  return image;
}

/** Nova's checks of a flavor against an image's min_ram/min_disk (and the flavor's own disk). */
export function checkFlavorFitsImage(flavor: FlavorSnapshot, image: ImageView): void {
  const minRam = Number(image.min_ram ?? 0);
  const minDisk = Number(image.min_disk ?? 0);
  if (minRam > flavor.memory_mb) throw invalid("Flavor's memory is too small for requested image.");
  if (flavor.root_gb > 0) {
    if (minDisk > flavor.root_gb) throw invalid("Flavor's disk is too small for requested image.");
    const size = Number(image.size ?? 0);
    if (size > flavor.root_gb * 1024 ** 3)
      throw invalid(`Flavor's disk is too small for requested image. Flavor disk is ${flavor.root_gb * 1024 ** 3} bytes, image is ${size} bytes.`);
  }
}
