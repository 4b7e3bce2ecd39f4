/**
 * What a guest learns about itself: the files of Nova's config drive, which the metadata
 * service (a later issue) serves under http://169.254.169.254/openstack/ with the same content.
 * Pure functions of the instance payload (apart from random_seed, which is random by design).
 *
 * Shapes follow Nova's OpenStack metadata API: each dated version directory holds what that
 * version defined (random_seed from 2013-04-04, project_id and network_data.json from 2015-10-15,
 * devices from 2016-06-30, vendor_data2.json from 2016-10-06, dedicated_cpus from 2020-10-14),
 * and `latest` holds everything. The EC2-style tree (ec2/...) and openstack/content/ (injected
 * files, which nova-ts does not accept) are not produced.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { InstancePayload } from './driver.js';

/** The OpenStack metadata versions Nova serves, oldest first; `latest` is served besides them. */
export const OPENSTACK_METADATA_VERSIONS = [
  '2012-08-10',
  '2013-04-04',
  '2013-10-17',
  '2015-10-15',
  '2016-06-30',
  '2016-10-06',
  '2017-02-22',
  '2018-08-27',
  '2020-10-14',
] as const;

/** One port of the instance as the network service describes it (the later network_info entries). */
export interface NetworkInfoVif {
  /** Port id; network_data.json's `vif_id`. */
  id: string;
  /** MAC address. */
  address: string;
  /** Host-side device name (e.g. the tap); the link's id. `interface<N>` when absent. */
  devname?: string;
  /** VIF type ('bridge', 'tap', 'ovs', ...); exposed as the link type like Nova does, else 'phy'. */
  type?: string;
  network: {
    id: string;
    /** Link MTU; only shown when no subnet of the port is served by DHCP (as Nova does). */
    mtu?: number | null;
    subnets: NetworkInfoSubnet[];
  };
}

export interface NetworkInfoSubnet {
  cidr: string;
  gateway: string | null;
  /** DNS server addresses. */
  dns: string[];
  /** Fixed IPs of the port on this subnet; only the first is described to the guest. */
  ips: { address: string }[];
  /** When set, the guest is told to configure this network by DHCP (type ipv4_dhcp/ipv6_dhcp). */
  dhcp_server?: string | null;
  /** Extra static routes besides the default one through `gateway`. */
  routes?: { cidr: string; gateway: string }[];
}

/** VIF types Nova shows as the link type; any other type is shown as 'phy'. */
const EXPOSED_VIF_TYPES = new Set(['bridge', 'dvs', 'hw_veb', 'hyperv', 'ovs', 'tap', 'vhostuser', 'vif']);

/** Options for metadataFiles. */
export interface MetadataOptions {
  /** Versions dated after `now` are left out, as Nova hides future versions. Default: current time. */
  now?: Date;
  /** Appended to the hostname (Nova's [api] dhcp_domain); '' for none. Default 'novalocal'. */
  dhcpDomain?: string;
  /** Zone reported when the instance has none (Nova's default_availability_zone). Default 'nova'. */
  defaultAvailabilityZone?: string;
}

/**
 * Whether the instance gets a config drive: when the server asks for one, has user data or a key
 * pair, or its image demands one (img_config_drive=mandatory, as in Nova).
 */
export function needsConfigDrive(instance: InstancePayload): boolean {
  return (
    instance.config_drive ||
    Boolean(instance.user_data) ||
    Boolean(instance.key_data) ||
    instance.image?.properties?.img_config_drive === 'mandatory'
  );
}

/**
 * The config drive's files, keyed by path relative to the drive's root
 * (`openstack/latest/meta_data.json`, `openstack/2012-08-10/user_data`, ...).
 * user_data appears only when the instance has user data, base64-decoded to the raw bytes.
 * Every meta_data.json carries its own fresh random_seed (where its version has one).
 */
export function metadataFiles(instance: InstancePayload, opts: MetadataOptions = {}): Map<string, Buffer> {
  const today = (opts.now ?? new Date()).toISOString().slice(0, 10);
  const versions: string[] = [...OPENSTACK_METADATA_VERSIONS.filter((v) => v <= today), 'latest'];
  const userData = instance.user_data === null ? null : Buffer.from(instance.user_data, 'base64');
  const network = json(networkData(instance.network_info as NetworkInfoVif[]));
  const files = new Map<string, Buffer>();
  for (const version of versions) {
    const dir = `openstack/${version}`;
    files.set(`${dir}/meta_data.json`, json(metaData(instance, version, opts)));
    if (userData) files.set(`${dir}/user_data`, userData);
    // Nova's default vendordata: StaticJSON without a file, so vendor_data.json is {} and the
    // v2 document names that one provider.
    if (atLeast(version, '2013-10-17')) files.set(`${dir}/vendor_data.json`, json({}));
    if (atLeast(version, '2015-10-15')) files.set(`${dir}/network_data.json`, network);
    if (atLeast(version, '2016-10-06')) files.set(`${dir}/vendor_data2.json`, json({ static: {} }));
  }
  return files;
}

/** The meta_data.json document of one metadata version ('latest' or a dated one). */
export function metaData(instance: InstancePayload, version: string, opts: MetadataOptions = {}): Record<string, unknown> {
  const md: Record<string, unknown> = { uuid: instance.uuid };
  if (Object.keys(instance.metadata).length > 0) md.meta = { ...instance.metadata };
  if (instance.key_name && instance.key_data !== null) {
    md.public_keys = { [instance.key_name]: instance.key_data };
    md.keys = [{ name: instance.key_name, type: 'ssh', data: instance.key_data }];
  }
  const domain = opts.dhcpDomain ?? 'novalocal';
  const host = instance.hostname ?? `server-${instance.uuid}`;
  md.hostname = domain ? `${host}.${domain}` : host;
  md.name = instance.display_name;
  md.launch_index = instance.launch_index;
  md.availability_zone = instance.availability_zone ?? opts.defaultAvailabilityZone ?? 'nova';
  if (atLeast(version, '2013-04-04')) md.random_seed = randomBytes(512).toString('base64');
  if (atLeast(version, '2015-10-15')) md.project_id = instance.project_id;
  // No tagged devices exist in nova-ts and no CPUs are pinned: both lists are honestly empty.
  if (atLeast(version, '2016-06-30')) md.devices = [];
  if (atLeast(version, '2020-10-14')) md.dedicated_cpus = [];
  return md;
}

/**
 * network_data.json for the instance's ports. Like Nova, an instance without ports gets `{}`;
 * a port is described by its first IPv4 and first IPv6 subnet that has a fixed IP.
 */
export function networkData(vifs: NetworkInfoVif[]): Record<string, unknown> {
  if (!vifs || vifs.length === 0) return {};
  const links: Record<string, unknown>[] = [];
  const networks: Record<string, unknown>[] = [];
  const services: { type: 'dns'; address: string }[] = [];
  let ifc = -1;
  let net = -1;
  for (const vif of vifs) {
    const subnets = vif.network?.subnets ?? [];
    if (subnets.length === 0) continue;
    ifc += 1;
    const v4 = subnets.find((s) => ipVersion(s.cidr) === 4);
    const v6 = subnets.find((s) => ipVersion(s.cidr) === 6);
    if (!v4 && !v6) continue;
    const linkId = vif.devname || `interface${ifc}`;
    const dhcp = subnets.some((s) => s.dhcp_server);
    links.push({
      id: linkId,
      vif_id: vif.id,
      type: vif.type && EXPOSED_VIF_TYPES.has(vif.type) ? vif.type : 'phy',
      mtu: dhcp ? null : (vif.network.mtu ?? null),
      ethernet_mac_address: vif.address,
    });
    for (const [subnet, version] of [[v4, 4], [v6, 6]] as const) {
      if (!subnet || subnet.ips.length === 0) continue;
      net += 1;
      networks.push(describeNetwork(vif, subnet, version, `network${net}`, linkId));
      for (const dns of dnsServices(subnet)) {
        if (!services.some((s) => s.address === dns.address)) services.push(dns);
      }
    }
  }
  return { links, networks, services };
}

function describeNetwork(
  vif: NetworkInfoVif,
  subnet: NetworkInfoSubnet,
  version: 4 | 6,
  id: string,
  link: string,
): Record<string, unknown> {
  if (subnet.dhcp_server) return { id, type: `ipv${version}_dhcp`, link, network_id: vif.network.id };
  const any = version === 4 ? '0.0.0.0' : '::';
  const routes = subnet.gateway ? [{ network: any, netmask: any, gateway: subnet.gateway }] : [];
  for (const r of subnet.routes ?? []) {
    const [addr, prefix] = splitCidr(r.cidr);
    routes.push({ network: addr, netmask: netmask(version, prefix), gateway: r.gateway });
  }
  return {
    id,
    type: `ipv${version}`,
    link,
    ip_address: subnet.ips[0].address,
    netmask: netmask(version, splitCidr(subnet.cidr)[1]),
    routes,
    network_id: vif.network.id,
    services: dnsServices(subnet),
  };
}

function dnsServices(subnet: NetworkInfoSubnet): { type: 'dns'; address: string }[] {
  return subnet.dns.map((address) => ({ type: 'dns', address }));
}

function ipVersion(cidr: string): 4 | 6 | 0 {
  return isIP(splitCidr(cidr)[0]) as 4 | 6 | 0;
}

function splitCidr(cidr: string): [string, number] {
  const [addr, len] = cidr.split('/');
  const max = isIP(addr) === 6 ? 128 : 32;
  return [addr, len === undefined ? max : Number(len)];
}

/** Dotted (IPv4) or compressed-hex (IPv6) netmask of a prefix length. */
export function netmask(version: 4 | 6, prefix: number): string {
  const bits = version === 4 ? 32 : 128;
  const groupBits = version === 4 ? 8 : 16;
  const groups: number[] = [];
  for (let start = 0; start < bits; start += groupBits) {
    const ones = Math.max(0, Math.min(groupBits, prefix - start));
    groups.push(ones === 0 ? 0 : ((1 << groupBits) - 1) ^ ((1 << (groupBits - ones)) - 1));
  }
  if (version === 4) return groups.join('.');
  // A mask's zero groups are all trailing: compress them when there are two or more (RFC 5952).
  const firstZero = groups.indexOf(0);
  const hex = groups.map((g) => g.toString(16));
  if (firstZero === -1 || groups.length - firstZero < 2) return hex.join(':');
  return `${hex.slice(0, firstZero).join(':')}::`;
}

/** Whether version (a date or 'latest') includes what Nova added in `since`. */
function atLeast(version: string, since: string): boolean {
  return version === 'latest' || version >= since;
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}
