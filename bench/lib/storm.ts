/**
 * What every boot-storm benchmark does before its phases (bench/boot-storm.ts on the all-in-one,
 * bench/cluster-storm.ts on the cluster too): find the endpoints, raise admin's quota to
 * unlimited, look up the flavor and image, and name the servers of one storm.
 */
import { randomBytes } from 'node:crypto';
import type { Session } from './openstack.js';

export interface Storm {
  /** The catalog's public compute endpoint. */
  compute: string;
  flavorId: string;
  imageId: string;
  /** Server names are `<prefix>-00000`...; the delete phase finds what is left by it. */
  prefix: string;
  /** The POST /servers body of server i (no network, as the reference). */
  body(i: number): Record<string, unknown>;
}

/** Prepares a storm on the cloud of `s`; throws naming what was not found or refused. */
export async function prepareStorm(s: Session, want: { flavor: string; image: string }): Promise<Storm> {
  const compute = s.endpoint('compute');
  let image = s.endpoint('image');
  if (!/\/v2$/.test(image)) image += '/v2';
  const q = await s.req('PUT', `${compute}/os-quota-sets/${s.projectId}`, { quota_set: { instances: -1, cores: -1, ram: -1 } });
  if (q.status !== 200) throw new Error(`raising admin's quota failed: PUT os-quota-sets -> ${q.status} ${JSON.stringify(q.body)}`);
  const fl = await s.req('GET', `${compute}/flavors/detail`);
  const flavorId = fl.body?.flavors?.find((f: any) => f.id === want.flavor || f.name === want.flavor)?.id;
  const im = await s.req('GET', `${image}/images?limit=1000`);
  const imageId = im.body?.images?.find((i: any) => i.id === want.image || i.name === want.image)?.id;
  if (!flavorId || !imageId) throw new Error(`flavor ${want.flavor} -> ${flavorId} (${fl.status}), image ${want.image} -> ${imageId} (${im.status})`);
  const prefix = `storm-${randomBytes(3).toString('hex')}`;
  return {
    compute,
    flavorId,
    imageId,
    prefix,
    body: (i) => ({ name: `${prefix}-${String(i).padStart(5, '0')}`, flavorRef: flavorId, imageRef: imageId, networks: 'none' }),
  };
}
