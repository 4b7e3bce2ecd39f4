/**
 * The Launch Instance wizard's form model (dashboard/src/pages/launch/model.ts) without a
 * browser: which problems block a launch (and name the quota), and the POST /servers body
 * each choice gives (volume boot, count, server group hint, UTF-8 user data, NIC order).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EMPTY_FORM, toRequest, validate, type ComputeLimits, type FlavorSize, type LaunchForm } from '../../dashboard/src/pages/launch/model.js';

const flavors: FlavorSize[] = [{ id: '2', vcpus: 4, ram: 2048 }];
const limits: ComputeLimits = {
  maxTotalInstances: 10, totalInstancesUsed: 1, maxTotalCores: 20, totalCoresUsed: 10, maxTotalRAMSize: 51200, totalRAMUsed: 0,
};
const ok: LaunchForm = { ...EMPTY_FORM, name: 'vm', flavorId: '2', imageId: 'img' };

describe('launch wizard model', () => {
  it('an empty form has name, flavor and image problems; a filled one none', () => {
    assert.deepEqual(Object.keys(validate(EMPTY_FORM, flavors, limits)).sort(), ['flavor', 'name', 'source']);
    assert.deepEqual(validate(ok, flavors, limits), {});
    assert.match(validate({ ...ok, name: '   ' }, flavors, limits).name!, /Instance Name is required/);
    assert.match(validate({ ...ok, count: 0 }, flavors, limits).count!, /at least 1/);
    assert.match(validate({ ...ok, count: 1.5 }, flavors, limits).count!, /whole number/);
    assert.match(validate({ ...ok, bootSource: 'volume' }, flavors, limits).source!, /Volume is required/);
  });

  it('names the quota the flavor x count exceeds, and only that one', () => {
    const q = validate({ ...ok, count: 3 }, flavors, limits).quota!;
    assert.match(q, /VCPUs quota exceeded: 10 used \+ 12 requested > 20 allowed/);
    assert.doesNotMatch(q, /Instances|RAM/);
    assert.equal(validate({ ...ok, count: 2 }, flavors, limits).quota, undefined);
    assert.equal(validate({ ...ok, count: 500 }, flavors, { ...limits, maxTotalCores: -1, maxTotalInstances: -1, maxTotalRAMSize: -1 }).quota, undefined);
  });

  it('builds the POST /servers body from every tab', () => {
    const { server, hints } = toRequest({
      ...ok, bootSource: 'volume', volumeId: 'vol', count: 2, networks: ['n2', 'n1'], userData: 'echo é', diskConfig: 'MANUAL', configDrive: true,
      serverGroup: 'g1', keyName: 'k', securityGroups: ['default', 'web'], availabilityZone: 'az1',
    });
    assert.deepEqual(server, {
      name: 'vm', flavorRef: '2', 'OS-DCF:diskConfig': 'MANUAL', availability_zone: 'az1', min_count: 2, max_count: 2, key_name: 'k',
      block_device_mapping_v2: [{ boot_index: 0, uuid: 'vol', source_type: 'volume', destination_type: 'volume', delete_on_termination: false }],
      security_groups: [{ name: 'default' }, { name: 'web' }], networks: [{ uuid: 'n2' }, { uuid: 'n1' }],
      user_data: Buffer.from('echo é').toString('base64'), config_drive: true,
    });
    assert.deepEqual(hints, { group: 'g1' });
    const plain = toRequest(ok);
    assert.equal(plain.server.imageRef, 'img');
    assert.equal(plain.server.networks, 'auto');
    assert.equal(plain.hints, undefined);
    assert.equal('user_data' in plain.server || 'min_count' in plain.server, false);
  });
});
