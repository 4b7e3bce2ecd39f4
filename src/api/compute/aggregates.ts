/**
 * os-aggregates (admin only): host aggregates and, through their `availability_zone` metadata,
 * the availability zones of compute hosts. CRUD, the add_host / remove_host / set_metadata
 * actions, `uuid` in the view from 2.41 and the image-cache request from 2.81.
 *
 * Zone rules as Nova's: a host sits in one zone only (adding it to an aggregate of another zone
 * is a 409, giving an aggregate with hosts a zone their other aggregates contradict is a 400),
 * a zone cannot be emptied, and a zone cannot be renamed while instances run on its hosts.
 * Status codes follow Nova: create, update and the actions answer 200, delete 200 with no body.
 */
import { NovaError, conflict, invalid, notFound } from '../../errors.js';
import { SchedulerRpcApi } from '../../scheduler/rpcapi.js';
import type { Sql } from '../../db/sql.js';
import type { ApiRequest } from '../../http/types.js';
import { ctxOf } from '../../http/types.js';
import { S, validate } from '../../http/validate.js';
import { requireAdmin } from '../policy.js';
import { uuid } from '../../util/ids.js';
import { nowIso } from '../../util/time.js';
import { API_PREFIX, bodyObject, type MountFn } from './common.js';
import type { ComputeApiDeps } from './deps.js';
import { novaDbTime } from './service-state.js';
import {
  AZ_KEY,
  aggregateId,
  checkNameFree,
  conflictingZones,
  getAggregate,
  instancesOnHosts,
  isComputeHost,
  listAggregates,
  writeMetadata,
  type Aggregate,
} from './aggregate-store.js';
import { own } from '../../util/own.js';

const RULE = 'os_compute_api:os-aggregates';

/** Printable characters except ':' (it separates zone, host and node), no surrounding spaces. */
const azName = { type: ['string', 'null'], minLength: 1, maxLength: 255, pattern: '^(?![\\s])[^:]*(?<![\\s])$' };
const hostName = { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9-._]*$' };
const createSchema = {
  type: 'object',
  properties: {
    aggregate: {
      type: 'object',
      properties: { name: S.name, availability_zone: azName },
      required: ['name'],
      additionalProperties: false,
    },
  },
  required: ['aggregate'],
  additionalProperties: false,
};
const updateSchema = {
  type: 'object',
  properties: {
    aggregate: {
      type: 'object',
      properties: { name: { type: 'string', minLength: 1, maxLength: 255, pattern: '\\S' }, availability_zone: azName },
      additionalProperties: false,
    },
  },
  required: ['aggregate'],
  additionalProperties: false,
};
const hostSchema = { type: 'object', properties: { host: hostName }, required: ['host'], additionalProperties: false };
const metadataSchema = {
  type: 'object',
  properties: {
    metadata: {
      type: 'object',
      patternProperties: { '^[a-zA-Z0-9-_:. ]{1,255}$': { type: ['string', 'null'], maxLength: 255 } },
      additionalProperties: false,
    },
  },
  required: ['metadata'],
  additionalProperties: false,
};
const imagesSchema = {
  type: 'object',
  properties: {
    cache: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', properties: { id: S.uuid }, required: ['id'], additionalProperties: false },
    },
  },
  required: ['cache'],
  additionalProperties: false,
};

/** Nova's view of an aggregate; `uuid` from 2.41. Create omits hosts and metadata, as Nova does. */
export function aggregateView(req: ApiRequest, a: Aggregate, opts: { brief?: boolean } = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {
    availability_zone: a.metadata[AZ_KEY] ?? null,
    created_at: novaDbTime(a.created_at),
    deleted: false,
    deleted_at: null,
    id: a.id,
    name: a.name,
    updated_at: novaDbTime(a.updated_at),
  };
  if (!opts.brief) {
    out.hosts = a.hosts;
    out.metadata = a.metadata;
  }
  if (req.mv.atLeast('2.41')) out.uuid = a.uuid;
  return out;
}

/** Python's repr of a list of strings, as Nova's messages show zone lists. */
const pyList = (xs: string[]) => `[${xs.map((x) => `'${x}'`).join(', ')}]`;

/**
 * Nova's is_safe_to_update_az: checks that giving the aggregate (or the hosts about to join it)
 * the zone in `changes` keeps every host in one zone. `fail` builds the action's error.
 */
async function checkZoneChange(
  sql: Sql,
  a: Aggregate,
  changes: Record<string, string | null>,
  fail: (reason: string) => NovaError,
  opts: { hosts?: string[]; renameCheck: boolean },
): Promise<void> {
  if (!(AZ_KEY in changes)) return;
  const zone = changes[AZ_KEY];
  if (!zone) throw fail(`Aggregate ${a.name} does not support empty named availability zone`);
  const hosts = opts.hosts ?? a.hosts;
  const others = await conflictingZones(sql, a.id, hosts, zone);
  if (others.length) throw fail(`One or more hosts already in availability zone(s) ${pyList(others)}`);
  const current = a.metadata[AZ_KEY];
  if (opts.renameCheck && current !== undefined && current !== zone && (await instancesOnHosts(sql, hosts)) > 0)
    throw fail('One or more hosts contain instances in this zone.');
}

const updateFailure = (id: number) => (reason: string) => invalid(`Cannot update aggregate ${id}. Reason: ${reason}.`);
const metadataFailure = (id: number) => (reason: string) => invalid(`Cannot update metadata of aggregate ${id}. Reason: ${reason}.`);
const addFailure = (id: number) => (reason: string) => conflict(`Cannot add host to aggregate ${id}. Reason: ${reason}.`);

type ActionFn = (deps: ComputeApiDeps, req: ApiRequest, id: number, arg: unknown) => Promise<Aggregate>;

const actions: Record<string, ActionFn> = {
  /** Adds a compute host: 404 unknown host or aggregate, 409 already a member or zone conflict. */
  async add_host(deps, req, id, arg) {
    requireAdmin(ctxOf(req), `${RULE}:add_host`);
    const { host } = validate<{ host: string }>(hostSchema, arg);
    return deps.sql.tx(async (tx) => {
      if (!(await isComputeHost(tx, host))) throw notFound(`Compute host ${host} could not be found.`);
      const a = await getAggregate(tx, id);
      if (a.hosts.includes(host)) throw conflict(`Aggregate ${id} already has host ${host}.`);
      await checkZoneChange(tx, a, a.metadata, addFailure(id), { hosts: [host], renameCheck: false });
      await tx.run('INSERT INTO aggregate_hosts (aggregate_id, host) VALUES (?, ?)', [id, host]);
      return getAggregate(tx, id);
    });
  },

  /** Removes a member host: 404 when the aggregate or the membership does not exist. */
  async remove_host(deps, req, id, arg) {
    requireAdmin(ctxOf(req), `${RULE}:remove_host`);
    const { host } = validate<{ host: string }>(hostSchema, arg);
    return deps.sql.tx(async (tx) => {
      const a = await getAggregate(tx, id).catch((e: unknown) => {
        if (e instanceof NovaError && e.kind === 'NotFound') return undefined;
        throw e;
      });
      if (!a || !a.hosts.includes(host)) throw notFound(`Cannot remove host ${host} in aggregate ${id}`);
      await tx.run('DELETE FROM aggregate_hosts WHERE aggregate_id = ? AND host = ?', [id, host]);
      return getAggregate(tx, id);
    });
  },

  /** Merges metadata (null deletes a key); `availability_zone` moves the aggregate's hosts. */
  async set_metadata(deps, req, id, arg) {
    requireAdmin(ctxOf(req), `${RULE}:set_metadata`);
    const { metadata } = validate<{ metadata: Record<string, string | null> }>(metadataSchema, arg);
    return deps.sql.tx(async (tx) => {
      const a = await getAggregate(tx, id);
      await checkZoneChange(tx, a, metadata, metadataFailure(id), { renameCheck: true });
      await writeMetadata(tx, id, metadata);
      await tx.run('UPDATE aggregates SET updated_at = ? WHERE id = ?', [nowIso(), id]);
      return getAggregate(tx, id);
    });
  },
};

export const mountAggregates: MountFn = (router, deps) => {
  const { sql } = deps;
  const base = `${API_PREFIX}/os-aggregates`;

  router.get(base, async (req) => {
    requireAdmin(ctxOf(req), `${RULE}:index`);
    return { status: 200, body: { aggregates: (await listAggregates(sql)).map((a) => aggregateView(req, a)) } };
  });

  router.post(base, async (req) => {
    requireAdmin(ctxOf(req), `${RULE}:create`);
    const b = validate<{ aggregate: { name: string; availability_zone?: string | null } }>(createSchema, req.body).aggregate;
    const name = b.name.trim();
    const zone = b.availability_zone ? b.availability_zone.trim() : null;
    const a = await sql.tx(async (tx) => {
      await checkNameFree(tx, name);
      await tx.run('INSERT INTO aggregates (uuid, name, created_at) VALUES (?, ?, ?)', [uuid(), name, nowIso()]);
      const row = (await tx.get<{ id: number }>('SELECT id FROM aggregates WHERE name = ? AND deleted = 0', [name]))!;
      if (zone) await writeMetadata(tx, Number(row.id), { [AZ_KEY]: zone });
      return getAggregate(tx, Number(row.id));
    });
    return { status: 200, body: { aggregate: aggregateView(req, a, { brief: true }) } };
  });

  router.get(`${base}/:id`, async (req) => {
    requireAdmin(ctxOf(req), `${RULE}:show`);
    const a = await getAggregate(sql, aggregateId(req.params.id));
    return { status: 200, body: { aggregate: aggregateView(req, a) } };
  });

  router.put(`${base}/:id`, async (req) => {
    requireAdmin(ctxOf(req), `${RULE}:update`);
    const b = validate<{ aggregate: { name?: string; availability_zone?: string | null } }>(updateSchema, req.body).aggregate;
    if (b.name === undefined && b.availability_zone === undefined)
      throw invalid(`Invalid input for field/attribute aggregate. Value: ${JSON.stringify(b)}. ${JSON.stringify(b)} is not valid under any of the given schemas`);
    const id = aggregateId(req.params.id);
    const a = await sql.tx(async (tx) => {
      const cur = await getAggregate(tx, id);
      const now = nowIso();
      if (b.name !== undefined) {
        const name = b.name.trim();
        await checkNameFree(tx, name, id);
        await tx.run('UPDATE aggregates SET name = ?, updated_at = ? WHERE id = ?', [name, now, id]);
      }
      if (b.availability_zone !== undefined) {
        const changes = { [AZ_KEY]: b.availability_zone };
        await checkZoneChange(tx, cur, changes, updateFailure(id), { renameCheck: true });
        await writeMetadata(tx, id, changes);
        await tx.run('UPDATE aggregates SET updated_at = ? WHERE id = ?', [now, id]);
      }
      return getAggregate(tx, id);
    });
    if (b.availability_zone !== undefined) await new SchedulerRpcApi(deps.bus).hostsChanged();
    return { status: 200, body: { aggregate: aggregateView(req, a) } };
  });

  router.delete(`${base}/:id`, async (req) => {
    requireAdmin(ctxOf(req), `${RULE}:delete`);
    const id = aggregateId(req.params.id);
    await sql.tx(async (tx) => {
      const a = await getAggregate(tx, id);
      if (a.hosts.length > 0) throw invalid(`Cannot delete aggregate ${id}. Reason: Host aggregate is not empty.`);
      await tx.run('DELETE FROM aggregate_metadata WHERE aggregate_id = ?', [id]);
      await tx.run('UPDATE aggregates SET deleted = id, updated_at = ? WHERE id = ?', [nowIso(), id]);
    });
    return { status: 200 };
  });

  router.post(`${base}/:id/action`, async (req) => {
    const body = bodyObject(req);
    const keys = Object.keys(body);
    requireAdmin(ctxOf(req), `${RULE}:${keys[0] ?? 'action'}`);
    if (keys.length !== 1) throw invalid('Malformed request body');
    const fn = own(actions, keys[0]);
    if (!fn) throw invalid(`There is no such action: ${keys[0]}`);
    const a = await fn(deps, req, aggregateId(req.params.id), body[keys[0]]);
    await new SchedulerRpcApi(deps.bus).hostsChanged();
    return { status: 200, body: { aggregate: aggregateView(req, a) } };
  });

  /**
   * POST /os-aggregates/{id}/images (2.81): asks the aggregate's hosts to pre-cache images.
   * Validated like Nova (aggregate exists, images exist and are not repeated) and accepted;
   * caching itself is a no-op here: the fake driver has no image cache and the qemu driver
   * fetches base images on first spawn.
   */
  router.post(`${base}/:id/images`, async (req) => {
    const ctx = ctxOf(req);
    if (!req.mv.atLeast('2.81')) throw notFound('The resource could not be found.');
    requireAdmin(ctx, `${RULE}:images`);
    const { cache } = validate<{ cache: { id: string }[] }>(imagesSchema, req.body);
    await getAggregate(sql, aggregateId(req.params.id));
    const ids = cache.map((c) => c.id);
    if (new Set(ids).size !== ids.length) throw invalid('Duplicate images in request');
    for (const imageId of ids) {
      try {
        await deps.images.show(ctx, imageId);
      } catch (e) {
        if (e instanceof NovaError && e.kind === 'NotFound') throw invalid(`Image ${imageId} could not be found.`);
        throw e;
      }
    }
    return { status: 202 };
  });
};
