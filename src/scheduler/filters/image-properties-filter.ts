import type { HostState } from '../host-state.js';
import type { RequestSpec } from '../rpcapi.js';
import { parseVersionPredicate, versionToString, type VersionPredicate } from './version-predicate.js';
import { perRequest } from './per-request.js';
import { PASS, type FilterResult, type HostFilter } from './types.js';

export const NAME = 'ImagePropertiesFilter';

interface ImageNeeds {
  /** Canonical [architecture, hypervisor type, vm mode]; null = any. */
  arch: string | null;
  hvType: string | null;
  vmMode: string | null;
  /** "hw_architecture=aarch64, img_hv_type=kvm": what the image asks, for messages. */
  wanted: string;
  version: VersionPredicate | null;
  propsSummary: string;
  versionSummary: string;
}

const str = (v: unknown): string | null => (v === undefined || v === null || v === '' ? null : String(v).trim().toLowerCase());

/** Nova's Architecture.canonicalize, HVType.canonicalize and VMMode.canonicalize. */
const canonicalArch = (a: string | null) =>
  a === null ? null : ['i386', 'i486', 'i586', 'x86_32', 'x86_32p'].includes(a) ? 'i686' : a === 'amd64' || a === 'x64' ? 'x86_64' : a;
const canonicalHv = (t: string | null) => (t === 'xapi' ? 'xen' : t);
const canonicalVmMode = (m: string | null) => (m === 'hv' || m === 'baremetal' ? 'hvm' : m === 'pv' ? 'xen' : m);

/** The image's hw_architecture, img_hv_type, hw_vm_mode (or their legacy names) and img_hv_requested_version. */
const needsOf = perRequest((spec: RequestSpec): ImageNeeds | null => {
  const p = spec.image?.properties;
  if (!p) return null;
  const archKey = p.hw_architecture != null ? 'hw_architecture' : 'architecture';
  const hvKey = p.img_hv_type != null ? 'img_hv_type' : 'hypervisor_type';
  const modeKey = p.hw_vm_mode != null ? 'hw_vm_mode' : 'vm_mode';
  const arch = canonicalArch(str(p[archKey]));
  const hvType = canonicalHv(str(p[hvKey]));
  const vmMode = canonicalVmMode(str(p[modeKey]));
  const req = p.img_hv_requested_version == null ? '' : String(p.img_hv_requested_version).trim();
  const version = req ? parseVersionPredicate(req) : null;
  if (arch === null && hvType === null && vmMode === null && version === null) return null;
  const wanted = [arch && `${archKey}=${arch}`, hvType && `${hvKey}=${hvType}`, vmMode && `${modeKey}=${vmMode}`].filter(Boolean).join(', ');
  return {
    arch,
    hvType,
    vmMode,
    wanted,
    version,
    propsSummary: `do not support the image's ${wanted} (${NAME})`,
    versionSummary: `have a hypervisor version that does not satisfy the image's img_hv_requested_version '${req}' (${NAME})`,
  };
});

/** qemu and kvm are one hypervisor type for placement: a KVM host also runs plain QEMU guests. */
const sameHv = (want: string, have: string) => want === have || ((want === 'qemu' || want === 'kvm') && (have === 'qemu' || have === 'kvm'));

function supports(h: HostState, n: ImageNeeds): boolean {
  if (n.arch === null && n.hvType === null && n.vmMode === null) return true;
  const list = h.supported_instances;
  for (let i = 0; i < list.length; i++) {
    const [arch, hv, mode] = list[i];
    if (n.arch !== null && n.arch !== arch) continue;
    if (n.hvType !== null && !sameHv(n.hvType, hv)) continue;
    if (n.vmMode !== null && n.vmMode !== mode) continue;
    return true;
  }
  return false;
}

/**
 * Passes hosts that can run the image: some [architecture, hypervisor type, vm mode] the host
 * supports matches every one the image names (Nova's canonical names; qemu and kvm
 * interchangeable), and the hypervisor version satisfies img_hv_requested_version (a host
 * reporting no version passes, as in Nova). An image naming none of these passes everywhere.
 */
export const imagePropertiesFilter = (): HostFilter => ({
  name: NAME,
  relevant: (spec) => needsOf(spec) !== null,
  filter(h: HostState, spec: RequestSpec): FilterResult {
    const n = needsOf(spec);
    if (n === null) return PASS;
    if (!supports(h, n)) {
      const have = h.supported_instances.length ? `supports ${h.supported_instances.map((t) => t.join('/')).join(', ')}` : 'advertises no supported instance types';
      return { pass: false, reason: `${h.host}: ${have}; the image requires ${n.wanted}`, summary: n.propsSummary };
    }
    if (n.version && h.hypervisor_version && !n.version.satisfiedBy(h.hypervisor_version)) {
      return {
        pass: false,
        reason: `${h.host}: hypervisor version ${versionToString(h.hypervisor_version)} (${h.hypervisor_version}) does not satisfy the image's img_hv_requested_version '${n.version.text}'`,
        summary: n.versionSummary,
      };
    }
    return PASS;
  },
});
