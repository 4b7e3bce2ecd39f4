/**
 * Remote consoles (Nova's os-remote-consoles): `POST /servers/{id}/remote-consoles` (2.6+) and
 * the older actions os-getVNCConsole, os-getSerialConsole, os-getSPICEConsole and
 * os-getRDPConsole (2.1 to 2.5; 404 from 2.6 on, as in Nova).
 *
 * nova-ts serves VNC through noVNC (protocol vnc, type novnc) and the first serial port
 * (protocol serial, type serial). The compute host says where the guest's console is
 * (get_console_connect_info); the API then issues a console token bound to that instance and
 * console and answers a URL of the console proxy carrying it:
 *   novnc:  <proxy>/vnc_lite.html?path=%3Ftoken%3D<T>%26instance_uuid%3D<U>
 *   serial: ws(s)://<proxy host:port>/?token=<T>&instance_uuid=<U>
 * Errors as Nova: unknown server 404; a server whose guest is not running 409 ("Instance <uuid>
 * is not ready"); a console type nova-ts does not serve 400 ("Unavailable console type <t>.");
 * a type that does not belong to its protocol 400 ("Invalid console type <t>"). Locked servers
 * are fine. Policy os_compute_api:os-remote-consoles: the owner (not a reader) or an admin.
 */
import { conflict, invalid, invalidState, isNovaError, notFound, notImplemented } from '../../errors.js';
import { ctxOf, type ApiRequest, type ApiResponse } from '../../http/types.js';
import { validate } from '../../http/validate.js';
import { ComputeRpcApi } from '../../compute/rpcapi.js';
import { TaskState as T, VmState as V } from '../../compute/vm-states.js';
import { ConsoleTokenStore } from '../../console/token-store.js';
import type { ConsoleType } from '../../console/types.js';
import type { InstanceRow } from '../../db/instances.js';
import { requireWriter } from '../policy.js';
import { API_PREFIX, bodyObject, type MountFn } from './common.js';
import type { ComputeApiDeps } from './deps.js';
import type { ActionHandler } from './server-action-flow.js';
import { loadServer, payloadOf } from './server-access.js';

export const REMOTE_CONSOLES_POLICY = 'os_compute_api:os-remote-consoles';

/** The console type nova-ts serves for each protocol it serves. */
const SERVED: Record<string, ConsoleType> = { vnc: 'novnc', serial: 'serial' };

/** vm_states in which the guest runs, so its consoles can be reached. */
const RUNNING: readonly string[] = [V.ACTIVE, V.PAUSED, V.RESCUED];
/** Nova's reject_instance_state on the get_*_console calls. */
const REJECT_TASKS: readonly (string | null)[] = [T.DELETING, T.MIGRATING];

const remoteConsoleSchema = (protocols: string[], types: string[]) => ({
  type: 'object',
  properties: {
    remote_console: {
      type: 'object',
      properties: {
        protocol: { type: 'string', enum: protocols },
        type: { type: 'string', enum: types },
      },
      required: ['protocol', 'type'],
      additionalProperties: false,
    },
  },
  required: ['remote_console'],
  additionalProperties: false,
});

/** Nova's create_v26 and create_v28 (mks/webmks from 2.8). */
const CREATE_V26 = remoteConsoleSchema(['vnc', 'spice', 'rdp', 'serial'], ['novnc', 'xvpvnc', 'rdp-html5', 'spice-html5', 'serial']);
const CREATE_V28 = remoteConsoleSchema(['vnc', 'spice', 'rdp', 'serial', 'mks'], ['novnc', 'xvpvnc', 'rdp-html5', 'spice-html5', 'serial', 'webmks']);

/**
 * The console type to serve for protocol/type, or Nova's 400: Unavailable for protocols this
 * cloud does not serve (spice, rdp, mks), Invalid for a type of the wrong protocol (vnc+serial)
 * or one nova-ts has no proxy for (xvpvnc).
 */
export function servedConsoleType(protocol: string, type: string): ConsoleType {
  const served = SERVED[protocol];
  if (!served)
    throw invalid(`Unavailable console type ${type}. This cloud serves vnc (type novnc) and serial (type serial) consoles.`);
  if (type !== served) throw invalid(`Invalid console type ${type}`);
  return served;
}

/**
 * Nova's check_instance_host and reject_instance_state, plus: the guest must be running (its
 * consoles exist only then); 409 otherwise.
 */
export function checkConsoleReady(row: InstanceRow, protocol: string): void {
  if (!row.host || row.vm_state === V.BUILDING) throw conflict(`Instance ${row.uuid} is not ready`);
  if (REJECT_TASKS.includes(row.task_state)) throw invalidState(`get_${protocol}_console`, row.uuid, 'task_state', String(row.task_state));
  if (!RUNNING.includes(row.vm_state))
    throw conflict(`Instance ${row.uuid} is not ready: its console is available only while it runs (vm_state ${row.vm_state}); start it first.`);
}

/** The console URL the API answers, per the proxy's URL contract (base without a trailing slash is fine). */
export function consoleUrl(proxyBase: string, type: ConsoleType, token: string, instanceUuid: string): string {
  const base = proxyBase.replace(/\/+$/, '');
  const query = `?token=${encodeURIComponent(token)}&instance_uuid=${encodeURIComponent(instanceUuid)}`;
  if (type === 'novnc') return `${base}/vnc_lite.html?path=${encodeURIComponent(query)}`;
  return `${base.replace(/^http(s?):\/\//i, 'ws$1://')}/${query}`;
}

/**
 * Loads the server, checks protocol/type and state, asks its compute host where the console is,
 * issues a token and answers the URL. Nothing is stored when any step fails.
 */
export async function remoteConsoleUrl(deps: ComputeApiDeps, req: ApiRequest, protocol: string, type: string): Promise<string> {
  const ctx = ctxOf(req);
  requireWriter(ctx, REMOTE_CONSOLES_POLICY);
  const row = await loadServer(deps.sql, ctx, req.params.id);
  const consoles = deps.consoles;
  if (!consoles) throw notImplemented('Remote consoles are not available: this cloud runs no console proxy.');
  const consoleType = servedConsoleType(protocol, type);
  checkConsoleReady(row, protocol);
  const instance = await payloadOf(deps.sql, row);
  const connect = await new ComputeRpcApi(deps.bus).getConsoleConnectInfo(row.host!, { instance, console_type: consoleType }).catch((e: unknown) => {
    // The guest is not (or no longer) on its host: building, moving or being deleted.
    if (isNovaError(e) && e.kind === 'NotFound') throw conflict(`Instance ${row.uuid} is not ready: ${e.message}`);
    throw e;
  });
  const base = consoles.proxyUrl();
  const { token } = await new ConsoleTokenStore(deps.sql).issue({
    instance_uuid: row.uuid,
    console_type: consoleType,
    connect,
    access_url_base: base,
    ttlSec: consoles.tokenTtlSec,
  });
  return consoleUrl(base, consoleType, token, row.uuid);
}

const legacySchemas = new Map<string, object>();
/** Nova's get_*_console action schemas: {"<action>": {"type": <one of types>}}. */
function legacySchema(action: string, types: string[]): object {
  let s = legacySchemas.get(action);
  if (!s) {
    s = {
      type: 'object',
      properties: {
        [action]: {
          type: 'object',
          properties: { type: { type: 'string', enum: types } },
          required: ['type'],
          additionalProperties: false,
        },
      },
      required: [action],
      additionalProperties: false,
    };
    legacySchemas.set(action, s);
  }
  return s;
}

/** One of the 2.1-2.5 actions; from 2.6 on Nova no longer routes it (404). */
function legacyAction(action: string, protocol: string, types: string[]): ActionHandler {
  return async (deps, req, value): Promise<ApiResponse> => {
    if (!req.mv.within('2.1', '2.5'))
      throw notFound(`API version ${req.mv} is not supported on this method: use POST /servers/{server_id}/remote-consoles from 2.6 on.`);
    const body = validate<Record<string, { type: string }>>(legacySchema(action, types), { [action]: value })[action];
    const url = await remoteConsoleUrl(deps, req, protocol, body.type);
    return { status: 200, body: { console: { type: body.type, url } } };
  };
}

/** The old console actions, for server-actions.ts. */
export const consoleActions: Record<string, ActionHandler> = {
  'os-getVNCConsole': legacyAction('os-getVNCConsole', 'vnc', ['novnc', 'xvpvnc']),
  'os-getSerialConsole': legacyAction('os-getSerialConsole', 'serial', ['serial']),
  'os-getSPICEConsole': legacyAction('os-getSPICEConsole', 'spice', ['spice-html5']),
  'os-getRDPConsole': legacyAction('os-getRDPConsole', 'rdp', ['rdp-html5']),
};

export const mountRemoteConsoles: MountFn = (router, deps) => {
  router.post(`${API_PREFIX}/servers/:id/remote-consoles`, async (req) => {
    if (!req.mv.atLeast('2.6')) throw notFound(`API version ${req.mv} is not supported on this method.`);
    const body = validate<{ remote_console: { protocol: string; type: string } }>(req.mv.atLeast('2.8') ? CREATE_V28 : CREATE_V26, bodyObject(req));
    const { protocol, type } = body.remote_console;
    const url = await remoteConsoleUrl(deps, req, protocol, type);
    return { status: 200, body: { remote_console: { protocol, type, url } } };
  });
};
