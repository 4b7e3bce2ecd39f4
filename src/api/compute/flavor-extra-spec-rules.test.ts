import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkExtraSpec } from './flavor-extra-spec-rules.js';

describe('flavor extra spec validation (2.86)', () => {
  const ok: [string, string][] = [
    ['hw:cpu_policy', 'dedicated'],
    ['hw:numa_nodes', '2'],
    ['hw:mem_page_size', 'large'],
    ['hw:mem_page_size', '2MB'],
    ['hw:cpu_realtime', 'yes'],
    ['trait:HW_CPU_X86_AVX2', 'required'],
    ['resources:VGPU', '1'],
    ['quota:disk_read_bytes_sec', '10240000'],
    ['aggregate_instance_extra_specs:ssd', 'true'],
    ['custom', 'anything at all'],
  ];
  const bad: [string, string][] = [
    ['hw:cpu_policy', 'sometimes'],
    ['hw:numa_nodes', '0'],
    ['hw:numa_nodes', 'two'],
    ['hw:cpu_realtime', 'perhaps'],
    ['hw:no_such_thing', '1'],
    ['trait:FOO', 'preferred'],
    ['resources:VGPU', '-1'],
    ['quota:cpu_shares', 'lots'],
  ];
  for (const [k, v] of ok) it(`accepts ${k}=${v}`, () => assert.doesNotThrow(() => checkExtraSpec(k, v)));
  for (const [k, v] of bad) it(`rejects ${k}=${v}`, () => assert.throws(() => checkExtraSpec(k, v), /^Invalid: Validation failed; /));
});
