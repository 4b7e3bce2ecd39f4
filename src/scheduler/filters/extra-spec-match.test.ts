import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matches, parseRequirement } from './extra-spec-match.js';

// [host value, requirement, expected]: Nova's extra_specs_ops semantics.
const cases: [string | number | string[] | null, string, boolean][] = [
  ['1', '1', true],
  ['123', '12', false],
  ['true', 'true', true],
  ['true', 'True', false],
  ['kvm', 'kvm ', false], // a plain requirement compares the whole string
  ['4096', '= 2048', true], // '=' means at least
  ['1024', '= 2048', false],
  ['2048', '== 2048', true],
  ['2048.0', '== 2048', true],
  ['2047', '== 2048', false],
  ['2047', '!= 2048', true],
  ['2048', '!= 2048', false],
  ['12', '>= 12', true],
  ['11', '>= 12', false],
  ['12', '<= 12', true],
  ['13', '<= 12', false],
  [6002000, '>= 6000000', true],
  ['abc', '>= 1', false], // not a number: no match
  ['1', '>= abc', false],
  ['kvm', 's== kvm', true],
  ['qemu', 's== kvm', false],
  ['qemu', 's!= kvm', true],
  ['abc', 's< abd', true],
  ['abd', 's<= abd', true],
  ['abe', 's> abd', true],
  ['abd', 's>= abe', false],
  ['10', 's< 9', true], // string, not numeric, order
  ['avx2,sse4', '<in> avx', true], // substring, as in Nova
  ['sse4', '<in> avx', false],
  [['avx2', 'sse4'], '<in> avx', false], // a list: element-wise
  [['avx', 'sse4'], '<in> avx', true],
  [['aes', 'avx', 'sse4'], '<all-in> aes avx', true],
  [['aes', 'sse4'], '<all-in> aes avx', false],
  ['qemu', '<or> kvm <or> qemu', true],
  ['kvm', '<or> kvm <or> qemu', true],
  ['xen', '<or> kvm <or> qemu', false],
  ['<or>', '<or> kvm <or> qemu', false],
  ['kvm', '<or> kvm', true],
  [null, 's== kvm', false],
  [null, '<or> kvm', false],
  ['x', '>=', false], // an operator without argument matches nothing
  ['>=', '>=', false],
];

for (const [value, req, want] of cases)
  test(`extra-spec match: ${JSON.stringify(value)} against '${req}' is ${want}`, () => {
    assert.equal(matches(value, parseRequirement(req)), want);
  });

test('parseRequirement keeps the text and the alternatives of <or>', () => {
  assert.deepEqual(parseRequirement('<or> a <or> b <or> c').args, ['a', 'b', 'c']);
  assert.equal(parseRequirement('>= 4').num, 4);
  assert.equal(parseRequirement('plain').op, null);
  assert.equal(parseRequirement('  s==  kvm ').text, '  s==  kvm ');
});
