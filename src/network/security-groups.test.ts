import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSgFixture, sgContext, type SgFixture } from './security-groups-testing.js';
import {
  agentRules, ensureDefaultSecurityGroup, groupsOfPortsAffectedBy, hostsAffectedByPorts, portSecurityGroupIds,
  resolveSecurityGroups, securityGroupApi, securityGroupLink, setPortSecurityGroups,
} from './security-groups.js';

let fx: SgFixture;
before(async () => {
  fx = await startSgFixture();
  // p-demo makes many groups across these tests; the quota tests use other projects.
  await fx.sql.run("INSERT INTO network_quotas (project_id, resource, hard_limit) VALUES ('p-demo', 'security_group', -1)");
});
after(() => fx.close());

const settle = () => new Promise((r) => setTimeout(r, 10));

async function createGroup(user: string, name: string, extra: Record<string, unknown> = {}): Promise<any> {
  const r = await fx.call(user, 'POST', '/v2.0/security-groups', { security_group: { name, ...extra } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.security_group;
}

describe('the default group', () => {
  test('is created once, with Neutron default rules, even when requests race', async () => {
    const ids = await Promise.all(Array.from({ length: 8 }, () => ensureDefaultSecurityGroup(fx.sql, 'p-race')));
    assert.equal(new Set(ids).size, 1);
    const rows = await fx.sql.all<any>("SELECT * FROM security_groups WHERE project_id = 'p-race'");
    assert.equal(rows.length, 1);
    assert.equal(rows[0].name, 'default');
    const rules = await fx.sql.all<any>('SELECT * FROM security_group_rules WHERE security_group_id = ? ORDER BY direction, ethertype', [ids[0]]);
    assert.deepEqual(
      rules.map((r) => [r.direction, r.ethertype, r.remote_group_id, r.protocol, r.remote_ip_prefix]),
      [['egress', 'IPv4', null, null, null], ['egress', 'IPv6', null, null, null], ['ingress', 'IPv4', ids[0], null, null], ['ingress', 'IPv6', ids[0], null, null]],
    );
  });

  test('a first list shows it; it cannot be renamed, recreated or deleted by its project', async () => {
    const r = await fx.call('alt', 'GET', '/v2.0/security-groups');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.security_groups.map((g: any) => g.name), ['default']);
    const g = r.body.security_groups[0];
    assert.equal(g.project_id, 'p-alt');
    assert.equal(g.tenant_id, 'p-alt');
    assert.equal(g.stateful, true);
    assert.equal(g.security_group_rules.length, 4);
    assert.match(g.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

    const dup = await fx.call('alt', 'POST', '/v2.0/security-groups', { security_group: { name: 'default' } });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.NeutronError.type, 'SecurityGroupDefaultAlreadyExists');
    const ren = await fx.call('alt', 'PUT', `/v2.0/security-groups/${g.id}`, { security_group: { name: 'x' } });
    assert.equal(ren.status, 409);
    assert.equal(ren.body.NeutronError.type, 'SecurityGroupCannotUpdateDefault');
    const del = await fx.call('alt', 'DELETE', `/v2.0/security-groups/${g.id}`);
    assert.equal(del.status, 409);
    assert.equal(del.body.NeutronError.type, 'SecurityGroupCannotRemoveDefault');
    const desc = await fx.call('alt', 'PUT', `/v2.0/security-groups/${g.id}`, { security_group: { description: 'ours' } });
    assert.equal(desc.status, 200);
    assert.equal(desc.body.security_group.description, 'ours');
    assert.equal(desc.body.security_group.revision_number, 1);
  });

  test('an admin may delete a project default group that no port uses', async () => {
    const id = await ensureDefaultSecurityGroup(fx.sql, 'p-gone');
    assert.equal((await fx.call('admin', 'DELETE', `/v2.0/security-groups/${id}`)).status, 204);
    assert.equal((await fx.call('admin', 'GET', `/v2.0/security-groups/${id}`)).status, 404);
    assert.notEqual(await ensureDefaultSecurityGroup(fx.sql, 'p-gone'), id);
  });
});

describe('groups over REST', () => {
  test('create gives the two egress rules; show, update, delete', async () => {
    const g = await createGroup('demo', 'web', { description: 'web servers' });
    assert.equal(g.description, 'web servers');
    assert.deepEqual(
      g.security_group_rules.map((r: any) => [r.direction, r.ethertype, r.remote_ip_prefix, r.remote_group_id]).sort(),
      [['egress', 'IPv4', null, null], ['egress', 'IPv6', null, null]],
    );
    const shown = await fx.call('demo', 'GET', `/v2.0/security-groups/${g.id}`);
    assert.equal(shown.body.security_group.name, 'web');
    const some = await fx.call('demo', 'GET', `/v2.0/security-groups/${g.id}?fields=id&fields=name`);
    assert.deepEqual(some.body.security_group, { id: g.id, name: 'web' });
    const upd = await fx.call('demo', 'PUT', `/v2.0/security-groups/${g.id}`, { security_group: { name: 'web2' } });
    assert.equal(upd.body.security_group.name, 'web2');
    assert.equal((await fx.call('demo', 'DELETE', `/v2.0/security-groups/${g.id}`)).status, 204);
    assert.equal((await fx.call('demo', 'GET', `/v2.0/security-groups/${g.id}`)).body.NeutronError.type, 'SecurityGroupNotFound');
  });

  test('bad bodies are 400s naming the problem', async () => {
    const unknown = await fx.call('demo', 'POST', '/v2.0/security-groups', { security_group: { name: 'a', colour: 'red' } });
    assert.equal(unknown.status, 400);
    assert.match(unknown.body.NeutronError.message, /colour/);
    const stateless = await fx.call('demo', 'POST', '/v2.0/security-groups', { security_group: { name: 'a', stateful: false } });
    assert.equal(stateless.status, 400);
    assert.match(stateless.body.NeutronError.message, /Stateless/);
    const other = await fx.call('demo', 'POST', '/v2.0/security-groups', { security_group: { name: 'a', project_id: 'p-alt' } });
    assert.equal(other.status, 400);
    assert.equal((await fx.call('demo', 'POST', '/v2.0/security-groups', { name: 'a' })).status, 400);
  });

  test('a group in use by a port cannot be deleted; deleting it removes rules naming it elsewhere', async () => {
    const used = await createGroup('demo', 'used');
    const port = await fx.addPort({ groups: [used.id], ips: ['198.18.0.50'] });
    const r = await fx.call('demo', 'DELETE', `/v2.0/security-groups/${used.id}`);
    assert.equal(r.status, 409);
    assert.equal(r.body.NeutronError.type, 'SecurityGroupInUse');
    assert.match(r.body.NeutronError.message, new RegExp(used.id));
    await setPortSecurityGroups(fx.sql, port, []);

    const other = await createGroup('demo', 'other');
    const rule = await fx.call('demo', 'POST', '/v2.0/security-group-rules', {
      security_group_rule: { security_group_id: other.id, direction: 'ingress', remote_group_id: used.id },
    });
    assert.equal(rule.status, 201);
    assert.equal((await fx.call('demo', 'DELETE', `/v2.0/security-groups/${used.id}`)).status, 204);
    assert.equal((await fx.call('demo', 'GET', `/v2.0/security-group-rules/${rule.body.security_group_rule.id}`)).status, 404);
  });

  test('quota: security_group 10 per project, network_quotas overrides', async () => {
    await fx.sql.run("INSERT INTO network_quotas (project_id, resource, hard_limit) VALUES ('p-alt', 'security_group', 3)");
    await createGroup('alt', 'q1');
    await createGroup('alt', 'q2');
    const over = await fx.call('alt', 'POST', '/v2.0/security-groups', { security_group: { name: 'q3' } });
    assert.equal(over.status, 409);
    assert.equal(over.body.NeutronError.type, 'OverQuota');
    assert.match(over.body.NeutronError.message, /security_group/);
    // The default of 10 counts the default group: an admin may make 9 more for a new project.
    for (let i = 0; i < 9; i++) await createGroup('admin', `d${i}`, { project_id: 'p-ten' });
    const tenth = await fx.call('admin', 'POST', '/v2.0/security-groups', { security_group: { name: 'd9', project_id: 'p-ten' } });
    assert.equal(tenth.status, 409);
  });

  test('projects see only their groups; admin sees all; readers only read', async () => {
    const mine = await createGroup('demo', 'private-to-demo');
    const alt = await fx.call('alt', 'GET', '/v2.0/security-groups');
    assert.ok(alt.body.security_groups.every((g: any) => g.project_id === 'p-alt'));
    assert.equal((await fx.call('alt', 'GET', `/v2.0/security-groups/${mine.id}`)).status, 404);
    assert.equal((await fx.call('alt', 'PUT', `/v2.0/security-groups/${mine.id}`, { security_group: { name: 'x' } })).status, 404);
    assert.equal((await fx.call('alt', 'DELETE', `/v2.0/security-groups/${mine.id}`)).status, 404);
    const all = await fx.call('admin', 'GET', '/v2.0/security-groups?project_id=p-demo');
    assert.ok(all.body.security_groups.some((g: any) => g.id === mine.id));
    assert.ok(all.body.security_groups.every((g: any) => g.project_id === 'p-demo'));

    assert.equal((await fx.call('reader', 'GET', `/v2.0/security-groups/${mine.id}`)).status, 200);
    const denied = await fx.call('reader', 'POST', '/v2.0/security-groups', { security_group: { name: 'r' } });
    assert.equal(denied.status, 403);
    assert.equal((await fx.call('reader', 'DELETE', `/v2.0/security-groups/${mine.id}`)).status, 403);
  });

  test('lists filter, sort and page with links under /security-groups', async () => {
    for (const n of ['pa', 'pb', 'pc']) await createGroup('demo', n);
    const byName = await fx.call('demo', 'GET', '/v2.0/security-groups?name=pb&name=pc&sort_key=name&sort_dir=desc');
    assert.deepEqual(byName.body.security_groups.map((g: any) => g.name), ['pc', 'pb']);
    const page = await fx.call('demo', 'GET', '/v2.0/security-groups?name=pa&name=pb&name=pc&sort_key=name&limit=2');
    assert.deepEqual(page.body.security_groups.map((g: any) => g.name), ['pa', 'pb']);
    const next = page.body.security_groups_links.find((l: any) => l.rel === 'next');
    assert.match(next.href, /\/network\/v2\.0\/security-groups\?/);
    const rest = await fx.call('demo', 'GET', next.href.replace(/^.*\/network/, ''));
    assert.deepEqual(rest.body.security_groups.map((g: any) => g.name), ['pc']);
    assert.equal((await fx.call('demo', 'GET', '/v2.0/security-groups?colour=red')).status, 400);
  });
});

describe('functions the network core uses', () => {
  test('resolveSecurityGroups: names and ids in the project, default for none, clear errors', async () => {
    const api = securityGroupApi({ sql: fx.sql, bus: fx.bus });
    const ctx = sgContext('demo');
    const a = await api.createSecurityGroup(ctx, { name: 'res-a' });
    const b = await api.createSecurityGroup(ctx, { name: 'res-b' });
    const def = await ensureDefaultSecurityGroup(fx.sql, 'p-demo');
    assert.deepEqual(await resolveSecurityGroups(fx.sql, 'p-demo', []), [def]);
    assert.deepEqual(await resolveSecurityGroups(fx.sql, 'p-demo', ['res-b', a.id, 'res-b', 'default']), [b.id, a.id, def]);
    await assert.rejects(resolveSecurityGroups(fx.sql, 'p-demo', ['nope']), (e: any) => e.kind === 'NotFound' && /nope/.test(e.message));
    await assert.rejects(resolveSecurityGroups(fx.sql, 'p-alt', [a.id]), (e: any) => e.kind === 'NotFound');
    await api.createSecurityGroup(ctx, { name: 'res-a' });
    await assert.rejects(resolveSecurityGroups(fx.sql, 'p-demo', ['res-a']), (e: any) => e.kind === 'Conflict' && /res-a/.test(e.message));
  });

  test('bindings keep their order; every asked port is a key', async () => {
    const api = securityGroupApi({ sql: fx.sql, bus: fx.bus });
    const x = await api.createSecurityGroup(sgContext('demo'), { name: 'bind-x' });
    const y = await api.createSecurityGroup(sgContext('demo'), { name: 'bind-y' });
    const p = await fx.addPort({ groups: [y.id, x.id] });
    const m = await portSecurityGroupIds(fx.sql, [p, 'no-such-port']);
    assert.deepEqual(m.get(p), [y.id, x.id]);
    assert.deepEqual(m.get('no-such-port'), []);
    await setPortSecurityGroups(fx.sql, p, [x.id]);
    assert.deepEqual((await portSecurityGroupIds(fx.sql, [p])).get(p), [x.id]);
  });

  test('agentRules expands remote groups to member IPs; hosts affected are found', async () => {
    const api = securityGroupApi({ sql: fx.sql, bus: fx.bus });
    const ctx = sgContext('demo');
    const web = await api.createSecurityGroup(ctx, { name: 'ar-web' });
    const db = await api.createSecurityGroup(ctx, { name: 'ar-db' });
    await api.createSecurityGroupRule(ctx, { security_group_id: db.id, direction: 'ingress', protocol: 'tcp', port_range_min: 5432, port_range_max: 5432, remote_group_id: web.id });
    await api.createSecurityGroupRule(ctx, { security_group_id: db.id, direction: 'ingress', protocol: '1', remote_ip_prefix: '10.1.2.3/8' });
    const w1 = await fx.addPort({ host: 'h-web1', groups: [web.id], ips: ['198.18.1.10'] });
    await fx.addPort({ host: 'h-web2', groups: [web.id], ips: ['198.18.1.11', '198.18.1.12'] });
    const d1 = await fx.addPort({ host: 'h-db', groups: [db.id], ips: ['198.18.1.20'] });
    const open = await fx.addPort({ host: 'h-db', groups: [db.id], portSecurity: false });

    const m = await agentRules(fx.sql, [
      { id: d1, security_group_ids: [db.id], port_security: true },
      { id: w1, security_group_ids: [web.id], port_security: true },
      { id: open, security_group_ids: [db.id], port_security: false },
    ]);
    const dbIn = m.get(d1)!.ingress;
    assert.deepEqual(dbIn.find((r) => r.protocol === 'tcp'), {
      ethertype: 'IPv4', protocol: 'tcp', port_min: 5432, port_max: 5432, remote: ['198.18.1.10/32', '198.18.1.11/32', '198.18.1.12/32'],
    });
    assert.deepEqual(dbIn.find((r) => r.protocol === 'icmp')?.remote, ['10.0.0.0/8']);
    assert.deepEqual(m.get(d1)!.egress.map((r) => [r.ethertype, r.remote]), [['IPv4', null], ['IPv6', null]]);
    assert.deepEqual(m.get(w1)!.ingress, []);
    assert.deepEqual(m.get(open), { ingress: [], egress: [] });

    assert.deepEqual(await groupsOfPortsAffectedBy(fx.sql, web.id), ['h-db', 'h-web1', 'h-web2']);
    assert.deepEqual(await groupsOfPortsAffectedBy(fx.sql, db.id), ['h-db']);
    assert.deepEqual(await hostsAffectedByPorts(fx.sql, [w1]), ['h-db', 'h-web1']);
    const viaLink = await securityGroupLink.agentRules(fx.sql, [{ id: d1 }, { id: open }]);
    assert.deepEqual(viaLink.get(d1), m.get(d1));
    assert.deepEqual(viaLink.get(open), { ingress: [], egress: [] });
  });

  test('agentRules for 200 ports takes a handful of queries', async () => {
    const api = securityGroupApi({ sql: fx.sql, bus: fx.bus });
    const g = await api.createSecurityGroup(sgContext('demo'), { name: 'many' });
    const ports = [];
    for (let i = 0; i < 200; i++) ports.push({ id: await fx.addPort({ groups: [g.id], ips: [`198.18.4.${i}`] }), security_group_ids: [g.id], port_security: true });
    await api.createSecurityGroupRule(sgContext('demo'), { security_group_id: g.id, direction: 'ingress', remote_group_id: g.id });
    let queries = 0;
    const counting = { ...fx.sql, all: (q: string, p?: any) => (queries++, fx.sql.all(q, p)), get: (q: string, p?: any) => (queries++, fx.sql.get(q, p)) } as typeof fx.sql;
    const m = await agentRules(counting, ports);
    assert.ok(queries <= 3, `${queries} queries`);
    assert.equal(m.get(ports[0].id)!.ingress.find((r) => r.remote?.length)!.remote!.length, 200);
  });
});

test('rule changes notify the hosts of affected ports', async () => {
  const ctx = sgContext('demo');
  const api = securityGroupApi({ sql: fx.sql, bus: fx.bus });
  const g = await api.createSecurityGroup(ctx, { name: 'notify' });
  await fx.addPort({ host: 'h-notify', groups: [g.id] });
  await settle();
  fx.notices.length = 0;
  const r = await api.createSecurityGroupRule(ctx, { security_group_id: g.id, direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22 });
  await settle();
  assert.deepEqual(fx.notices, [['h-notify']]);
  await api.deleteSecurityGroupRule(ctx, r.id);
  await settle();
  assert.deepEqual(fx.notices, [['h-notify'], ['h-notify']]);
});
