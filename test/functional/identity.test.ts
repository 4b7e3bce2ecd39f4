/**
 * The Identity API (Keystone v3 subset) as clients see it: version discovery, token issue /
 * validate / revoke / expiry, scoping rules, the catalog, admin-only policy, CRUD of domains,
 * projects, users, roles and role assignments, the catalog admin APIs, and bad input.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client, startTestCloud, type TestCloud } from '../helpers/cloud.js';
import { createIdentityService } from '../../src/identity/service.js';

const V3 = '/identity/v3';
const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const AUTH_REQUIRED = 'The request you have made requires authentication.';

let tc: TestCloud;
let url: string;

interface Issued {
  status: number;
  token: string | null;
  body: any;
}

/** POST /v3/auth/tokens with a raw body (object or text). */
async function issue(body: unknown, query = ''): Promise<Issued> {
  const r = await fetch(`${url}${V3}/auth/tokens${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, token: r.headers.get('x-subject-token'), body: text ? JSON.parse(text) : undefined };
}

const pw = (user: Record<string, unknown>, password: string, scope?: unknown) => ({
  auth: { identity: { methods: ['password'], password: { user: { ...user, password } } }, ...(scope === undefined ? {} : { scope }) },
});
const byName = (name: string) => ({ name, domain: { id: 'default' } });
const projectScope = (name: string) => ({ project: { name, domain: { id: 'default' } } });

/** A client for a token got from issue(). */
const as = (i: Issued) => new Client(url, i.token!, i.body.token.project?.id ?? '', i.body.token.user.id);

before(async () => {
  tc = await startTestCloud();
  url = tc.url;
});
after(async () => {
  await tc?.close();
});

describe('version discovery', () => {
  test('GET /identity answers 300 with the v3 version, GET /identity/v3 describes it', async () => {
    const r = await fetch(`${url}/identity`);
    assert.equal(r.status, 300);
    const body = (await r.json()) as any;
    assert.equal(body.versions.values.length, 1);
    const v = body.versions.values[0];
    assert.equal(v.id, 'v3.14');
    assert.equal(v.status, 'stable');
    assert.deepEqual(v.links, [{ rel: 'self', href: `${url}/identity/v3/` }]);
    assert.deepEqual(v['media-types'], [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }]);
    const r3 = await fetch(`${url}${V3}`);
    assert.equal(r3.status, 200);
    assert.deepEqual(((await r3.json()) as any).version, v);
  });
});

describe('token issue', () => {
  test('password auth by name and domain id, project scope: Keystone token body', async () => {
    const r = await issue(pw(byName('admin'), tc.cloud.secrets.adminPassword, projectScope('admin')));
    assert.equal(r.status, 201);
    assert.ok(r.token && r.token.length >= 43);
    const t = r.body.token;
    assert.deepEqual(t.methods, ['password']);
    assert.deepEqual(t.user.domain, { id: 'default', name: 'Default' });
    assert.equal(t.user.name, 'admin');
    assert.equal(t.user.id, tc.admin.userId);
    assert.equal(t.user.password_expires_at, null);
    assert.equal(t.audit_ids.length, 1);
    assert.match(t.expires_at, TIME_RE);
    assert.match(t.issued_at, TIME_RE);
    const ttl = Date.parse(t.expires_at) - Date.parse(t.issued_at);
    assert.equal(ttl, 3600_000);
    assert.deepEqual(t.project, { domain: { id: 'default', name: 'Default' }, id: tc.admin.projectId, name: 'admin' });
    assert.equal(t.is_domain, false);
    // admin implies member, member implies reader.
    assert.deepEqual(t.roles.map((x: any) => x.name).sort(), ['admin', 'member', 'reader']);
    for (const role of t.roles) assert.match(role.id, /^[0-9a-f]{32}$/);
    const types = t.catalog.map((s: any) => s.type).sort();
    assert.deepEqual(types, ['block-storage', 'compute', 'identity', 'image', 'network', 'placement', 'volumev3']);
    const compute = t.catalog.find((s: any) => s.type === 'compute');
    assert.equal(compute.name, 'nova');
    const pub = compute.endpoints.find((e: any) => e.interface === 'public');
    assert.equal(pub.url, `${url}/compute/v2.1`);
    assert.equal(pub.region_id, 'RegionOne');
    assert.equal(pub.region, 'RegionOne');
    assert.deepEqual(compute.endpoints.map((e: any) => e.interface).sort(), ['admin', 'internal', 'public']);
    assert.equal(t.catalog.find((s: any) => s.type === 'identity').endpoints[0].url, `${url}/identity`);
  });

  test('by user id, by domain name, and ?nocatalog', async () => {
    const a = await issue(pw({ id: tc.demo.userId }, tc.cloud.secrets.demoPassword, { project: { id: tc.demo.projectId } }), '?nocatalog');
    assert.equal(a.status, 201);
    assert.equal(a.body.token.catalog, undefined);
    assert.deepEqual(a.body.token.roles.map((x: any) => x.name).sort(), ['member', 'reader']);
    const b = await issue(pw({ name: 'demo', domain: { name: 'Default' } }, tc.cloud.secrets.demoPassword, { project: { name: 'demo', domain: { name: 'Default' } } }));
    assert.equal(b.status, 201);
    assert.equal(b.body.token.project.id, tc.demo.projectId);
  });

  test('unscoped tokens carry no roles and no catalog, and cannot read the catalog', async () => {
    for (const scope of [undefined, 'unscoped']) {
      const r = await issue(pw(byName('demo'), tc.cloud.secrets.demoPassword, scope));
      assert.equal(r.status, 201);
      assert.equal(r.body.token.project, undefined);
      assert.equal(r.body.token.roles, undefined);
      assert.equal(r.body.token.catalog, undefined);
      const c = await as(r).get(`${V3}/auth/catalog`);
      assert.equal(c.status, 403);
      const p = await as(r).get(`${V3}/auth/projects`);
      assert.equal(p.status, 200);
      assert.deepEqual(p.body.projects.map((x: any) => x.name), ['demo']);
    }
  });

  test('wrong password, unknown user or domain, and a project without a role answer 401', async () => {
    const cases = [
      pw(byName('admin'), 'wrong', projectScope('admin')),
      pw(byName('nobody'), 'x'),
      pw({ name: 'admin', domain: { name: 'Nope' } }, tc.cloud.secrets.adminPassword),
      pw({ id: 'f'.repeat(32) }, 'x'),
      pw(byName('demo'), tc.cloud.secrets.demoPassword, projectScope('admin')),
      pw(byName('demo'), tc.cloud.secrets.demoPassword, projectScope('no-such-project')),
      pw(byName('demo'), tc.cloud.secrets.demoPassword, { domain: { id: 'default' } }),
      { auth: { identity: { methods: ['token'], token: { id: 'not-a-token' } } } },
      { auth: { identity: { methods: ['totp'], totp: {} } } },
    ];
    for (const c of cases) {
      const r = await issue(c);
      assert.equal(r.status, 401, JSON.stringify(c));
      assert.equal(r.token, null);
      assert.equal(r.body.error.code, 401);
      assert.equal(r.body.error.title, 'Unauthorized');
    }
    const r = await issue(pw(byName('admin'), 'wrong'));
    assert.equal(r.body.error.message, AUTH_REQUIRED);
  });

  test('malformed JSON and missing fields answer 400', async () => {
    const cases: unknown[] = [
      '{"auth": ',
      {},
      { auth: {} },
      { auth: { identity: {} } },
      { auth: { identity: { methods: ['password'] } } },
      { auth: { identity: { methods: ['password'], password: { user: { name: 'admin' } } } } },
      pw({ name: 'admin' }, 'x'),
      pw({}, 'x'),
      pw(byName('admin'), 'x', 'everything'),
    ];
    for (const c of cases) {
      const r = await issue(c);
      assert.equal(r.status, 400, JSON.stringify(c));
      assert.equal(r.body.error.code, 400);
      assert.equal(r.body.error.title, 'Bad Request');
      assert.ok(r.body.error.message.length > 0);
    }
  });

  test('the token method re-scopes a token, keeping its expiry and audit chain', async () => {
    const first = await issue(pw(byName('admin'), tc.cloud.secrets.adminPassword, 'unscoped'));
    const again = await issue({ auth: { identity: { methods: ['token'], token: { id: first.token } }, scope: projectScope('admin') } });
    assert.equal(again.status, 201);
    const t = again.body.token;
    assert.equal(t.project.name, 'admin');
    assert.equal(t.expires_at, first.body.token.expires_at);
    assert.equal(t.audit_ids.length, 2);
    assert.equal(t.audit_ids[1], first.body.token.audit_ids[0]);
    assert.notEqual(t.audit_ids[0], first.body.token.audit_ids[0]);
    assert.deepEqual([...t.methods].sort(), ['password', 'token']);
    assert.notEqual(again.token, first.token);
    // Rescoping demo's token into a project demo has no role on fails.
    const d = await issue({ auth: { identity: { methods: ['token'], token: { id: tc.demo.token } }, scope: projectScope('admin') } });
    assert.equal(d.status, 401);
  });
});

describe('token validation and revocation', () => {
  const validate = (who: Client, subject: string, method = 'GET') => who.request(method, `${V3}/auth/tokens`, undefined, { 'x-subject-token': subject });

  test('admin validates any token, a user its own; others get 403, bad tokens 404', async () => {
    const own = await validate(tc.demo, tc.demo.token);
    assert.equal(own.status, 200);
    assert.equal(own.headers.get('x-subject-token'), tc.demo.token);
    assert.equal(own.body.token.user.name, 'demo');
    assert.ok(Array.isArray(own.body.token.catalog));
    const byAdmin = await validate(tc.admin, tc.demo.token);
    assert.equal(byAdmin.status, 200);
    assert.equal(byAdmin.body.token.project.id, tc.demo.projectId);
    const head = await validate(tc.admin, tc.demo.token, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, undefined);
    const forbidden = await validate(tc.demo, tc.admin.token);
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.error.message, 'You are not authorized to perform the requested action: identity:validate_token.');
    assert.equal((await validate(tc.admin, 'bogus')).status, 404);
    assert.equal((await validate(tc.admin, 'bogus', 'HEAD')).status, 404);
    const noAuth = await fetch(`${url}${V3}/auth/tokens`, { headers: { 'x-subject-token': tc.demo.token } });
    assert.equal(noAuth.status, 401);
    assert.match(noAuth.headers.get('www-authenticate') ?? '', /^Keystone uri=/);
  });

  test('a revoked token stops working at once, even when cached', async () => {
    const mine = await tc.login('demo', tc.cloud.secrets.demoPassword, 'demo');
    assert.equal((await mine.get(`${V3}/auth/catalog`)).status, 200);
    assert.equal((await validate(tc.demo, tc.admin.token, 'DELETE')).status, 403);
    const del = await validate(mine, mine.token, 'DELETE');
    assert.equal(del.status, 204);
    const after = await mine.get(`${V3}/auth/catalog`);
    assert.equal(after.status, 401);
    assert.equal(after.body.error.message, AUTH_REQUIRED);
    assert.equal((await validate(tc.admin, mine.token)).status, 404);
    assert.equal((await validate(tc.admin, mine.token, 'DELETE')).status, 404);
  });

  test('tokens are kept only hashed and survive a restart of the service', async () => {
    const rows = await tc.cloud.sql.all<{ token_hash: string }>('SELECT token_hash FROM tokens');
    assert.ok(rows.length > 0);
    assert.ok(rows.every((r) => r.token_hash !== tc.admin.token && /^[0-9a-f]{64}$/.test(r.token_hash)));
    const fresh = createIdentityService({ sql: tc.cloud.sql, tokenTtlSec: 3600 });
    const ctx = await fresh.authenticate(tc.admin.token, 'req-1');
    assert.equal(ctx.userName, 'admin');
    assert.equal(ctx.projectId, tc.admin.projectId);
    assert.equal(ctx.projectName, 'admin');
    assert.equal(ctx.projectDomainId, 'default');
    assert.equal(ctx.userDomainId, 'default');
    assert.equal(ctx.isAdmin, true);
    assert.equal(ctx.readOnly, false);
    assert.equal(ctx.requestId, 'req-1');
    assert.deepEqual([...ctx.roles].sort(), ['admin', 'member', 'reader']);
    await assert.rejects(fresh.authenticate('nope', 'req-2'), { kind: 'Unauthorized' });
  });

  test('tokens expire after tokenTtlSec', async () => {
    const short = await startTestCloud({ tokenTtlSec: 1 });
    try {
      const c = await short.login('demo', short.cloud.secrets.demoPassword, 'demo');
      assert.equal((await c.get(`${V3}/auth/catalog`)).status, 200);
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal((await c.get(`${V3}/auth/catalog`)).status, 401);
      const admin = await short.login('admin', short.cloud.secrets.adminPassword, 'admin');
      assert.equal((await admin.request('GET', `${V3}/auth/tokens`, undefined, { 'x-subject-token': c.token })).status, 404);
    } finally {
      await short.close();
    }
  });
});

describe('what a user may read about itself', () => {
  test('catalog, projects, own user; others are 403', async () => {
    const cat = await tc.demo.get(`${V3}/auth/catalog`);
    assert.equal(cat.status, 200);
    assert.deepEqual(cat.body.catalog.map((s: any) => s.type).sort(), ['block-storage', 'compute', 'identity', 'image', 'network', 'placement', 'volumev3']);
    assert.equal(cat.body.links.self, `${url}${V3}/auth/catalog`);
    const mine = await tc.demo.get(`${V3}/users/${tc.demo.userId}/projects`);
    assert.equal(mine.status, 200);
    assert.deepEqual(mine.body.projects.map((p: any) => p.id), [tc.demo.projectId]);
    assert.equal((await tc.demo.get(`${V3}/users/${tc.admin.userId}/projects`)).status, 403);
    const me = await tc.demo.get(`${V3}/users/${tc.demo.userId}`);
    assert.equal(me.status, 200);
    assert.equal(me.body.user.name, 'demo');
    assert.equal(me.body.user.links.self, `${url}${V3}/users/${tc.demo.userId}`);
    assert.equal((await tc.demo.get(`${V3}/users/${tc.admin.userId}`)).status, 403);
    assert.equal((await tc.demo.get(`${V3}/projects/${tc.demo.projectId}`)).status, 200);
    assert.equal((await tc.demo.get(`${V3}/projects/${tc.admin.projectId}`)).status, 403);
    assert.equal((await tc.demo.get(`${V3}/regions`)).status, 200);
    assert.equal((await fetch(`${url}${V3}/users/${tc.demo.userId}`)).status, 401);
  });

  test('admin-only APIs answer 403 with a Keystone body', async () => {
    const r = await tc.demo.post(`${V3}/users`, { user: { name: 'sneaky', password: 'x' } });
    assert.equal(r.status, 403);
    assert.deepEqual(r.body, {
      error: { code: 403, title: 'Forbidden', message: 'You are not authorized to perform the requested action: identity:create_user.' },
    });
    for (const path of ['users', 'projects', 'domains', 'roles', 'role_assignments', 'services', 'endpoints']) {
      assert.equal((await tc.demo.get(`${V3}/${path}`)).status, 403, path);
    }
    assert.equal((await tc.demo.put(`${V3}/projects/${tc.demo.projectId}/users/${tc.demo.userId}/roles/x`)).status, 403);
    assert.equal((await tc.demo.delete(`${V3}/projects/${tc.demo.projectId}`)).status, 403);
    // Nothing was created.
    assert.equal((await tc.admin.get(`${V3}/users?name=sneaky`)).body.users.length, 0);
  });
});

describe('projects, users, roles and assignments', () => {
  test('a new user in a new project logs in once given a role, and loses access with it', async () => {
    const p = await tc.admin.post(`${V3}/projects`, { project: { name: 'proj-a', description: 'A' } });
    assert.equal(p.status, 201);
    const project = p.body.project;
    assert.equal(project.domain_id, 'default');
    assert.equal(project.parent_id, 'default');
    assert.equal(project.enabled, true);
    assert.equal(project.is_domain, false);
    assert.equal((await tc.admin.post(`${V3}/projects`, { project: { name: 'proj-a' } })).status, 409);
    const listed = await tc.admin.get(`${V3}/projects?name=proj-a`);
    assert.deepEqual(listed.body.projects.map((x: any) => x.id), [project.id]);
    assert.equal((await tc.admin.get(`${V3}/projects?domain_id=nope`)).body.projects.length, 0);

    const u = await tc.admin.post(`${V3}/users`, { user: { name: 'alice', password: 'pw-1', email: 'a@example.org' } });
    assert.equal(u.status, 201);
    const user = u.body.user;
    assert.equal(user.password, undefined);
    assert.equal(user.email, 'a@example.org');
    assert.equal((await tc.admin.post(`${V3}/users`, { user: { name: 'alice' } })).status, 409);

    const roles = await tc.admin.get(`${V3}/roles?name=reader`);
    const reader = roles.body.roles[0];
    assert.equal(reader.name, 'reader');
    const grant = `${V3}/projects/${project.id}/users/${user.id}/roles/${reader.id}`;
    assert.equal((await issue(pw(byName('alice'), 'pw-1', projectScope('proj-a')))).status, 401);
    assert.equal((await tc.admin.request('HEAD', grant)).status, 404);
    assert.equal((await tc.admin.put(grant)).status, 204);
    assert.equal((await tc.admin.put(grant)).status, 204);
    assert.equal((await tc.admin.request('HEAD', grant)).status, 204);
    assert.equal((await tc.admin.get(grant)).status, 204);
    const userRoles = await tc.admin.get(`${V3}/projects/${project.id}/users/${user.id}/roles`);
    assert.deepEqual(userRoles.body.roles.map((r: any) => r.name), ['reader']);

    const login = await issue(pw(byName('alice'), 'pw-1', projectScope('proj-a')));
    assert.equal(login.status, 201);
    assert.deepEqual(login.body.token.roles.map((r: any) => r.name), ['reader']);
    const ctx = await tc.cloud.identity.authenticate(login.token!, 'r');
    assert.equal(ctx.readOnly, true);
    assert.equal(ctx.isAdmin, false);
    const alice = as(login);
    assert.equal((await alice.get(`${V3}/auth/catalog`)).status, 200);

    const ra = await tc.admin.get(`${V3}/role_assignments?user.id=${user.id}&include_names`);
    assert.deepEqual(ra.body.role_assignments, [
      {
        role: { id: reader.id, name: 'reader' },
        user: { id: user.id, name: 'alice', domain: { id: 'default', name: 'Default' } },
        scope: { project: { id: project.id, name: 'proj-a', domain: { id: 'default', name: 'Default' } } },
        links: { assignment: `${url}${grant}` },
      },
    ]);
    const byProject = await tc.admin.get(`${V3}/role_assignments?scope.project.id=${project.id}&role.id=${reader.id}`);
    assert.equal(byProject.body.role_assignments.length, 1);

    // Removing the role invalidates alice's token on its very next use.
    assert.equal((await tc.admin.delete(grant)).status, 204);
    assert.equal((await tc.admin.delete(grant)).status, 404);
    assert.equal((await alice.get(`${V3}/auth/catalog`)).status, 401);

    assert.equal((await tc.admin.delete(`${V3}/users/${user.id}`)).status, 204);
    assert.equal((await tc.admin.get(`${V3}/users/${user.id}`)).status, 404);
    assert.equal((await tc.admin.delete(`${V3}/projects/${project.id}`)).status, 204);
    const gone = await tc.admin.get(`${V3}/projects/${project.id}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error.message, `Could not find project: ${project.id}.`);
  });

  test('effective role assignments include implied roles', async () => {
    const r = await tc.admin.get(`${V3}/role_assignments?user.id=${tc.demo.userId}&effective&include_names`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.role_assignments.map((a: any) => a.role.name), ['member', 'reader']);
    assert.ok(r.body.role_assignments[1].links.prior_role);
  });

  test('updates: password change revokes tokens, disabling user or project locks it out', async () => {
    const u = (await tc.admin.post(`${V3}/users`, { user: { name: 'bob', password: 'old' } })).body.user;
    const p = (await tc.admin.post(`${V3}/projects`, { project: { name: 'proj-b' } })).body.project;
    const roles = (await tc.admin.get(`${V3}/roles?name=member`)).body.roles;
    assert.equal((await tc.admin.put(`${V3}/projects/${p.id}/users/${u.id}/roles/${roles[0].id}`)).status, 204);
    const bob = as(await issue(pw(byName('bob'), 'old', projectScope('proj-b'))));
    assert.equal((await bob.get(`${V3}/auth/catalog`)).status, 200);

    const upd = await tc.admin.patch(`${V3}/users/${u.id}`, { user: { password: 'new', description: 'Bob' } });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.user.description, 'Bob');
    assert.equal((await bob.get(`${V3}/auth/catalog`)).status, 401);
    assert.equal((await issue(pw(byName('bob'), 'old', projectScope('proj-b')))).status, 401);
    const bob2 = as(await issue(pw(byName('bob'), 'new', projectScope('proj-b'))));
    assert.equal((await bob2.get(`${V3}/auth/catalog`)).status, 200);

    const dis = await tc.admin.patch(`${V3}/projects/${p.id}`, { project: { enabled: false, description: 'off' } });
    assert.equal(dis.status, 200);
    assert.equal(dis.body.project.enabled, false);
    assert.equal(dis.body.project.description, 'off');
    assert.equal((await bob2.get(`${V3}/auth/catalog`)).status, 401);
    assert.equal((await issue(pw(byName('bob'), 'new', projectScope('proj-b')))).status, 401);
    assert.equal((await tc.admin.patch(`${V3}/projects/${p.id}`, { project: { enabled: true } })).status, 200);
    assert.equal((await issue(pw(byName('bob'), 'new', projectScope('proj-b')))).status, 201);

    assert.equal((await tc.admin.patch(`${V3}/users/${u.id}`, { user: { enabled: false } })).body.user.enabled, false);
    assert.equal((await issue(pw(byName('bob'), 'new', projectScope('proj-b')))).status, 401);
    assert.equal((await tc.admin.get(`${V3}/users?enabled=false`)).body.users.map((x: any) => x.name).join(), 'bob');

    assert.equal((await tc.admin.patch(`${V3}/users/${u.id}`, { user: { name: 'demo' } })).status, 409);
    assert.equal((await tc.admin.patch(`${V3}/projects/${p.id}`, { project: { name: 'demo' } })).status, 409);
    assert.equal((await tc.admin.patch(`${V3}/users/nope`, { user: { name: 'x' } })).status, 404);
  });

  test('bad input answers 400 and creates nothing', async () => {
    const before = (await tc.admin.get(`${V3}/projects`)).body.projects.length;
    const cases: [string, unknown][] = [
      ['projects', { project: {} }],
      ['projects', { project: { name: 'x'.repeat(65) } }],
      ['projects', { project: { name: 'x', enabled: 'yes' } }],
      ['projects', { name: 'x' }],
      ['projects', 'not json'],
      ['users', { user: { name: '' } }],
      ['users', { user: { name: 'x', password: 5 } }],
      ['roles', { role: {} }],
      ['domains', { domain: { name: 7 } }],
      ['endpoints', { endpoint: { interface: 'sideways', service_id: 'x', url: 'http://x' } }],
      ['services', { service: { name: 'x' } }],
    ];
    for (const [path, body] of cases) {
      const r = await tc.admin.post(`${V3}/${path}`, body);
      assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}`);
      assert.equal(r.body.error.code, 400);
    }
    assert.equal((await tc.admin.get(`${V3}/projects`)).body.projects.length, before);
    assert.equal((await tc.admin.post(`${V3}/projects`, { project: { name: 'x', domain_id: 'nope' } })).status, 404);
    const unknown = await tc.admin.put(`${V3}/projects/${tc.demo.projectId}/users/${tc.demo.userId}/roles/nope`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.message, 'Could not find role: nope.');
  });

  test('roles: create, find by name, conflict, delete', async () => {
    const r = await tc.admin.post(`${V3}/roles`, { role: { name: 'auditor' } });
    assert.equal(r.status, 201);
    assert.equal(r.body.role.name, 'auditor');
    assert.equal((await tc.admin.post(`${V3}/roles`, { role: { name: 'auditor' } })).status, 409);
    assert.equal((await tc.admin.get(`${V3}/roles/${r.body.role.id}`)).body.role.name, 'auditor');
    assert.equal((await tc.admin.get(`${V3}/roles?name=auditor`)).body.roles.length, 1);
    assert.equal((await tc.admin.delete(`${V3}/roles/${r.body.role.id}`)).status, 204);
    assert.equal((await tc.admin.get(`${V3}/roles/${r.body.role.id}`)).status, 404);
  });
});

describe('domains', () => {
  test('domain CRUD, domain-scoped tokens, and delete only when disabled', async () => {
    const d = await tc.admin.post(`${V3}/domains`, { domain: { name: 'Other' } });
    assert.equal(d.status, 201);
    const dom = d.body.domain;
    assert.equal((await tc.admin.post(`${V3}/domains`, { domain: { name: 'Other' } })).status, 409);
    const u = (await tc.admin.post(`${V3}/users`, { user: { name: 'admin', domain_id: dom.id, password: 'o' } })).body.user;
    assert.equal(u.domain_id, dom.id);
    const adminRole = (await tc.admin.get(`${V3}/roles?name=admin`)).body.roles[0];
    assert.equal((await tc.admin.put(`${V3}/domains/${dom.id}/users/${u.id}/roles/${adminRole.id}`)).status, 204);
    const t = await issue(pw({ name: 'admin', domain: { name: 'Other' } }, 'o', { domain: { name: 'Other' } }));
    assert.equal(t.status, 201);
    assert.deepEqual(t.body.token.domain, { id: dom.id, name: 'Other' });
    assert.equal(t.body.token.project, undefined);
    assert.deepEqual(t.body.token.roles.map((r: any) => r.name).sort(), ['admin', 'member', 'reader']);
    const ra = await tc.admin.get(`${V3}/role_assignments?scope.domain.id=${dom.id}`);
    assert.deepEqual(ra.body.role_assignments.map((a: any) => a.scope), [{ domain: { id: dom.id } }]);

    const del = await tc.admin.delete(`${V3}/domains/${dom.id}`);
    assert.equal(del.status, 403);
    assert.equal((await tc.admin.patch(`${V3}/domains/${dom.id}`, { domain: { enabled: false } })).status, 200);
    assert.equal((await as(t).get(`${V3}/regions`)).status, 401);
    assert.equal((await tc.admin.delete(`${V3}/domains/${dom.id}`)).status, 204);
    assert.equal((await tc.admin.get(`${V3}/users/${u.id}`)).status, 404);
    assert.equal((await tc.admin.get(`${V3}/domains/${dom.id}`)).status, 404);
  });
});

describe('catalog administration', () => {
  test('services, endpoints and regions', async () => {
    const regions = await tc.admin.get(`${V3}/regions`);
    assert.deepEqual(regions.body.regions.map((r: any) => r.id), ['RegionOne']);
    const services = await tc.admin.get(`${V3}/services`);
    assert.deepEqual(services.body.services.map((s: any) => s.type).sort(), ['block-storage', 'compute', 'identity', 'image', 'network', 'placement', 'volumev3']);
    const endpoints = await tc.admin.get(`${V3}/endpoints?interface=public`);
    assert.equal(endpoints.body.endpoints.length, 7);

    const s = await tc.admin.post(`${V3}/services`, { service: { type: 'object-store', name: 'swift' } });
    assert.equal(s.status, 201);
    const e = await tc.admin.post(`${V3}/endpoints`, {
      endpoint: { interface: 'public', service_id: s.body.service.id, url: 'http://127.0.0.1:1/v1/AUTH_$(project_id)s', region_id: 'RegionOne' },
    });
    assert.equal(e.status, 201);
    assert.equal(e.body.endpoint.url, 'http://127.0.0.1:1/v1/AUTH_$(project_id)s');
    const cat = await tc.demo.get(`${V3}/auth/catalog`);
    const swift = cat.body.catalog.find((x: any) => x.type === 'object-store');
    assert.equal(swift.endpoints[0].url, `http://127.0.0.1:1/v1/AUTH_${tc.demo.projectId}`);
    assert.equal((await tc.admin.post(`${V3}/endpoints`, { endpoint: { interface: 'public', service_id: 'nope', url: 'http://x' } })).status, 400);
    assert.equal((await tc.admin.delete(`${V3}/services/${s.body.service.id}`)).status, 204);
    assert.equal((await tc.admin.get(`${V3}/endpoints/${e.body.endpoint.id}`)).status, 404);
  });
});
