import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeHost, makeSpec } from '../testing.js';
import { runFilterCases } from './filter-cases.js';
import { parseVersionPredicate, versionToString } from './version-predicate.js';

const CC = 'ComputeCapabilitiesFilter';
const IP = 'ImagePropertiesFilter';
const caps = (extra_specs: Record<string, string>) => makeSpec({ flavor: { extra_specs } });
const image = (properties: Record<string, unknown>) => makeSpec({ image: { id: 'img', properties } });
const kvmHost = () =>
  makeHost()
    .named('h1')
    .hypervisor('QEMU', 6002000)
    .cpuInfo({ arch: 'x86_64', vendor: 'Intel', features: ['avx', 'aes', 'sse4.2'], topology: { cores: 4, threads: 2, sockets: 1 } });

runFilterCases([
  { filter: CC, name: 'no capabilities scope: not relevant', host: makeHost().build(), spec: caps({ 'hw:cpu_policy': 'dedicated', hypervisor_type: 'xen' }), pass: true, relevant: false },
  { filter: CC, name: 'hypervisor type equal', host: kvmHost().build(), spec: caps({ 'capabilities:hypervisor_type': 'QEMU' }), pass: true, relevant: true },
  {
    filter: CC,
    name: 'hypervisor type differs',
    host: kvmHost().build(),
    spec: caps({ 'capabilities:hypervisor_type': 's== ironic' }),
    pass: false,
    reason: `h1: hypervisor_type is "QEMU", which does not satisfy 's== ironic' (flavor extra spec capabilities:hypervisor_type)`,
    summary: "lack the capability the flavor requires: capabilities:hypervisor_type 's== ironic' (ComputeCapabilitiesFilter)",
  },
  { filter: CC, name: 'hypervisor version at least', host: kvmHost().build(), spec: caps({ 'capabilities:hypervisor_version': '>= 6000000' }), pass: true },
  { filter: CC, name: 'hypervisor version too old', host: kvmHost().build(), spec: caps({ 'capabilities:hypervisor_version': '>= 7000000' }), pass: false, reason: /hypervisor_version is 6002000/ },
  { filter: CC, name: 'cpu_info field, Nova colon path', host: kvmHost().build(), spec: caps({ 'capabilities:cpu_info:vendor': 'Intel' }), pass: true },
  { filter: CC, name: 'cpu_info nested field, dotted path', host: kvmHost().build(), spec: caps({ 'capabilities:cpu_info.topology.cores': '>= 4' }), pass: true },
  { filter: CC, name: 'cpu_info features <all-in>', host: kvmHost().build(), spec: caps({ 'capabilities:cpu_info:features': '<all-in> avx aes' }), pass: true },
  {
    filter: CC,
    name: 'cpu_info feature missing',
    host: kvmHost().build(),
    spec: caps({ 'capabilities:cpu_info:features': '<in> avx512f' }),
    pass: false,
    reason: /cpu_info\.features is \["avx","aes","sse4\.2"\], which does not satisfy '<in> avx512f'/,
  },
  {
    filter: CC,
    name: 'unknown capability rejects, as in Nova',
    host: kvmHost().build(),
    spec: caps({ 'capabilities:cpu_info:model': 'Skylake' }),
    pass: false,
    reason: 'h1: has no capability cpu_info.model (flavor extra spec capabilities:cpu_info:model)',
  },
  {
    filter: CC,
    name: 'every key must match',
    host: kvmHost().build(),
    spec: caps({ 'capabilities:hypervisor_type': 'QEMU', 'capabilities:cpu_info:arch': 'aarch64' }),
    pass: false,
    reason: /cpu_info\.arch is "x86_64"/,
  },
  { filter: IP, name: 'no image: not relevant', host: makeHost().build(), spec: makeSpec(), pass: true, relevant: false },
  { filter: IP, name: 'image without placement properties: not relevant', host: makeHost().build(), spec: image({ os_distro: 'cirros' }), pass: true, relevant: false },
  { filter: IP, name: 'architecture supported', host: makeHost().build(), spec: image({ hw_architecture: 'x86_64' }), pass: true, relevant: true },
  { filter: IP, name: 'legacy names and canonical forms (amd64, HVM)', host: makeHost().build(), spec: image({ architecture: 'amd64', vm_mode: 'HVM' }), pass: true },
  {
    filter: IP,
    name: 'architecture not supported',
    host: makeHost().named('h1').build(),
    spec: image({ hw_architecture: 'aarch64' }),
    pass: false,
    reason: 'h1: supports x86_64/fake/hvm; the image requires hw_architecture=aarch64',
    summary: "do not support the image's hw_architecture=aarch64 (ImagePropertiesFilter)",
  },
  { filter: IP, name: 'kvm image on a qemu host', host: makeHost().supports([['x86_64', 'qemu', 'hvm']]).build(), spec: image({ img_hv_type: 'kvm' }), pass: true },
  { filter: IP, name: 'qemu image on a kvm host', host: makeHost().supports([['x86_64', 'kvm', 'hvm']]).build(), spec: image({ img_hv_type: 'qemu' }), pass: true },
  {
    filter: IP,
    name: 'all properties must match one triple',
    host: makeHost().named('h1').supports([['x86_64', 'qemu', 'hvm'], ['aarch64', 'fake', 'hvm']]).build(),
    spec: image({ hw_architecture: 'aarch64', img_hv_type: 'qemu' }),
    pass: false,
    reason: 'h1: supports x86_64/qemu/hvm, aarch64/fake/hvm; the image requires hw_architecture=aarch64, img_hv_type=qemu',
  },
  { filter: IP, name: 'host advertising nothing', host: makeHost().named('h1').supports([]).build(), spec: image({ hw_vm_mode: 'hvm' }), pass: false, reason: /h1: advertises no supported instance types/ },
  { filter: IP, name: 'requested version satisfied (dotted)', host: kvmHost().build(), spec: image({ img_hv_requested_version: '>=6.0, <7' }), pass: true },
  { filter: IP, name: 'requested version satisfied (integer)', host: kvmHost().build(), spec: image({ img_hv_requested_version: '>=6000' }), pass: true },
  {
    filter: IP,
    name: 'requested version too new',
    host: kvmHost().build(),
    spec: image({ img_hv_requested_version: '>=7.1' }),
    pass: false,
    reason: "h1: hypervisor version 6.2.0 (6002000) does not satisfy the image's img_hv_requested_version '>=7.1'",
    summary: "have a hypervisor version that does not satisfy the image's img_hv_requested_version '>=7.1' (ImagePropertiesFilter)",
  },
  { filter: IP, name: 'host reporting no version passes, as in Nova', host: makeHost().hypervisor('fake', 0).build(), spec: image({ img_hv_requested_version: '>=7.1' }), pass: true },
]);

test('hypervisor versions: integer encoding and predicates', () => {
  assert.equal(versionToString(6002000), '6.2.0');
  assert.equal(versionToString(1000), '1.0');
  assert.equal(parseVersionPredicate('>=6.2').satisfiedBy(6002000), true);
  assert.equal(parseVersionPredicate('>6.2').satisfiedBy(6002000), false);
  assert.equal(parseVersionPredicate('==6.2.0').satisfiedBy(6002000), true);
  assert.equal(parseVersionPredicate('!=6.2.0, >=5').satisfiedBy(6002001), true);
  assert.equal(parseVersionPredicate('<7').satisfiedBy(6002000), true);
  assert.equal(parseVersionPredicate('nonsense').satisfiedBy(6002000), false);
});
