/**
 * The agent with 200 ports on one host (persistent taps, default-group rules whose remote
 * group has all 200 members): how long a full sync, an idle resync and a rule change take,
 * and how many iptables rules that makes. Prints the figures as test diagnostics.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { InProcessBus } from '../../bus/in-process.js';
import type { HostNetworkState } from '../types.js';
import { createLinuxAgent, type LinuxNetworkAgent } from './agent.js';
import { syntheticHostState } from './synthetic-state.js';

const canRun =
  process.getuid?.() === 0 && ['ip', 'iptables-restore', 'dnsmasq'].every((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
const N = 200;
const netns = `nts-test-${process.pid}-scale`;
const dir = mkdtempSync(join(tmpdir(), 'nts-agent-scale-'));
const bus = new InProcessBus();
let agent: LinuxNetworkAgent | null = null;

after(async () => {
  try {
    await agent?.stop({ removeNamespace: true });
  } finally {
    spawnSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
    await bus.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

const net = randomUUID();
const sub = randomUUID();

/** N ports with addresses `step` apart (1: consecutive, as IPAM hands them out). */
function hostState(step: number, ids: string[] = Array.from({ length: N }, () => randomUUID())): HostNetworkState {
  return syntheticHostState({ host: 'scale', netId: net, subnetId: sub, portIds: ids, step });
}

test(`${N} ports: full sync, idle resync, rule change`, { skip: canRun ? false : 'needs root, ip, iptables and dnsmasq' }, async (t) => {
  let state = hostState(1);
  agent = createLinuxAgent({ host: 'scale', netns, bus, source: { hostState: async () => state }, metadataSocket: null, stateDir: join(dir, 'state'), log: () => undefined });
  const fmt = (s = agent!.lastSync()!) =>
    `${s.ports} ports, ${s.linkChanges} link changes, ${s.rules} rules (${s.firewallApplied ? 'applied' : 'unchanged'}): ` +
    `links ${s.linksMs.toFixed(0)} ms, iptables ${s.firewallMs.toFixed(0)} ms, dnsmasq ${s.dhcpMs.toFixed(0)} ms, total ${s.totalMs.toFixed(0)} ms`;

  await agent.start();
  t.diagnostic(`first sync: ${fmt()}`);
  assert.equal(agent.lastSync()!.linkChanges, 3 + 2 * N, 'bridge (add, up, address), a tap and its settings per port');
  const save = spawnSync('ip', ['netns', 'exec', netns, 'iptables-save', '-t', 'filter'], { encoding: 'utf8' }).stdout;
  assert.equal(save.split('\n').filter((l) => l.startsWith('-A ')).length, agent.lastSync()!.rules);
  assert.equal(readFileSync(join(dir, 'state', `dnsmasq-${state.networks[0].id}.hosts`), 'utf8').split('\n').length, N + 1);

  await agent.sync();
  t.diagnostic(`idle resync: ${fmt()}`);
  assert.equal(agent.lastSync()!.linkChanges, 0);
  assert.equal(agent.lastSync()!.firewallApplied, false);

  for (const p of state.ports) p.ingress.push({ ethertype: 'IPv4', protocol: 'tcp', port_min: 443, port_max: 443, remote: null });
  await agent.sync();
  t.diagnostic(`one rule added to every port: ${fmt()}`);
  assert.equal(agent.lastSync()!.firewallApplied, true);

  // Members on every other address: the remote group cannot be aggregated (one rule per member).
  state = hostState(2, state.ports.map((p) => p.id));
  await agent.sync();
  t.diagnostic(`scattered members (no aggregation): ${fmt()}`);
  assert.ok(agent.lastSync()!.rules > N * N);
});
