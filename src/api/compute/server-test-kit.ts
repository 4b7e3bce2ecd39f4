/**
 * Test kit for the server API modules: the Compute API router over an in-memory database,
 * a fake image API and a bus that records what the API sent to the conductor and compute
 * hosts. Requests go straight to the router with a chosen caller, so unit tests need neither
 * identity nor a listener. Used only by tests.
 */
import { openDatabase } from '../../db/open.js';
import type { Sql } from '../../db/sql.js';
import { InProcessBus } from '../../bus/in-process.js';
import { Router } from '../../http/router.js';
import { faultBody } from '../../http/faults.js';
import { Microversion } from '../../http/microversion.js';
import type { ApiRequest, RequestContext } from '../../http/types.js';
import { defaultConfig } from '../../config.js';
import { notFound } from '../../errors.js';
import type { ImageApi, ImageView } from '../../image/service.js';
import { nowIso } from '../../util/time.js';
import { mountServers } from './servers.js';
import { mountServerActions } from './server-actions.js';
import { mountServerIps } from './server-ips.js';
import { mountServerMetadata } from './server-metadata.js';
import { mountServerTags } from './server-tags.js';
import { mountInstanceActions } from './instance-actions.js';
import type { ComputeApiDeps } from './deps.js';
import type { MountFn } from './common.js';

export const IMAGE_ID = '11111111-2222-3333-4444-555555555555';

export interface Sent {
  topic: string;
  method: string;
  args: any;
}

export interface Kit {
  sql: Sql;
  deps: ComputeApiDeps;
  images: Map<string, ImageView>;
  sent: Sent[];
  /** Answers of the recording compute host by RPC method (e.g. attach_interface), given the call's args. */
  replies: Map<string, (args: any) => unknown>;
  demo: RequestContext;
  admin: RequestContext;
  other: RequestContext;
  reader: RequestContext;
  call(ctx: RequestContext, method: string, path: string, body?: unknown, mv?: string): Promise<{ status: number; body: any; headers: Record<string, string> }>;
  /** Lets casts already sent reach the recording servers. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

function ctx(over: Partial<RequestContext>): RequestContext {
  return {
    requestId: 'req-x', token: 't', userId: 'u-demo', userName: 'demo', userDomainId: 'default', projectId: 'p-demo',
    projectName: 'demo', projectDomainId: 'default', domainId: null, roles: ['member'], isAdmin: false, readOnly: false,
    expiresAt: '2999-01-01T00:00:00Z', ...over,
  };
}

/** opts.mounts: further resource modules to mount beside the server ones. */
export async function startKit(opts: { mounts?: MountFn[] } = {}): Promise<Kit> {
  const sql = await openDatabase('sqlite::memory:');
  const bus = new InProcessBus();
  const sent: Sent[] = [];
  const replies = new Map<string, (args: any) => unknown>();
  const record = (topic: string) => bus.serve(topic, (method, args) => {
    sent.push({ topic, method, args });
    const reply = replies.get(method);
    if (reply) return reply(args);
    if (method === 'get_console_output') return 'line1\nline2\nline3\n';
    return undefined;
  });
  await record('conductor');
  await record('compute.host1');
  const images = new Map<string, ImageView>();
  images.set(IMAGE_ID, { id: IMAGE_ID, name: 'cirros', status: 'active', min_ram: 0, min_disk: 0, size: 1024, visibility: 'public', owner: 'p-admin' });
  const imageApi: ImageApi = {
    show: async (_c, id) => {
      const i = images.get(id);
      if (!i) throw notFound(`No image found with ID ${id}`);
      return i;
    },
    list: async () => [...images.values()],
    create: async (c, fields) => {
      const id = crypto.randomUUID();
      const img = { ...fields, id, status: 'queued', name: (fields.name as string) ?? null, owner: c.projectId } as ImageView;
      images.set(id, img);
      return img;
    },
    delete: async (_c, id) => void images.delete(id),
  };
  const now = nowIso();
  for (const [id, name, ram, vcpus, disk] of [['1', 'm1.tiny', 512, 1, 1], ['2', 'm1.small', 2048, 1, 20], ['3', 'm1.medium', 4096, 2, 40]] as const)
    await sql.run('INSERT INTO flavors (flavorid, name, memory_mb, vcpus, root_gb, created_at) VALUES (?, ?, ?, ?, ?, ?)', [id, name, ram, vcpus, disk, now]);
  await sql.run("INSERT INTO flavor_extra_specs (flavor_id, key, value) VALUES (1, 'hw:cpu_policy', 'shared')");
  await sql.run("INSERT INTO key_pairs (name, user_id, fingerprint, public_key, created_at) VALUES ('mykey', 'u-demo', 'fp', 'ssh-rsa AAAA demo', ?)", [now]);
  const config = defaultConfig({ dataDir: '/tmp/nova-ts-kit-unused' });
  const deps: ComputeApiDeps = { sql, bus, images: imageApi, identity: { projectExists: async () => true }, config };
  const router = new Router('nova');
  for (const m of [mountServers, mountServerActions, mountServerIps, mountServerMetadata, mountServerTags, mountInstanceActions, ...(opts.mounts ?? [])]) m(router, deps);
  let n = 0;
  return {
    sql, deps, images, sent, replies,
    demo: ctx({}),
    admin: ctx({ userId: 'u-admin', userName: 'admin', projectId: 'p-admin', projectName: 'admin', roles: ['admin', 'member', 'reader'], isAdmin: true }),
    other: ctx({ userId: 'u-other', userName: 'other', projectId: 'p-other', projectName: 'other' }),
    reader: ctx({ userId: 'u-reader', userName: 'reader', roles: ['reader'], readOnly: true }),
    async call(c, method, path, body, mv = '2.1') {
      const url = new URL(path, 'http://x');
      const m = router.match(method, url.pathname);
      const requestId = `req-${++n}-${crypto.randomUUID()}`;
      if (!m || m === 'method-not-allowed') return { status: m ? 405 : 404, body: undefined, headers: {} };
      const req: ApiRequest = {
        method, path: url.pathname, params: m.params, query: url.searchParams, headers: {}, body: body === undefined ? undefined : JSON.parse(JSON.stringify(body)),
        raw: undefined as never, ctx: { ...c, requestId }, mv: Microversion.parse(mv)!, baseUrl: 'http://cloud/compute', requestId,
      };
      try {
        const out = await m.handler(req);
        return { status: out.status, body: out.body, headers: out.headers ?? {} };
      } catch (e) {
        const f = faultBody('nova', e);
        if (f.status === 500) throw e;
        return { status: f.status, body: f.body, headers: {} };
      }
    },
    settle: () => new Promise((r) => setTimeout(r, 5)),
    async close() {
      await bus.close();
      await sql.close();
    },
  };
}

/** Puts a server on host1 in the given state, as a finished build would. */
export async function placeOnHost(sql: Sql, uuid: string, vmState = 'active', powerState = 1): Promise<void> {
  await sql.run("UPDATE instances SET host = 'host1', node = 'host1', vm_state = ?, task_state = NULL, power_state = ?, launched_at = ? WHERE uuid = ?", [
    vmState, powerState, nowIso(), uuid,
  ]);
}
