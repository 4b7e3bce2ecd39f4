import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NovaError } from '../errors.js';
import { parseRuleFields } from './security-group-rules-validate.js';

function rejects(body: Record<string, unknown>, type: string, message: RegExp): void {
  assert.throws(
    () => parseRuleFields({ direction: 'ingress', ethertype: 'IPv4', ...body }),
    (e: unknown) => e instanceof NovaError && e.kind === 'Invalid' && e.details.neutronType === type && message.test(e.message),
    JSON.stringify(body),
  );
}

test('tcp port ranges: a missing end and min > max give Neutron\'s message, then say what to fix', () => {
  rejects({ protocol: 'tcp', port_range_min: null, port_range_max: 6 }, 'SecurityGroupInvalidPortRange', /^For TCP\/UDP protocols, port_range_min must be <= port_range_max: port_range_min is missing; .*give both/);
  rejects({ protocol: 'udp', port_range_min: 53 }, 'SecurityGroupInvalidPortRange', /port_range_min must be <= port_range_max: port_range_max is missing/);
  rejects({ protocol: 'tcp', port_range_min: 80, port_range_max: 79 }, 'SecurityGroupInvalidPortRange', /port_range_min must be <= port_range_max \(got 80 > 79\)/);
  rejects({ protocol: 'tcp', port_range_min: -16, port_range_max: 80 }, 'SecurityGroupInvalidPortValue', /Invalid value for port -16/);
  rejects({ protocol: 'tcp', port_range_min: 80, port_range_max: 65536 }, 'SecurityGroupInvalidPortValue', /Invalid value for port 65536/);
  assert.deepEqual(
    [parseRuleFields({ direction: 'ingress', protocol: 'tcp', port_range_min: 6, port_range_max: 6 })].map((r) => [r.port_range_min, r.port_range_max]),
    [[6, 6]],
  );
});

test('icmp type/code: as Neutron words them', () => {
  rejects({ protocol: 'icmp', port_range_min: 1, port_range_max: 256 }, 'SecurityGroupInvalidIcmpValue', /Invalid value for ICMP code/);
  rejects({ protocol: 'icmp', port_range_min: 300, port_range_max: 1 }, 'SecurityGroupInvalidIcmpValue', /Invalid value for ICMP type/);
  rejects({ protocol: 'icmp', port_range_min: -1, port_range_max: 25 }, 'SecurityGroupInvalidPortValue', /Invalid value/);
  rejects({ protocol: 'icmp', port_range_min: null, port_range_max: 6 }, 'SecurityGroupMissingIcmpType', /ICMP code \(port-range-max\) 6 is provided but ICMP type \(port-range-min\) is missing/);
});
