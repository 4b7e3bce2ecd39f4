import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';

describe('a fresh cloud', () => {
  let t: TestCloud;
  before(async () => {
    t = await startTestCloud();
  });
  after(async () => t?.close());

  it('offers the shared network private (198.18.0.0/20) and a default security group in every project', async () => {
    // Read the DB first: listing groups through the API would create the caller's default group itself.
    const groups = await t.cloud.sql.all<{ project_id: string }>("SELECT project_id FROM security_groups WHERE name = 'default'");
    const owners = new Set(groups.map((g) => g.project_id));
    assert.ok(owners.has(t.admin.projectId) && owners.has(t.demo.projectId), `default groups belong to ${[...owners]}`);
    const rules = (await t.demo.get('/network/v2.0/security-group-rules')).body.security_group_rules;
    assert.equal(rules.length, 4, "Neutron's four default rules");
    const nets = (await t.demo.get('/network/v2.0/networks')).body.networks;
    const priv = nets.find((n: any) => n.name === 'private');
    assert.ok(priv?.shared, 'demo sees the shared network private');
    const subnets = (await t.demo.get(`/network/v2.0/subnets?network_id=${priv.id}`)).body.subnets;
    assert.equal(subnets[0].cidr, '198.18.0.0/20');
  });
});
