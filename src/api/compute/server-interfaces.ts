/**
 * os-interface (Nova's attach_interfaces): a server's ports as interface attachments. List and
 * show read the network service; attach and detach are calls to the server's compute host
 * (ComputeRpcApi 1.2), which makes or binds the port, plugs it and hot-plugs the NIC, and answers
 * only when done, so the reply carries the new interface. Allowed while the server is ACTIVE,
 * PAUSED or STOPPED with no task (Nova's check_instance_state), never on a locked server
 * unless admin. Tags (2.49 attach, 2.70 views) are kept in the instance's system metadata,
 * and for ports made at create from its requested networks.
 */
import { conflict, invalid, isNovaError, notFound, notImplemented, type NovaError } from '../../errors.js';
import { json } from '../../db/sql.js';
import { startAction, updateInstance, type InstanceRow } from '../../db/instances.js';
import { ctxOf, type ApiRequest, type ApiResponse, type RequestContext } from '../../http/types.js';
import { S, validate } from '../../http/validate.js';
import { ComputeRpcApi } from '../../compute/rpcapi.js';
import { VmState as V } from '../../compute/vm-states.js';
import type { NetworkApi, NeutronView, RequestedNetworks } from '../../network/client.js';
import type { Vif } from '../../network/types.js';
import { requireWriter } from '../policy.js';
import { API_PREFIX, type MountFn } from './common.js';
import type { ComputeApiDeps } from './deps.js';
import { checkNotLocked, checkState, loadServer, payloadOf } from './server-access.js';
import { AMBIGUOUS_NETWORK, availableNetworks, checkFixedIp, NETWORKING_UNAVAILABLE } from './server-networks.js';
import { TAG } from './server-schemas.js';

const ALLOWED_STATES = [V.ACTIVE, V.PAUSED, V.STOPPED];
/** System metadata key holding the tag of an attached interface. */
const tagKey = (portId: string) => `interface_tag:${portId}`;

const attachSchemas = new Map<boolean, object>();
function attachSchema(withTag: boolean): object {
  let s = attachSchemas.get(withTag);
  if (s) return s;
  const props: Record<string, unknown> = {
    net_id: S.uuid,
    port_id: S.uuid,
    fixed_ips: {
      type: 'array', minItems: 1, maxItems: 1,
      items: {
        type: 'object',
        properties: { ip_address: { type: 'string', oneOf: [{ format: 'ipv4' }, { format: 'ipv6' }] } },
        required: ['ip_address'],
        additionalProperties: false,
      },
    },
  };
  if (withTag) props.tag = TAG;
  s = {
    type: 'object',
    properties: { interfaceAttachment: { type: 'object', properties: props, additionalProperties: false } },
    additionalProperties: false,
  };
  attachSchemas.set(withTag, s);
  return s;
}

type Attachment = { net_id?: string; port_id?: string; fixed_ips?: { ip_address: string }[]; tag?: string };

/** Nova's _translate_interface_attachment_view; tag only from 2.70. */
function attachmentView(req: ApiRequest, port: NeutronView, tag: string | null): Record<string, unknown> {
  const v: Record<string, unknown> = {
    net_id: port.network_id,
    port_id: port.id,
    mac_addr: port.mac_address,
    port_state: port.status,
    fixed_ips: port.fixed_ips ?? null,
  };
  if (req.mv.atLeast('2.70')) v.tag = tag;
  return v;
}

/**
 * The tag of each of the server's ports: attach-time tags from system metadata, else the tag
 * of the requested network entry that made the port (by port id, or by network for entries
 * naming a network, in order).
 */
function interfaceTags(row: InstanceRow, ports: NeutronView[]): Map<string, string | null> {
  const sysmeta = json<Record<string, string>>(row.system_metadata, {});
  const requested = json<RequestedNetworks>(row.requested_networks, 'auto');
  const entries = Array.isArray(requested) ? requested.filter((r) => r.tag !== undefined) : [];
  const out = new Map<string, string | null>();
  for (const p of ports) {
    const own = sysmeta[tagKey(p.id)];
    const byPort = entries.findIndex((r) => r.port === p.id);
    const byNet = byPort >= 0 ? -1 : entries.findIndex((r) => !r.port && r.uuid === p.network_id);
    const i = own !== undefined ? -1 : byPort >= 0 ? byPort : byNet;
    out.set(p.id, own ?? (i >= 0 ? entries[i].tag! : null));
    if (i >= 0) entries.splice(i, 1);
  }
  return out;
}

function networkApi(deps: ComputeApiDeps): NetworkApi {
  if (!deps.network) throw notImplemented(NETWORKING_UNAVAILABLE);
  return deps.network.api;
}

/** Runs fn; a NotFound from the network service becomes err (other errors pass). */
async function mapNotFound<T>(fn: () => Promise<T>, err: () => NovaError): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw isNovaError(e) && e.kind === 'NotFound' ? err() : e;
  }
}

async function setTag(deps: ComputeApiDeps, uuid: string, portId: string, tag: string | undefined): Promise<void> {
  await deps.sql.tx(async (tx) => {
    const cur = await tx.get<{ system_metadata: string }>('SELECT system_metadata FROM instances WHERE uuid = ?', [uuid]);
    const md = json<Record<string, string>>(cur?.system_metadata, {});
    if (tag === undefined && !(tagKey(portId) in md)) return;
    if (tag === undefined) delete md[tagKey(portId)];
    else md[tagKey(portId)] = tag;
    await updateInstance(tx, uuid, { system_metadata: JSON.stringify(md) });
  });
}

/**
 * Settles which port to attach: the user's port (visible, unbound), or a new one on net_id
 * (visible; fixed IP in a subnet and free), or on the project's only available network.
 */
async function resolveTarget(deps: ComputeApiDeps, ctx: RequestContext, row: InstanceRow, a: Attachment) {
  const api = networkApi(deps);
  const fixedIp = a.fixed_ips?.[0]?.ip_address;
  if (a.net_id && a.port_id) throw invalid('Must not input both network_id and port_id');
  if (fixedIp !== undefined && !a.net_id) throw invalid('Must input network_id when request IP address');
  if (a.port_id) {
    const port = await mapNotFound(() => api.showPort(ctx, a.port_id!), () => notFound(`Port id ${a.port_id} could not be found.`));
    if (port.device_id) throw conflict(`Port ${a.port_id} is still in use.`);
    return { port_id: a.port_id };
  }
  let netId = a.net_id;
  if (netId) {
    await mapNotFound(() => api.showNetwork(ctx, netId!), () => notFound(`Network ${netId} could not be found.`));
  } else {
    const nets = await availableNetworks(api, ctx, row.project_id);
    if (nets.length === 0) throw invalid(`No specific network was requested and none are available for project '${row.project_id}'.`);
    if (nets.length > 1) throw invalid(AMBIGUOUS_NETWORK);
    netId = nets[0].id;
  }
  if (fixedIp !== undefined) await checkFixedIp(deps.sql, netId, fixedIp, conflict);
  return { net_id: netId, ...(fixedIp !== undefined ? { fixed_ip: fixedIp } : {}) };
}

async function list(deps: ComputeApiDeps, req: ApiRequest): Promise<ApiResponse> {
  const ctx = ctxOf(req);
  const row = await loadServer(deps.sql, ctx, req.params.id);
  const ports = await networkApi(deps).listPorts(ctx, { device_id: row.uuid });
  const tags = interfaceTags(row, ports);
  return { status: 200, body: { interfaceAttachments: ports.map((p) => attachmentView(req, p, tags.get(p.id) ?? null)) } };
}

async function showPortOf(deps: ComputeApiDeps, req: ApiRequest, row: InstanceRow, portId: string): Promise<Record<string, unknown>> {
  const ctx = ctxOf(req);
  const port = await mapNotFound(() => networkApi(deps).showPort(ctx, portId), () => notFound(`Port id ${portId} could not be found.`));
  if (port.device_id !== row.uuid) throw notFound(`Instance ${row.uuid} does not have a port with id ${portId}`);
  const tags = interfaceTags(await loadServer(deps.sql, ctx, row.uuid), [port]);
  return attachmentView(req, port, tags.get(port.id) ?? null);
}

async function show(deps: ComputeApiDeps, req: ApiRequest): Promise<ApiResponse> {
  const row = await loadServer(deps.sql, ctxOf(req), req.params.id);
  return { status: 200, body: { interfaceAttachment: await showPortOf(deps, req, row, req.params.port_id) } };
}

async function attach(deps: ComputeApiDeps, req: ApiRequest): Promise<ApiResponse> {
  const ctx = ctxOf(req);
  requireWriter(ctx, 'os_compute_api:os-attach-interfaces:create');
  const row = await loadServer(deps.sql, ctx, req.params.id);
  const body = validate<{ interfaceAttachment?: Attachment }>(attachSchema(req.mv.atLeast('2.49')), req.body ?? {});
  const a = body.interfaceAttachment ?? {};
  networkApi(deps);
  checkNotLocked(ctx, row);
  checkState(row, 'attach_interface', ALLOWED_STATES, [null]);
  if (!row.host) throw conflict(`Instance ${row.uuid} is not ready`);
  const target = await resolveTarget(deps, ctx, row, a);
  await startAction(deps.sql, { uuid: row.uuid, action: 'attach_interface', requestId: req.requestId, userId: ctx.userId, projectId: row.project_id });
  const vif: Vif = await new ComputeRpcApi(deps.bus).attachInterface(row.host, {
    instance: await payloadOf(deps.sql, row),
    request_id: req.requestId,
    ...target,
  });
  if (a.tag !== undefined) await setTag(deps, row.uuid, vif.id, a.tag);
  return { status: 200, body: { interfaceAttachment: await showPortOf(deps, req, row, vif.id) } };
}

async function detach(deps: ComputeApiDeps, req: ApiRequest): Promise<ApiResponse> {
  const ctx = ctxOf(req);
  requireWriter(ctx, 'os_compute_api:os-attach-interfaces:delete');
  const row = await loadServer(deps.sql, ctx, req.params.id);
  networkApi(deps);
  checkNotLocked(ctx, row);
  checkState(row, 'detach_interface', ALLOWED_STATES, [null]);
  const portId = req.params.port_id;
  const attached = json<Vif[]>(row.network_info, []).some((v) => v.id === portId);
  if (!attached || !row.host) throw notFound(`Port ${portId} is not attached`);
  await startAction(deps.sql, { uuid: row.uuid, action: 'detach_interface', requestId: req.requestId, userId: ctx.userId, projectId: row.project_id });
  await new ComputeRpcApi(deps.bus).detachInterface(row.host, { instance: await payloadOf(deps.sql, row), request_id: req.requestId, port_id: portId });
  await setTag(deps, row.uuid, portId, undefined);
  return { status: 202 };
}

export const mountServerInterfaces: MountFn = (router, deps) => {
  const P = `${API_PREFIX}/servers/:id/os-interface`;
  router.get(P, (req) => list(deps, req));
  router.post(P, (req) => attach(deps, req));
  router.get(`${P}/:port_id`, (req) => show(deps, req));
  router.delete(`${P}/:port_id`, (req) => detach(deps, req));
};
