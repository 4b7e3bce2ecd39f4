/**
 * Property-based fuzz of the Compute API (fast-check), seeded and reproducible:
 *   FUZZ_SEED=<n> node --import tsx --test test/functional/fuzz.test.ts
 * (FUZZ_RUNS scales the number of runs per property.)
 *
 * Properties, for every random request:
 *  - never a 5xx;
 *  - every 4xx carries a Nova fault body `{<key>: {code, message}}` with code === status and a
 *    non-empty message;
 *  - a rejected POST /servers leaves the caller's server count unchanged (nothing half-created).
 */
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { startTestCloud, type Client, type TestCloud } from '../helpers/cloud.js';

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
if (!Number.isSafeInteger(SEED)) throw new Error(`FUZZ_SEED wants an integer, got ${process.env.FUZZ_SEED}`);
const SCALE = process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : 1;
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
const C = '/compute/v2.1';

let tc: TestCloud;
/** A real server of admin's (when servers can be created), its flavor and image ids. */
const known = { server: randomUUID(), flavor: '1', image: randomUUID(), adminProject: '', demoProject: '' };

interface Sent {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}
interface Got {
  status: number;
  text: string;
  json: any;
}

/** Sends one request as `who` with a 10 s timeout; body is raw text (already serialized). */
async function send(who: Client, req: Sent): Promise<Got> {
  const headers: Record<string, string> = { 'x-auth-token': who.token, accept: 'application/json', ...req.headers };
  const body = req.body === undefined ? undefined : expandDeep(req.body);
  if (req.body !== undefined) headers['content-type'] ??= 'application/json';
  let r: Response;
  try {
    r = await fetch(who.base + req.path, { method: req.method, headers, body, signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`no HTTP response (${cause?.code ?? ''} ${cause?.message ?? (e as Error).message}) to ${req.method} ${req.path} with a body of ${req.body?.length ?? 0} bytes`, { cause: e });
  }
  const text = await r.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: r.status, text, json };
}

const show = (req: Sent, got: Got) =>
  `${req.method} ${req.path} ${JSON.stringify(req.headers)}\nbody: ${(req.body ?? '').slice(0, 600)}\n-> ${got.status} ${got.text.slice(0, 600)}`;

/** Status histogram per property, printed after it so a run shows what it exercised. */
let histogram: Record<string, number> = {};

/** The response properties every request must satisfy. */
function checkResponse(req: Sent, got: Got): void {
  histogram[got.status] = (histogram[got.status] ?? 0) + 1;
  if (process.env.FUZZ_VERBOSE) console.log(show(req, got).replace(/\n/g, ' | ').slice(0, 400));
  assert.ok(got.status < 500, `5xx:\n${show(req, got)}`);
  if (got.status >= 400) {
    const b = got.json;
    assert.ok(b && typeof b === 'object' && !Array.isArray(b), `4xx without a JSON fault body:\n${show(req, got)}`);
    const keys = Object.keys(b);
    assert.equal(keys.length, 1, `fault body must have exactly one key:\n${show(req, got)}`);
    const f = b[keys[0]];
    assert.equal(f?.code, got.status, `fault code differs from the status:\n${show(req, got)}`);
    assert.ok(typeof f.message === 'string' && f.message.trim() !== '', `fault message empty:\n${show(req, got)}`);
  }
}

async function serverCount(who: Client): Promise<number> {
  const r = await send(who, { method: 'GET', path: `${C}/servers?limit=1000`, headers: {} });
  return r.status === 200 && Array.isArray(r.json?.servers) ? r.json.servers.length : -1;
}

/** Deletes every server of the caller's project and waits until none is listed. */
async function deleteAll(who: Client): Promise<void> {
  const r = await send(who, { method: 'GET', path: `${C}/servers?limit=1000`, headers: {} });
  const ids = ((r.json?.servers ?? []) as { id: string }[]).map((x) => x.id);
  await Promise.all(ids.map((id) => send(who, { method: 'DELETE', path: `${C}/servers/${id}`, headers: {} })));
  const end = Date.now() + 10_000;
  while (Date.now() < end && (await serverCount(who)) > 0) await new Promise((res) => setTimeout(res, 20));
  assert.equal(await serverCount(who), 0, 'servers did not go away after DELETE');
}

// ---------------------------------------------------------------- generators
const printable = fc.integer({ min: 0x20, max: 0x7e }).map((n) => String.fromCharCode(n));
const huge = fc.oneof(
  fc.integer({ min: 256, max: 70_000 }).map((n) => 'x'.repeat(n)),
  fc.integer({ min: 10, max: 5000 }).map((n) => '\u{1F600}é\u0000'.repeat(n)),
);
const junkString = fc.oneof(
  { arbitrary: fc.string(), weight: 4 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 2 },
  { arbitrary: huge, weight: 1 },
  { arbitrary: fc.constantFrom('', ' ', '0', '-1', 'null', 'true', '1e309', '../../etc', '%00', 'DROP TABLE instances;--'), weight: 2 },
);
/** Keys that trip up careless object handling in JavaScript. */
const nastyKey = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '', ' ', 'a.b', 'a/b', '\ud800', 'x'.repeat(300));
/**
 * Arrays or objects nested thousands deep (recursion in validators and error messages). The
 * value is a marker string, expanded into JSON text when sent (see expandDeep), so that
 * fast-check and JSON.stringify in this process never recurse through it.
 */
const deep = fc.tuple(fc.integer({ min: 500, max: 20_000 }), fc.constantFrom('array', 'object')).map(([n, kind]) => `__DEEP_${kind}_${n}__`);
function expandDeep(text: string): string {
  return text.replace(/"__DEEP_(array|object)_(\d+)__"/g, (_m, kind: string, n: string) =>
    kind === 'array' ? '['.repeat(Number(n)) + '1' + ']'.repeat(Number(n)) : '{"a":'.repeat(Number(n)) + '1' + '}'.repeat(Number(n)),
  );
}
const junk: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: deep, weight: 1 },
  { arbitrary: fc.dictionary(nastyKey, fc.oneof(fc.string({ maxLength: 5 }), fc.constant({ polluted: true })), { maxKeys: 3 }), weight: 1 },
  { arbitrary: fc.constantFrom('\ud800', 'a\udfffb', '\u202e\u0000\uffff'), weight: 1 },
  { arbitrary: junkString, weight: 4 },
  { arbitrary: fc.jsonValue({ maxDepth: 4 }), weight: 3 },
  { arbitrary: fc.integer(), weight: 2 },
  { arbitrary: fc.constantFrom(0, -1, 1.5, 2 ** 31, 2 ** 53, -(2 ** 63), 1e308, null, true, false, [], {}), weight: 2 },
  { arbitrary: fc.anything({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v ?? null) ?? 'null')), weight: 1 },
);
/** A known-good value for the field some of the time, junk otherwise. */
const maybe = (good: fc.Arbitrary<unknown>) => fc.oneof({ arbitrary: good, weight: 2 }, { arbitrary: junk, weight: 1 });
const unknownFields = fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), junk, { maxKeys: 2 });

/**
 * A valid body with 0-2 edits: a field set to junk, a field removed, or an unknown field added.
 * Mostly-valid bodies get past the first check, so each later check is probed too.
 */
function nearValid(wrapper: string, valid: fc.Arbitrary<Record<string, unknown>>, keys: string[]): fc.Arbitrary<unknown> {
  const edit = fc.oneof(
    fc.tuple(fc.constant('set' as const), fc.constantFrom(...keys), junk),
    fc.tuple(fc.constant('del' as const), fc.constantFrom(...keys), fc.constant(null)),
    fc.tuple(fc.constant('add' as const), fc.string({ minLength: 1, maxLength: 12 }), junk),
  );
  return fc.tuple(valid, fc.array(edit, { maxLength: 2 })).map(([v, edits]) => {
    const o: Record<string, unknown> = { ...v };
    for (const [op, k, val] of edits) {
      if (op === 'del') delete o[k];
      else o[k] = val;
    }
    return { [wrapper]: o };
  });
}
const goodName = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/);
const SERVER_KEYS = ['name', 'flavorRef', 'imageRef', 'networks', 'min_count', 'max_count', 'metadata', 'key_name', 'availability_zone', 'user_data', 'security_groups', 'block_device_mapping_v2', 'config_drive', 'accessIPv4', 'accessIPv6', 'tags', 'description', 'hostname', 'adminPass'];
const validServer = fc
  .record(
    {
      name: goodName,
      networks: fc.constantFrom('none', 'none', 'auto'),
      min_count: fc.integer({ min: 1, max: 2 }),
      max_count: fc.integer({ min: 1, max: 3 }),
      metadata: fc.dictionary(goodName, fc.string({ maxLength: 10 }), { maxKeys: 3 }),
      description: fc.string({ maxLength: 20 }),
      config_drive: fc.boolean(),
      accessIPv4: fc.ipV4(),
      tags: fc.uniqueArray(goodName, { maxLength: 3 }),
    },
    { requiredKeys: ['name'] },
  )
  .map((o) => ({ ...o, flavorRef: known.flavor, imageRef: known.image }));
const junkyServer = fc
  .tuple(
    fc.record(
      {
        name: maybe(fc.string({ minLength: 1, maxLength: 30 })),
        flavorRef: maybe(fc.constant(null).map(() => known.flavor)),
        imageRef: maybe(fc.constant(null).map(() => known.image)),
        networks: maybe(fc.constantFrom('none', 'auto', [], [{ uuid: randomUUID() }])),
        min_count: maybe(fc.integer({ min: 0, max: 20 })),
        max_count: maybe(fc.integer({ min: 0, max: 20 })),
        metadata: maybe(fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), { maxKeys: 3 })),
        key_name: junk,
        availability_zone: maybe(fc.constantFrom('nova', 'nova:host1', 'nowhere')),
        user_data: maybe(fc.base64String({ maxLength: 40 })),
        security_groups: maybe(fc.constant([{ name: 'default' }])),
        block_device_mapping_v2: junk,
        config_drive: maybe(fc.boolean()),
        accessIPv4: maybe(fc.ipV4()),
        accessIPv6: maybe(fc.ipV6()),
        tags: maybe(fc.array(fc.string({ minLength: 1, maxLength: 10 }), { maxLength: 3 })),
        description: maybe(fc.string({ maxLength: 20 })),
        hostname: junk,
        adminPass: junk,
      },
      { requiredKeys: [] },
    ),
    unknownFields,
    fc.constantFrom('server', 'server', 'server', 'servers', 'os:scheduler_hints'),
  )
  .map(([fields, extra, key]) => ({ [key]: { ...fields, ...extra } }));
const serverCreate = fc.oneof({ arbitrary: nearValid('server', validServer, SERVER_KEYS), weight: 3 }, { arbitrary: junkyServer, weight: 1 }, { arbitrary: junk, weight: 1 });

const validFlavor = fc.record(
  { name: goodName, ram: fc.integer({ min: 1, max: 4096 }), vcpus: fc.integer({ min: 1, max: 8 }), disk: fc.integer({ min: 0, max: 20 }), id: fc.oneof(fc.uuid().map(String), goodName), 'os-flavor-access:is_public': fc.boolean(), swap: fc.integer({ min: 0, max: 100 }), rxtx_factor: fc.double({ min: 0.1, max: 4, noNaN: true }), 'OS-FLV-EXT-DATA:ephemeral': fc.integer({ min: 0, max: 10 }), description: fc.string({ maxLength: 20 }) },
  { requiredKeys: ['name', 'ram', 'vcpus', 'disk'] },
);
const FLAVOR_KEYS = ['name', 'ram', 'vcpus', 'disk', 'id', 'os-flavor-access:is_public', 'swap', 'rxtx_factor', 'OS-FLV-EXT-DATA:ephemeral', 'description'];
const validKeypair = fc.record({ name: goodName, type: fc.constantFrom('ssh', 'x509'), public_key: fc.constantFrom('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBnI9v9o2b0k7kq0Vb5kGf0bL4Zt6b8i0wL2F0r3o5J3 fuzz', 'ssh-rsa AAAA', 'not a key') }, { requiredKeys: ['name'] });
const validUpdate = fc.record({ name: goodName, description: fc.string({ maxLength: 20 }), accessIPv4: fc.ipV4(), hostname: goodName }, { requiredKeys: [] });
const validQuota = fc.dictionary(fc.constantFrom('instances', 'cores', 'ram', 'key_pairs', 'metadata_items', 'server_groups', 'server_group_members'), fc.integer({ min: -1, max: 1000 }), { maxKeys: 3 });

const ACTIONS = [
  'reboot', 'os-start', 'os-stop', 'pause', 'unpause', 'suspend', 'resume', 'lock', 'unlock', 'createImage',
  'resize', 'confirmResize', 'revertResize', 'rebuild', 'changePassword', 'shelve', 'unshelve', 'shelveOffload',
  'rescue', 'unrescue', 'migrate', 'os-getConsoleOutput', 'os-getVNCConsole', 'os-getSerialConsole',
  'trigger_crash_dump', 'createBackup', 'evacuate', 'os-migrateLive', 'addSecurityGroup', 'removeSecurityGroup',
  'restore', 'os-resetState', 'injectNetworkInfo', 'resetNetwork', 'noSuchAction',
];
const actionBody = fc.oneof(
  fc.record({ name: fc.constantFrom(...ACTIONS), arg: junk }).map(({ name, arg }) => ({ [name]: arg })),
  fc.record({ a: fc.constantFrom(...ACTIONS), b: fc.constantFrom(...ACTIONS) }).map(({ a, b }) => ({ [a]: null, [b]: null })),
  fc.constantFrom({ reboot: { type: 'SOFT' } }, { reboot: { type: 'sideways' } }, { resize: { flavorRef: '1' } }, { rebuild: { imageRef: '' } }),
);

const idSegment = fc.oneof(
  fc.constant(null).map(() => known.server),
  fc.uuid().map(String),
  fc.webSegment(),
  junkString.map((s) => encodeURIComponent(s.slice(0, 300))),
  fc.constantFrom('detail', '%2e%2e', '0', '-1', '9999999999999999999999', '%zz', '%c3%28', '%ff%fe', '%00', 'a%2Fb', '%20'),
);

const projectSegment = fc.oneof(
  fc.constant(null).map(() => known.adminProject),
  fc.constant(null).map(() => known.demoProject),
  idSegment,
);

/** One random mutating request: [method, path, body value or undefined]. */
const mutation: fc.Arbitrary<[string, string, unknown]> = fc.oneof(
  serverCreate.map((b): [string, string, unknown] => ['POST', `${C}/servers`, b]),
  serverCreate.map((b): [string, string, unknown] => ['POST', `${C}/servers`, b]),
  serverCreate.map((b): [string, string, unknown] => ['POST', `${C}/servers`, b]),
  fc.tuple(idSegment, fc.oneof(nearValid('server', validUpdate, ['name', 'description', 'accessIPv4', 'hostname']), fc.record({ server: fc.record({ name: junk, description: junk, accessIPv4: junk, hostname: junk }, { requiredKeys: [] }) }), junk))
    .map(([id, b]): [string, string, unknown] => ['PUT', `${C}/servers/${id}`, b]),
  fc.tuple(idSegment, actionBody).map(([id, b]): [string, string, unknown] => ['POST', `${C}/servers/${id}/action`, b]),
  fc.tuple(idSegment, junk).map(([id, b]): [string, string, unknown] => ['POST', `${C}/servers/${id}/action`, b]),
  fc
    .record(
      { name: maybe(fc.string({ minLength: 1, maxLength: 20 })), ram: maybe(fc.integer({ min: 1, max: 4096 })), vcpus: maybe(fc.integer({ min: 1, max: 8 })), disk: maybe(fc.integer({ min: 0, max: 20 })), id: junk, 'os-flavor-access:is_public': junk, swap: junk, rxtx_factor: junk, 'OS-FLV-EXT-DATA:ephemeral': junk, description: junk },
      { requiredKeys: [] },
    )
    .chain((f) => fc.oneof(fc.constant({ flavor: f }), junk, nearValid('flavor', validFlavor, FLAVOR_KEYS), nearValid('flavor', validFlavor, FLAVOR_KEYS)))
    .map((b): [string, string, unknown] => ['POST', `${C}/flavors`, b]),
  fc
    .record({ name: maybe(fc.string({ minLength: 1, maxLength: 20 })), public_key: junk, type: maybe(fc.constantFrom('ssh', 'x509')), user_id: junk }, { requiredKeys: [] })
    .chain((k) => fc.oneof(fc.constant({ keypair: k }), junk, nearValid('keypair', validKeypair, ['name', 'type', 'public_key', 'user_id'])))
    .map((b): [string, string, unknown] => ['POST', `${C}/os-keypairs`, b]),
  fc
    .tuple(projectSegment, fc.dictionary(fc.constantFrom('instances', 'cores', 'ram', 'key_pairs', 'metadata_items', 'server_groups', 'force', 'bogus'), junk, { maxKeys: 3 }))
    .chain(([p, q]) => fc.tuple(fc.constant(p), fc.oneof(fc.constant({ quota_set: q }), junk, nearValid('quota_set', validQuota, ['instances', 'cores', 'force']))))
    .map(([p, b]): [string, string, unknown] => ['PUT', `${C}/os-quota-sets/${p}`, b]),
  fc
    .tuple(idSegment, fc.constantFrom('PUT', 'POST'), fc.oneof(fc.record({ metadata: fc.dictionary(junkString, junk, { maxKeys: 4 }) }), junk))
    .map(([id, m, b]): [string, string, unknown] => [m, `${C}/servers/${id}/metadata`, b]),
  fc
    .tuple(idSegment, fc.webSegment(), fc.oneof(fc.record({ meta: fc.dictionary(junkString, junk, { maxKeys: 2 }) }), junk))
    .map(([id, k, b]): [string, string, unknown] => ['PUT', `${C}/servers/${id}/metadata/${k}`, b]),
  fc
    .tuple(idSegment, fc.oneof(fc.record({ tags: fc.array(junk, { maxLength: 60 }) }), junk))
    .map(([id, b]): [string, string, unknown] => ['PUT', `${C}/servers/${id}/tags`, b]),
  fc
    .tuple(idSegment, junkString.map((s) => encodeURIComponent(s.slice(0, 100))), fc.constantFrom('PUT', 'DELETE', 'GET'))
    .map(([id, t, m]): [string, string, unknown] => [m, `${C}/servers/${id}/tags/${t}`, undefined]),
);

const microversionHeaders = fc.oneof(
  // Mostly the CLI's version, so that valid bodies of newer microversions get accepted.
  { arbitrary: fc.constant({ 'openstack-api-version': 'compute 2.92' }), weight: 4 },
  { arbitrary: fc.constant({}), weight: 1 },
  {
    arbitrary: fc
      .oneof(fc.integer({ min: 0, max: 200 }).map((n) => `compute 2.${n}`), fc.constantFrom('compute latest', 'compute 3.0', 'compute 1.1', 'volume 3.0', 'compute', 'compute 2.', 'compute 2.1.1'), fc.string({ unit: printable, maxLength: 20 }))
      .map((v) => ({ 'openstack-api-version': v })),
    weight: 2,
  },
  { arbitrary: fc.string({ unit: printable, maxLength: 12 }).map((v) => ({ 'x-openstack-nova-api-version': v })), weight: 1 },
);

const LIST_PATHS = ['/servers', '/servers/detail', '/flavors', '/flavors/detail', '/os-keypairs', '/images', '/os-hypervisors', '/os-services', '/limits', '/os-availability-zone'];
const QUERY_KEYS = ['limit', 'marker', 'sort_key', 'sort_dir', 'changes-since', 'changes-before', 'name', 'status', 'flavor', 'image', 'all_tenants', 'deleted', 'minDisk', 'minRam', 'is_public', 'tags', 'tags-any', 'not-tags', 'ip', 'host', 'user_id', 'project_id', 'tenant_id', 'locked', 'bogus'];
const queryValue = fc.oneof(
  fc.constantFrom('1', '0', '-1', '1000', '1001', 'abc', '', 'true', 'false', 'asc', 'desc', 'sideways', 'created_at', 'display_name', 'power_state', 'hostname', 'x;y', '2020-01-01T00:00:00Z', '2020-13-45T99:99:99Z', 'not-a-date', '1e3', ' 5', 'constructor', '__proto__', 'toString'),
  fc.constant(null).map(() => known.server),
  junkString.map((s) => s.slice(0, 200)),
);
const listRequest = fc.tuple(
  fc.constantFrom(...LIST_PATHS),
  fc.array(fc.tuple(fc.constantFrom(...QUERY_KEYS), queryValue), { maxLength: 4 }),
  fc.option(fc.constantFrom('/', '/detail', '/x', '/%ff', '/..%2f'), { nil: '' }),
);
const getById = fc.tuple(
  fc.constantFrom('/servers', '/flavors', '/os-keypairs', '/os-quota-sets', '/servers/' + 'ID' + '/metadata', '/servers/ID/tags', '/servers/ID/os-instance-actions', '/os-hypervisors', '/images', '/flavors/1/os-extra_specs'),
  idSegment,
);

/** Malformed JSON text: truncated documents, trailing junk, non-JSON, wrong content types. */
const malformed = fc.tuple(
  fc.oneof(
    fc.json().chain((s) => fc.integer({ min: 0, max: Math.max(0, s.length - 1) }).map((i) => s.slice(0, i))),
    fc.json().map((s) => s + ' }'),
    fc.constantFrom('{', '{"server":', '{"server": {"name": "a",}}', "{'server': {}}", 'NaN', '[1,2', '\u0000', '\ufeff{}', 'null', '"str"', '12', 'true', '{"a":1}{"b":2}'),
    fc.string({ unit: 'binary', maxLength: 50 }),
  ),
  fc.constantFrom(
    `${C}/servers`, `${C}/flavors`, `${C}/os-keypairs`, 'SERVER/action', 'SERVER/metadata', 'SERVER/tags', `${C}/os-quota-sets/ADMIN`, 'SERVER',
  ),
  fc.constantFrom('application/json', 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1', ''),
);

/** Any method on any route shape, sometimes with a bad token or an oversized body. */
const PATHS = [
  '/', '/servers', '/servers/detail', '/servers/ID', '/servers/ID/action', '/servers/ID/metadata', '/servers/ID/metadata/X',
  '/servers/ID/tags', '/servers/ID/tags/X', '/servers/ID/ips', '/servers/ID/ips/X', '/servers/ID/os-instance-actions',
  '/servers/ID/os-instance-actions/X', '/flavors', '/flavors/detail', '/flavors/X', '/flavors/X/os-extra_specs',
  '/flavors/X/os-extra_specs/X', '/flavors/X/os-flavor-access', '/os-keypairs', '/os-keypairs/X', '/os-quota-sets/X',
  '/os-quota-sets/X/detail', '/os-quota-sets/X/defaults', '/limits', '/os-hypervisors', '/os-hypervisors/detail',
  '/os-hypervisors/X', '/os-services', '/os-services/X', '/os-availability-zone', '/os-availability-zone/detail',
  '/extensions', '/extensions/X', '/images', '/images/X', '/os-server-groups', '/os-server-groups/X', '/os-aggregates',
  '/os-aggregates/X', '/os-aggregates/X/action', '/os-quota-class-sets/X', '/os-simple-tenant-usage', '/X',
];
const anyRequest = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
  path: fc.constantFrom(...PATHS),
  x: idSegment,
  token: fc.oneof({ arbitrary: fc.constant(null), weight: 8 }, { arbitrary: fc.constantFrom('', 'garbage', 'gAAAAA'), weight: 1 }, { arbitrary: fc.string({ unit: printable, maxLength: 300 }), weight: 1 }),
  body: fc.oneof({ arbitrary: fc.constant(undefined), weight: 1 }, { arbitrary: junk.map((v) => JSON.stringify(v)), weight: 1 }),
});
/** A JSON body just over the API's 1 MiB limit. */
const oversized = (wrapper: string) => JSON.stringify({ [wrapper]: { name: 'x'.repeat(1024 * 1024 + 10) } });

// ---------------------------------------------------------------- test
describe('Compute API fuzz', { timeout: 120_000 }, () => {
  before(async () => {
    tc = await startTestCloud();
    known.adminProject = tc.admin.projectId;
    known.demoProject = tc.demo.projectId;
    const flavors = await tc.admin.get(`${C}/flavors`);
    const tiny = flavors.body?.flavors?.find?.((f: any) => f.name === 'm1.tiny');
    if (tiny) known.flavor = String(tiny.id);
    const images = await tc.admin.get('/image/v2/images');
    const img = images.body?.images?.find?.((i: any) => i.name === 'tiny-linux') ?? images.body?.images?.[0];
    if (img) known.image = img.id;
    const s = await tc.admin.post(`${C}/servers`, { server: { name: 'fuzz-target', flavorRef: known.flavor, imageRef: known.image, networks: 'none' } }, { 'openstack-api-version': 'compute 2.37' });
    if (s.status === 202) known.server = s.body.server.id;
    console.log(`fuzz seed ${SEED} (rerun with FUZZ_SEED=${SEED}); target server ${s.status === 202 ? known.server : `not created: ${s.status} ${JSON.stringify(s.body)}`}`);
  });
  after(async () => {
    await tc?.close();
  });

  beforeEach(() => {
    histogram = {};
  });
  afterEach(() => {
    console.log(`statuses seen: ${JSON.stringify(histogram)}`);
  });
  const params = (numRuns: number) => ({ seed: SEED, numRuns: runs(numRuns), interruptAfterTimeLimit: 40_000, markInterruptAsFailure: false, includeErrorInReport: true });
  const who = fc.constantFrom<'admin' | 'demo'>('admin', 'admin', 'demo');
  const client = (w: 'admin' | 'demo') => (w === 'admin' ? tc.admin : tc.demo);
  const fill = (p: string) => p.replace('SERVER', `${C}/servers/${known.server}`).replace('ADMIN', known.adminProject).replace('/ID/', `/${known.server}/`);

  test('random JSON bodies on mutating endpoints: no 5xx, Nova faults, no half-created servers', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, microversionHeaders, who, async ([method, path, body], mv, w) => {
        const c = client(w);
        const isCreate = method === 'POST' && path === `${C}/servers`;
        const before = isCreate ? await serverCount(c) : 0;
        const req: Sent = { method, path, headers: mv, body: body === undefined ? undefined : JSON.stringify(body) };
        const got = await send(c, req);
        checkResponse(req, got);
        if (isCreate && got.status >= 400) {
          const afterCount = await serverCount(c);
          assert.equal(afterCount, before, `rejected create changed the server count ${before} -> ${afterCount}:\n${show(req, got)}`);
        }
      }),
      params(400),
    );
  });

  test('malformed JSON text and odd content types: 4xx with a Nova fault', async () => {
    await fc.assert(
      fc.asyncProperty(malformed, who, async ([text, target, ctype], w) => {
        const c = client(w);
        const path = fill(target);
        const method = /\/(metadata|tags|os-quota-sets\/[^/]+)$/.test(path) || path === fill('SERVER') ? 'PUT' : 'POST';
        const before = path === `${C}/servers` ? await serverCount(c) : 0;
        const req: Sent = { method, path, headers: ctype ? { 'content-type': ctype } : {}, body: text };
        const got = await send(c, req);
        checkResponse(req, got);
        if (path === `${C}/servers` && got.status >= 400) assert.equal(await serverCount(c), before, `rejected create left a server:\n${show(req, got)}`);
      }),
      params(150),
    );
  });

  test('a body over 1 MiB gets a 413 overLimit fault (not a reset connection), and creates nothing', async () => {
    for (const [path, wrapper] of [[`${C}/servers`, 'server'], [`${C}/os-keypairs`, 'keypair'], [`${C}/flavors`, 'flavor']]) {
      const before = await serverCount(tc.admin);
      const req: Sent = { method: 'POST', path, headers: {}, body: oversized(wrapper) };
      const got = await send(tc.admin, req);
      assert.equal(got.status, 413, show(req, got));
      checkResponse(req, got);
      assert.equal(await serverCount(tc.admin), before);
    }
  });

  test('inputs that broke the API in earlier fuzz runs get Nova faults', async () => {
    const deepArr = (n: number) => '['.repeat(n) + '1' + ']'.repeat(n);
    const srv = `${C}/servers/${known.server}`;
    const cases: [string, string, string | undefined, number][] = [
      // [method, path, body, expected status]
      ['POST', `${srv}/action`, '{"noSuchAction": null}', 400], // the control: an unknown action
      ['POST', `${srv}/action`, '{"__proto__": ""}', 400],
      ['POST', `${srv}/action`, '{"constructor": null}', 400],
      ['POST', `${srv}/action`, '{"toString": null}', 400],
      ['POST', `${srv}/action`, '{"hasOwnProperty": {}}', 400],
      ['GET', `${C}/servers?sort_key=constructor`, undefined, 400],
      ['GET', `${C}/servers/detail?sort_key=__proto__`, undefined, 400],
      ['GET', `${srv}/metadata/constructor`, undefined, 404],
      ['POST', `${C}/servers`, `{"server": {"name": "s", "metadata": ${deepArr(20_000)}}}`, 400],
      ['POST', `${C}/flavors`, `{"flavor": {"name": "f", "ram": 1, "vcpus": ${deepArr(20_000)}, "disk": 1}}`, 400],
      ['PUT', `${srv}/tags`, deepArr(20_000), 400],
      ['POST', `${C}/os-keypairs`, `{"keypair": {"name": "k", "public_key": 0, "user_id": ${deepArr(20_000)}}}`, 400],
    ];
    const wrong: string[] = [];
    for (const [method, path, body, want] of cases) {
      const req: Sent = { method, path, headers: { 'openstack-api-version': 'compute 2.92' }, body };
      const got = await send(tc.admin, req);
      try {
        assert.equal(got.status, want);
        checkResponse(req, got);
      } catch {
        wrong.push(`want ${want}: ${show({ ...req, body: body?.slice(0, 80) }, got).replace(/\n/g, ' | ').slice(0, 400)}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  test('any method on any route, bad tokens: no 5xx, Nova faults', async () => {
    await fc.assert(
      fc.asyncProperty(anyRequest, microversionHeaders, who, async (r, mv, w) => {
        const c = client(w);
        const path = C + r.path.replace('/ID', `/${known.server}`).replace(/\/X(?=\/|$)/g, `/${r.x}`);
        const before = r.method === 'POST' && r.path === '/servers' ? await serverCount(c) : 0;
        const headers: Record<string, string> = { ...mv };
        if (r.token !== null) headers['x-auth-token'] = r.token;
        const req: Sent = { method: r.method, path, headers, body: r.method === 'GET' || r.method === 'HEAD' ? undefined : r.body };
        const got = await send(c, req);
        if (r.method === 'HEAD') assert.ok(got.status < 500, `5xx:\n${show(req, got)}`);
        else checkResponse(req, got);
        if (r.method === 'POST' && r.path === '/servers' && got.status >= 400) assert.equal(await serverCount(c), before, `rejected create left a server:\n${show(req, got)}`);
      }),
      params(300),
    );
  });

  test('concurrent creates at the quota limit: never more servers than the quota, rejections are 403 faults', async () => {
    const limit = 5;
    await deleteAll(tc.demo);
    const set = await tc.admin.put(`${C}/os-quota-sets/${known.demoProject}`, { quota_set: { instances: limit, cores: -1, ram: -1 } });
    assert.equal(set.status, 200, JSON.stringify(set.body));
    const mv = { 'openstack-api-version': 'compute 2.92' };
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 2, maxLength: 12 }), async (counts) => {
        const replies = await Promise.all(
          counts.map((n, i) => {
            const req: Sent = {
              method: 'POST',
              path: `${C}/servers`,
              headers: mv,
              body: JSON.stringify({ server: { name: `race-${i}`, flavorRef: known.flavor, imageRef: known.image, networks: 'none', min_count: n, max_count: n } }),
            };
            return send(tc.demo, req).then((got) => ({ req, got, n }));
          }),
        );
        let accepted = 0;
        for (const { req, got, n } of replies) {
          checkResponse(req, got);
          if (got.status === 202) accepted += n;
          else assert.equal(got.status, 403, show(req, got));
        }
        const listed = await send(tc.demo, { method: 'GET', path: `${C}/servers?limit=1000`, headers: mv });
        const mine = (listed.json?.servers ?? []) as { id: string }[];
        assert.ok(accepted <= limit, `accepted ${accepted} instances with a quota of ${limit}: ${JSON.stringify(counts)}`);
        assert.equal(mine.length, accepted, `listed ${mine.length} servers after accepting ${accepted}`);
        await deleteAll(tc.demo); // the next run starts from zero usage
      }),
      { ...params(8), interruptAfterTimeLimit: 30_000 },
    );
  });

  test('GET lists with junk query strings, random ids and path segments, random microversions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(listRequest.map((l) => ({ l })), getById.map((g) => ({ g }))), microversionHeaders, who, async (r, mv, w) => {
        let path: string;
        if ('l' in r) {
          const [base, pairs, tail] = r.l;
          const q = new URLSearchParams(pairs.map(([k, v]) => [k, String(v)]));
          path = `${C}${base}${tail}${pairs.length ? '?' + q.toString() : ''}`;
        } else {
          const [base, id] = r.g;
          path = `${C}${fill(base)}/${id}`;
        }
        const req: Sent = { method: 'GET', path, headers: mv };
        const got = await send(client(w), req);
        checkResponse(req, got);
      }),
      params(300),
    );
  });
});
