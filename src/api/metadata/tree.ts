/**
 * The metadata service's answers for one instance, as a tree of directories and documents
 * resolved by path the way Nova's metadata API does:
 *
 * - `/openstack` lists the OpenStack metadata versions (not those dated in the future) and
 *   `latest`; `/openstack/<version>` lists that version's files (meta_data.json, user_data when
 *   the instance has user data, vendor_data.json, network_data.json, vendor_data2.json as the
 *   version defines them); the files have the config drive's content (virt/metadata-content.ts).
 * - `/` lists the EC2 versions and `latest`; any other path not under /openstack is EC2-style:
 *   `/<version>/meta-data/...` (a small tree: hostname, instance-id, local-ipv4, public keys,
 *   placement, ...) and `/<version>/user-data`. Every EC2 version serves the same tree.
 *
 * Listings are newline-separated names; inside an EC2 version a directory's name ends in `/`,
 * and a public key is listed as `<index>=<name>`. Paths are normalised (`//`, `.`, `..`, a
 * trailing `/`); a path naming nothing resolves to null (404).
 */
import { posix } from 'node:path';
import type { InstancePayload } from '../../virt/driver.js';
import { metadataFiles } from '../../virt/metadata-content.js';

/** EC2 metadata versions (Nova's list); `latest` is served besides them. */
export const EC2_VERSIONS = ['1.0', '2007-01-19', '2007-03-01', '2007-08-29', '2007-10-10', '2007-12-15', '2008-02-01', '2008-09-01', '2009-04-04'];

export interface Answer {
  body: Buffer;
  contentType: string;
}

interface Dir {
  entries: Map<string, Node>;
  /** How an entry is listed; default: its name, plus `/` for a directory when `slash`. */
  label?: (name: string, node: Node) => string;
  slash: boolean;
  /** Entries served but not listed (`openstack` in the root, as Nova's `/` lists EC2 versions only). */
  unlisted?: Set<string>;
}
type Node = Buffer | Dir;

const isDir = (n: Node): n is Dir => !Buffer.isBuffer(n);
const dir = (entries: [string, Node][], slash: boolean, label?: Dir['label']): Dir => ({ entries: new Map(entries), slash, label });
const text = (s: string) => Buffer.from(s);

/** The instance's whole tree; `address` is the fixed IP the request came from (local-ipv4). */
export function metadataTree(instance: InstancePayload, address: string, now = new Date()): Dir {
  const root = dir([], false);
  const openstack = dir([], false);
  for (const [path, content] of metadataFiles(instance, { now })) {
    const [top, version, file] = path.split('/');
    if (top !== 'openstack' || !version || !file) continue;
    let v = openstack.entries.get(version) as Dir | undefined;
    if (!v) openstack.entries.set(version, (v = dir([], false)));
    v.entries.set(file, content);
  }
  root.entries.set('openstack', openstack);
  root.unlisted = new Set(['openstack']);
  const ec2 = ec2Version(instance, address);
  for (const version of [...EC2_VERSIONS, 'latest']) root.entries.set(version, ec2);
  return root;
}

function ec2Version(instance: InstancePayload, address: string): Dir {
  const host = instance.hostname ?? `server-${instance.uuid}`;
  const fqdn = `${host}.novalocal`;
  const md: [string, Node][] = [
    ['ami-launch-index', text(String(instance.launch_index))],
    ['hostname', text(fqdn)],
    ['instance-id', text(instance.uuid)],
    ['instance-type', text(instance.flavor.name)],
    ['local-hostname', text(fqdn)],
    ['local-ipv4', text(address)],
    ['placement', dir([['availability-zone', text(instance.availability_zone ?? 'nova')]], true)],
    ['reservation-id', text(instance.reservation_id)],
  ];
  if (instance.key_name && instance.key_data !== null) {
    const keyName = instance.key_name;
    const key = dir([['openssh-key', text(instance.key_data)]], true);
    md.push(['public-keys', dir([['0', key]], true, (name) => `${name}=${keyName}`)]);
  }
  md.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const entries: [string, Node][] = [['meta-data', dir(md, true)]];
  if (instance.user_data !== null) entries.push(['user-data', Buffer.from(instance.user_data, 'base64')]);
  return dir(entries, true);
}

/** The answer at path (the URL path, without query), or null when there is nothing there. */
export function resolve(root: Dir, path: string): Answer | null {
  let node: Node = root;
  const normal = posix.normalize(`/${path}`);
  for (const token of normal.split('/').filter(Boolean)) {
    if (!isDir(node)) return null;
    const next = node.entries.get(token);
    if (!next) return null;
    node = next;
  }
  if (!isDir(node)) return { body: node, contentType: normal.endsWith('.json') ? 'application/json' : 'text/plain; charset=UTF-8' };
  const d = node;
  const names = [...d.entries].filter(([name]) => !d.unlisted?.has(name)).map(([name, n]) => (d.label ? d.label(name, n) : isDir(n) && d.slash ? `${name}/` : name));
  return { body: text(names.join('\n')), contentType: 'text/plain; charset=UTF-8' };
}
