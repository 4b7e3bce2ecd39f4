import { existsSync, mkdirSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Bus } from '../../bus/bus.js';
import { AGENT_TOPIC, type HostNetworkState, type HostStateSource, type Vif } from '../types.js';
import { unavailable } from '../../errors.js';
import { logger } from '../../util/log.js';
import { run } from './exec.js';
import { applyLinks, readLinks } from './links.js';
import { applyFirewall, applyIpv6Lockdown } from './firewall.js';
import { admitSnapshot, flushFlows, narrowings, type AdmitSnapshot } from './conntrack.js';
import { dnsmasqNetworks, ensureDnsmasq, stopDnsmasq } from './dhcp.js';
import { ensureProxy, stopProxy } from './metadata-proxy-process.js';

/**
 * The network agent: the dataplane of one compute host. It makes the host's network namespace
 * match the host's desired state (HostStateSource.hostState): bridges, taps, dnsmasq, iptables
 * and the metadata proxy. Every sync reads the whole state and converges (idempotent); syncs
 * never overlap. The namespace and its dnsmasq processes outlive the agent (guests live there).
 */
export interface NetworkAgent {
  /** The namespace guests of this host live in (QEMU runs in it); null for the no-op agent. */
  readonly netns: string | null;
  /** Prepares the namespace, starts the metadata proxy, listens for changes, syncs once. No-op when started. */
  start(): Promise<void>;
  /** Syncs, then checks that every vif's device exists (before QEMU opens the taps). */
  plug(vifs: Vif[]): Promise<void>;
  /** Syncs (the ports are already gone from the state) and deletes the vifs' devices if left. */
  unplug(vifs: Vif[]): Promise<void>;
  /** Makes the namespace match the state now. Rejects with what failed. */
  sync(): Promise<void>;
  /**
   * Stops listening, the periodic resync and the metadata proxy. With removeNamespace: also
   * kills its dnsmasq processes, deletes the namespace (and all devices in it) and its files.
   */
  stop(opts?: { removeNamespace?: boolean }): Promise<void>;
}

export interface LinuxAgentOptions {
  host: string;
  netns: string;
  bus: Bus;
  source: HostStateSource;
  /** The API process's metadata server socket; null: no metadata proxy. */
  metadataSocket: string | null;
  /** Pid files, dnsmasq hosts/lease files, logs. Created when missing. */
  stateDir: string;
  log?: (m: string) => void;
  /** Periodic full resync (default 10 s). */
  resyncIntervalSec?: number;
}

/** What the last sync did (for logs and benchmarks). */
export interface SyncStats {
  ports: number;
  networks: number;
  linkChanges: number;
  rules: number;
  firewallApplied: boolean;
  /** Tracked flows deleted because what a port admits shrank (see conntrack.ts). */
  flowsDeleted: number;
  linksMs: number;
  firewallMs: number;
  conntrackMs: number;
  dhcpMs: number;
  totalMs: number;
}

export interface LinuxNetworkAgent extends NetworkAgent {
  readonly netns: string;
  lastSync(): SyncStats | null;
}

const DEBOUNCE_MS = 100;
const log0 = logger('network-agent');

export function createLinuxAgent(opts: LinuxAgentOptions): LinuxNetworkAgent {
  const { host, netns, bus, source, stateDir } = opts;
  const log = opts.log ?? ((m: string) => log0.info(m));
  let stopServing: (() => Promise<void>) | null = null;
  let interval: NodeJS.Timeout | null = null;
  let debounce: NodeJS.Timeout | null = null;
  let lastFirewall: string | null = null;
  /** What the ports admitted after the last sync whose flow deletions (if any) succeeded. */
  let lastAdmits: AdmitSnapshot | null = null;
  let stats: SyncStats | null = null;
  let stopped = false;

  // Serialised syncs; a sync requested while one is waiting to start joins that one.
  let tail: Promise<unknown> = Promise.resolve();
  let queued: Promise<void> | null = null;
  const enqueue = (remove: string[] = []): Promise<void> => {
    if (queued && !remove.length) return queued;
    const p = tail.then(() => {
      if (queued === p) queued = null;
      return doSync(remove);
    });
    if (!remove.length) queued = p;
    tail = p.catch(() => undefined);
    return p;
  };

  async function doSync(remove: string[]): Promise<void> {
    const t0 = performance.now();
    const state = sane(await source.hostState(host));
    const linkChanges = await applyLinks(netns, state, remove);
    const t1 = performance.now();
    const fw = await applyFirewall(netns, state.ports, lastFirewall).catch((e) => {
      lastFirewall = null;
      throw e;
    });
    lastFirewall = fw.key;
    const t2 = performance.now();
    // After the new rules are in place (so a deleted flow cannot be re-admitted by the old ones).
    // On failure the old snapshot stays, so the next sync deletes them again.
    const admits = admitSnapshot(state.ports);
    let flowsDeleted = 0;
    try {
      flowsDeleted = lastAdmits ? await flushFlows(netns, narrowings(lastAdmits, admits)) : 0;
      lastAdmits = admits;
    } catch (e) {
      log(`deleting tracked flows failed (retried by the next sync): ${(e as Error).message}`);
    }
    const tc = performance.now();
    const wanted = new Set(state.networks.map((n) => n.id));
    for (const n of state.networks) {
      const r = await ensureDnsmasq(netns, n, state.ports, stateDir);
      if (r !== 'unchanged' && r !== 'none') log(`dnsmasq for network ${n.id}: ${r}`);
    }
    for (const id of dnsmasqNetworks(stateDir)) if (!wanted.has(id) && (await stopDnsmasq(stateDir, id))) log(`dnsmasq for network ${id}: stopped`);
    const t3 = performance.now();
    stats = {
      ports: state.ports.length,
      networks: state.networks.length,
      linkChanges,
      rules: fw.rules,
      firewallApplied: fw.applied,
      flowsDeleted,
      linksMs: t1 - t0,
      firewallMs: t2 - t1,
      conntrackMs: tc - t2,
      dhcpMs: t3 - tc,
      totalMs: t3 - t0,
    };
    if (linkChanges || fw.applied || flowsDeleted)
      log(
        `synced ${state.ports.length} ports: ${linkChanges} link changes, ${fw.rules} rules${fw.applied ? ' applied' : ''}` +
          `${flowsDeleted ? `, ${flowsDeleted} tracked flows deleted` : ''} in ${Math.round(stats.totalMs)} ms`,
      );
  }

  const background = () => {
    if (stopped) return;
    enqueue().catch((e: Error) => log(`sync failed: ${e.message}`));
  };

  async function prepareNamespace(): Promise<void> {
    if (!existsSync('/proc/sys/net/bridge')) await run('modprobe', ['br_netfilter'], { allowFail: true });
    if (!existsSync(`/run/netns/${netns}`)) await run('ip', ['netns', 'add', netns]);
    await run('ip', ['-n', netns, '-batch', '-'], { input: 'link set lo up\naddr replace 169.254.169.254/32 dev lo\n' });
    const sysctls: [string, string][] = [
      ['net/ipv4/ip_forward', '0'],
      ['net/bridge/bridge-nf-call-iptables', '1'],
      ['net/ipv4/conf/all/rp_filter', '1'],
      ['net/ipv4/conf/default/rp_filter', '1'],
      // A flow whose conntrack entry was deleted (conntrack.ts) is tracked again mid-stream.
      ['net/netfilter/nf_conntrack_tcp_loose', '1'],
    ];
    if (!existsSync('/proc/sys/net/netfilter/nf_conntrack_tcp_loose')) await run('modprobe', ['nf_conntrack'], { allowFail: true });
    const script = sysctls.map(([k, v]) => `echo ${v} > /proc/sys/${k}`).join(' && ');
    await run('ip', ['netns', 'exec', netns, 'sh', '-c', script]);
    await applyIpv6Lockdown(netns);
  }

  /** Drops (and logs) entries whose names could not be device names or iptables arguments. */
  function sane(state: HostNetworkState): HostNetworkState {
    const dev = /^[A-Za-z0-9_.-]{1,15}$/;
    const mac = /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/;
    const ip = /^[0-9.:a-fA-F]+$/;
    const networks = state.networks.filter((n) => dev.test(n.bridge) || (log(`ignoring network ${n.id}: bad bridge name ${JSON.stringify(n.bridge)}`), false));
    const ports = state.ports.filter(
      (p) =>
        (dev.test(p.devname) && mac.test(p.mac) && p.fixed_ips.every((f) => ip.test(f.ip_address))) ||
        (log(`ignoring port ${p.id}: bad device name, MAC or address`), false),
    );
    return { ...state, networks, ports };
  }

  return {
    netns,
    lastSync: () => stats,

    async start() {
      if (stopServing) return; // already started
      stopped = false;
      mkdirSync(stateDir, { recursive: true });
      await prepareNamespace();
      if (opts.metadataSocket) {
        const p = await ensureProxy(netns, opts.metadataSocket, stateDir);
        log(`metadata proxy ${p.adopted ? 'adopted' : 'started'} (pid ${p.pid})`);
      }
      stopServing = await bus.serve(AGENT_TOPIC, (method, args) => {
        if (method !== 'changed') return;
        const hosts = args?.hosts;
        if (Array.isArray(hosts) && !hosts.includes(host)) return;
        if (debounce) clearTimeout(debounce);
        debounce = setTimeout(() => ((debounce = null), background()), DEBOUNCE_MS);
        debounce.unref();
      });
      await enqueue();
      interval = setInterval(background, (opts.resyncIntervalSec ?? 10) * 1000);
      interval.unref();
    },

    sync: () => enqueue(),

    async plug(vifs) {
      await enqueue();
      const links = await readLinks(netns);
      const missing = vifs.filter((v) => !links.has(v.devname)).map((v) => `${v.devname} (port ${v.id})`);
      if (missing.length) throw unavailable(`The network agent of ${host} has no device ${missing.join(', ')}: the port is not bound to this host.`);
    },

    async unplug(vifs) {
      await enqueue(vifs.map((v) => v.devname));
    },

    async stop(o = {}) {
      stopped = true;
      if (interval) clearInterval(interval);
      if (debounce) clearTimeout(debounce);
      interval = debounce = null;
      if (stopServing) await stopServing();
      stopServing = null;
      await tail;
      await stopProxy(stateDir);
      if (!o.removeNamespace) return;
      for (const id of dnsmasqNetworks(stateDir)) await stopDnsmasq(stateDir, id);
      if (existsSync(`/run/netns/${netns}`)) await run('ip', ['netns', 'del', netns]);
      lastFirewall = null;
      lastAdmits = null;
      if (existsSync(stateDir)) {
        for (const f of readdirSync(stateDir)) if (/^(dnsmasq-|metadata-proxy\.)/.test(f)) rmSync(join(stateDir, f), { force: true });
        try {
          rmdirSync(stateDir);
        } catch {
          /* not empty: other files are not ours */
        }
      }
    },
  };
}

/** The agent of the fake driver: nothing is plumbed. */
export function createNoopAgent(): NetworkAgent {
  const none = async () => undefined;
  return { netns: null, start: none, plug: none, unplug: none, sync: none, stop: none };
}
