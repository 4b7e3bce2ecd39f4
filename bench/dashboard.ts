/**
 * Dashboard benchmark (issue 9), in the repo:
 *   npm run bench:dashboard
 *   npm run bench:dashboard -- --servers 1000 --changes 10
 *
 * In this process: an all-in-one cloud (fake driver, one compute host sized for --servers) on a
 * free port in a temporary data dir; admin logged in through the API, its quota raised, and
 * --servers servers (m1.tiny, networks none, microversion 2.37) booted into the admin project with
 * min_count/max_count in batches of --batch, waited ACTIVE. The dashboard is built first when
 * dashboard/dist is missing. Then headless Chromium (test/helpers/browser.ts) logs in as admin
 * through the login form (the Instances page lists the admin project's servers) and measures:
 *  1. first render: page.goto(/project/instances) --loads times (warm browser cache after the
 *     login); from navigation start to the moment the N-th `tr[data-id]` is in the DOM (a
 *     MutationObserver installed before any page script). Beside it: first contentful paint, the
 *     full `GET /servers/detail` list (request start -> response end, all pages) and the page's
 *     own performance marks and measures, if any.
 *  2. live update: --changes status changes made through the API (alternately os-stop -> SHUTOFF
 *     and pause -> PAUSED, each on a fresh ACTIVE server, after a random 0-2 s pause so the change
 *     lands at a random phase of the page's 2 s poll). Timed from the POST to the row's
 *     data-status attribute holding the new status (MutationObserver time, read with
 *     page.waitForFunction). Split into: the cloud (POST -> the API answering the new status,
 *     seen by polling GET /servers/{id} every 20 ms from here), the poll wait (-> the end of the
 *     page's first changes-since response after that) and render (that response -> the DOM).
 *  3. memory: the page's JS heap after a forced GC (CDP HeapProfiler.collectGarbage, then
 *     Runtime.getHeapUsage) and the DOM node count (CDP Performance.getMetrics) with N rows.
 * The cloud logs at warn level. Prints a table, then one JSON line. Whatever happens, the browser
 * and the cloud are closed and the data dir removed; exit status 1 on a failed step.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { startCloud, type Cloud } from '../src/cloud.js';
import { defaultConfig } from '../src/config.js';
import { setLogLevel } from '../src/util/log.js';
import { launchBrowser } from '../test/helpers/browser.js';
import { login, type Session } from './lib/openstack.js';
import { pct, round } from './lib/stats.js';

const USAGE = `Usage: npm run bench:dashboard -- [options]
  --servers N    servers on the Instances page (default 1000)
  --batch N      servers per POST /servers (min_count = max_count; default 100)
  --loads N      timed loads of the Instances page (default 3)
  --changes N    status changes timed (default 10)
  --keep         keep the temporary data dir`;

const { values: a } = parseArgs({
  options: {
    servers: { type: 'string', default: '1000' },
    batch: { type: 'string', default: '100' },
    loads: { type: 'string', default: '3' },
    changes: { type: 'string', default: '10' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
});
if (a.help) {
  console.log(USAGE);
  process.exit(0);
}
const int = (name: keyof typeof a, min: number): number => {
  const n = Number(a[name]);
  if (!Number.isInteger(n) || n < min) {
    console.error(`bench:dashboard: --${name} wants an integer >= ${min}, got ${String(a[name])}\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const SERVERS = int('servers', 1);
const BATCH = int('batch', 1);
const LOADS = int('loads', 1);
const CHANGES = int('changes', 1);
if (CHANGES >= SERVERS) {
  console.error(`bench:dashboard: --changes must be below --servers (each change uses a fresh server)`);
  process.exit(2);
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const log = (m: string) => process.stderr.write(`[bench:dashboard] ${m}\n`);
const now = () => performance.timeOrigin + performance.now(); // epoch ms, as the page's clock
const fmt = (x: number | null, digits = 0) => (x === null ? '-' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 }));
const MiB = 1024 * 1024;

/**
 * Runs in the page before its scripts: records (epoch ms) when the N-th row appears, when each
 * row's data-status changes (by `id status`), and every resource timing entry. Plain JS text:
 * a function passed from here would carry tsx's `__name` helper, unknown in the page.
 */
const pageProbe = (n: number): string => `(() => {
  const b = (window.__bench = { rowsAt: null, status: {}, resources: [] });
  const epoch = () => performance.timeOrigin + performance.now();
  new MutationObserver((records) => {
    const t = epoch();
    for (const r of records) {
      if (r.type === 'attributes') {
        const key = r.target.getAttribute('data-id') + ' ' + r.target.getAttribute('data-status');
        b.status[key] ??= t;
      }
    }
    if (b.rowsAt === null && document.querySelectorAll('tr[data-id]').length >= ${n}) b.rowsAt = t - performance.timeOrigin;
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) b.resources.push({ name: e.name, start: performance.timeOrigin + e.startTime, end: performance.timeOrigin + e.responseEnd });
  }).observe({ type: 'resource', buffered: true });
})();`;

interface Results {
  load: { to_rows_ms: number; list_end_ms: number | null; fcp_ms: number | null; list_ms: number | null; list_requests: number; marks: { name: string; type: string; start: number; duration: number }[] }[];
  changes: { action: string; total_ms: number; cloud_ms: number; poll_wait_ms: number | null; render_ms: number | null; poll_request_ms: number | null }[];
  memory: Record<string, number>;
}

async function bootServers(cloud: Cloud, admin: Session): Promise<string[]> {
  const compute = admin.endpoint('compute');
  const q = await admin.req('PUT', `${compute}/os-quota-sets/${admin.projectId}`, { quota_set: { instances: -1, cores: -1, ram: -1 } });
  if (q.status !== 200) throw new Error(`raising admin's quota: ${q.status} ${JSON.stringify(q.body)}`);
  const image = (await admin.req('GET', `${cloud.url}/image/v2/images?name=tiny-linux`)).body?.images?.[0]?.id;
  const flavor = (await admin.req('GET', `${compute}/flavors/detail`)).body?.flavors?.find((f: any) => f.name === 'm1.tiny')?.id;
  if (!image || !flavor) throw new Error(`image tiny-linux ${image}, flavor m1.tiny ${flavor}`);
  const t0 = performance.now();
  for (let done = 0; done < SERVERS; ) {
    const n = Math.min(BATCH, SERVERS - done);
    const r = await admin.req('POST', `${compute}/servers`, { server: { name: `bench-dash-${done}`, flavorRef: flavor, imageRef: image, networks: 'none', min_count: n, max_count: n } });
    if (r.status !== 202) throw new Error(`POST /servers (min_count ${n}): ${r.status} ${JSON.stringify(r.body)}`);
    done += n;
  }
  for (const deadline = Date.now() + 600_000; ; ) {
    const r = await admin.req('GET', `${compute}/servers/detail?limit=${SERVERS + 10}`);
    const servers: any[] = r.body?.servers ?? [];
    const bad = servers.find((s) => s.status === 'ERROR');
    if (bad) throw new Error(`server ${bad.id} ERROR: ${JSON.stringify(bad.fault)}`);
    const ready = servers.filter((s) => s.status === 'ACTIVE' && s['OS-EXT-STS:task_state'] === null);
    if (ready.length === SERVERS) {
      log(`${SERVERS} servers ACTIVE in ${fmt((performance.now() - t0) / 1000, 1)} s`);
      return ready.map((s) => s.id as string);
    }
    if (Date.now() > deadline) throw new Error(`${ready.length} of ${SERVERS} servers ACTIVE after 600 s`);
    await sleep(500);
  }
}

type Probe = { rowsAt: number | null; status: Record<string, number>; resources: { name: string; start: number; end: number }[] };
const probe = (page: Page) => page.evaluate(() => (window as unknown as { __bench: Probe }).__bench);

async function measure(cloud: Cloud, admin: Session, browser: Browser, ids: string[]): Promise<Results> {
  const out: Results = { load: [], changes: [], memory: {} };
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  const page = await context.newPage();
  page.setDefaultTimeout(60_000);
  await page.addInitScript({ content: pageProbe(SERVERS) });

  // Log in through the form; the Instances page is where the dashboard lands.
  await page.goto(`${cloud.url}/`);
  await page.getByLabel('User name').fill('admin');
  await page.getByLabel('Password').fill(cloud.secrets.adminPassword);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Instances' }).waitFor();
  const project = page.getByRole('combobox', { name: 'Project' });
  if ((await project.inputValue()) !== admin.projectId) await project.selectOption(admin.projectId);
  await page.waitForFunction((n) => document.querySelectorAll('tr[data-id]').length >= n, SERVERS);
  log(`logged in as admin; ${SERVERS} rows shown`);

  // 1. first render, from navigation start
  for (let i = 0; i < LOADS; i++) {
    await page.goto(`${cloud.url}/project/instances`, { waitUntil: 'commit' });
    await page.waitForFunction(() => (window as unknown as { __bench: Probe }).__bench?.rowsAt != null);
    const p = await probe(page);
    const extra = await page.evaluate(() => ({
      fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null,
      marks: [...performance.getEntriesByType('mark'), ...performance.getEntriesByType('measure')].map((e) => ({ name: e.name, type: e.entryType, start: e.startTime, duration: e.duration })),
      origin: performance.timeOrigin,
    }));
    const list = p.resources.filter((r) => r.name.includes('/servers/detail') && !r.name.includes('changes-since'));
    const listMs = list.length ? Math.max(...list.map((r) => r.end)) - Math.min(...list.map((r) => r.start)) : null;
    const listEnd = list.length ? Math.max(...list.map((r) => r.end)) - extra.origin : null;
    out.load.push({ to_rows_ms: round(p.rowsAt!, 1), list_end_ms: listEnd === null ? null : round(listEnd, 1), fcp_ms: extra.fcp === null ? null : round(extra.fcp, 1), list_ms: listMs === null ? null : round(listMs, 1), list_requests: list.length, marks: extra.marks });
    log(`load ${i + 1}: ${SERVERS} rows at ${fmt(p.rowsAt, 0)} ms (list ${fmt(listMs, 0)} ms in ${list.length} request(s), FCP ${fmt(extra.fcp, 0)} ms)`);
  }

  // 3. memory with N rows (before the changes, on the last load)
  const cdp = await context.newCDPSession(page);
  await cdp.send('HeapProfiler.collectGarbage');
  await sleep(200);
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
  await cdp.send('Performance.enable');
  const metrics = Object.fromEntries(((await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] }).metrics.map((m) => [m.name, m.value]));
  out.memory = { js_heap_used_mib: round(heap.usedSize / MiB, 1), js_heap_total_mib: round(heap.totalSize / MiB, 1), dom_nodes: metrics.Nodes, js_event_listeners: metrics.JSEventListeners };
  log(`JS heap after GC ${out.memory.js_heap_used_mib} MiB (of ${out.memory.js_heap_total_mib}), ${metrics.Nodes} DOM nodes`);

  // 2. live updates
  const compute = admin.endpoint('compute');
  for (let i = 0; i < CHANGES; i++) {
    const id = ids[i];
    const [action, body, target] = i % 2 === 0 ? ['stop', { 'os-stop': null }, 'SHUTOFF'] : ['pause', { pause: null }, 'PAUSED'];
    await sleep(Math.random() * 2000);
    const t0 = now();
    const r = await admin.req('POST', `${compute}/servers/${id}/action`, body);
    if (r.status !== 202) throw new Error(`${action} ${id}: ${r.status} ${JSON.stringify(r.body)}`);
    const key = `${id} ${target}`;
    const shown = page.waitForFunction((k) => (window as unknown as { __bench: Probe }).__bench.status[k] != null, key, { timeout: 30_000 });
    let tApi: number;
    for (;;) {
      const g = await admin.req('GET', `${compute}/servers/${id}`);
      if (g.body?.server?.status === target) {
        tApi = now();
        break;
      }
      if (now() - t0 > 30_000) throw new Error(`${id} not ${target} in the API after 30 s`);
      await sleep(20);
    }
    await shown;
    const p = await probe(page);
    const tDom = p.status[key];
    // The changes-since response that brought it: the last one to end before the DOM change.
    const poll = p.resources.filter((x) => x.name.includes('changes-since') && x.end <= tDom).sort((x, y) => y.end - x.end)[0];
    const c = {
      action,
      total_ms: round(tDom - t0, 1),
      cloud_ms: round(tApi - t0, 1),
      poll_wait_ms: poll ? round(poll.end - tApi, 1) : null,
      render_ms: poll ? round(tDom - poll.end, 1) : null,
      poll_request_ms: poll ? round(poll.end - poll.start, 1) : null,
    };
    out.changes.push(c);
    log(`${action} -> ${target} shown after ${fmt(c.total_ms)} ms (cloud ${fmt(c.cloud_ms)}, poll wait ${fmt(c.poll_wait_ms)}, render ${fmt(c.render_ms, 1)}, poll request ${fmt(c.poll_request_ms, 1)})`);
  }
  await context.close();
  return out;
}

async function main(): Promise<number> {
  setLogLevel('warn');
  const load0 = loadavg()[0];
  if (!existsSync(join(ROOT, 'dashboard/dist/index.html'))) {
    log('dashboard/dist missing: building it');
    execFileSync(process.execPath, ['scripts/build.mjs', '--dashboard'], { cwd: ROOT, stdio: 'inherit' });
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'nova-ts-bench-dashboard-'));
  let cloud: Cloud | undefined;
  let admin: Session | undefined;
  let browser: Browser | undefined;
  const cleanup = async () => {
    await browser?.close().catch((e: Error) => log(`closing the browser: ${e.message}`));
    browser = undefined;
    admin?.close();
    await cloud?.close({ removeNetworkNamespaces: true }).catch((e: Error) => log(`closing the cloud: ${e.message}`));
    cloud = undefined;
    if (!a.keep) rmSync(dataDir, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => {
      log(`${sig}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  let r: Results;
  try {
    const config = defaultConfig({ dataDir, listenPort: 0 });
    config.databaseUrl = `sqlite:${join(dataDir, 'nova.db')}`;
    config.fake = { ...config.fake, vcpus: Math.max(config.fake.vcpus, SERVERS), memoryMb: Math.max(config.fake.memoryMb, SERVERS * 1024), diskGb: Math.max(config.fake.diskGb, SERVERS * 2) };
    cloud = await startCloud(config);
    log(`cloud at ${cloud.url}, data dir ${dataDir}`);
    admin = await login({ authUrl: `${cloud.url}/identity`, username: 'admin', password: cloud.secrets.adminPassword, projectName: 'admin' }, '2.37');
    const ids = await bootServers(cloud, admin);
    browser = await launchBrowser();
    r = await measure(cloud, admin, browser, ids);
  } finally {
    await cleanup();
  }
  const rows: [string, string][] = [];
  const loads = r.load.map((l) => l.to_rows_ms);
  rows.push([`navigation start -> ${SERVERS}th row in the DOM (${LOADS} loads): median, each`, `${fmt(pct(loads, 50))} ms (${loads.map((x) => fmt(x)).join(', ')})`]);
  rows.push([`  of which GET /servers/detail (request start -> last response end), median`, `${fmt(pct(r.load.flatMap((l) => (l.list_ms === null ? [] : [l.list_ms])), 50))} ms in ${r.load[0].list_requests} request(s)`]);
  rows.push([`  render: list's last response end -> ${SERVERS}th row, median`, `${fmt(pct(r.load.flatMap((l) => (l.list_end_ms === null ? [] : [l.to_rows_ms - l.list_end_ms])), 50))} ms`]);
  rows.push([`  first contentful paint, median`, `${fmt(pct(r.load.flatMap((l) => (l.fcp_ms === null ? [] : [l.fcp_ms])), 50))} ms`]);
  const marks = r.load[0].marks;
  rows.push([`  the page's own performance marks/measures`, marks.length ? marks.map((m) => `${m.name} ${fmt(m.start)}+${fmt(m.duration)}`).join(', ') : 'none']);
  const col = (k: keyof Results['changes'][number]) => r.changes.flatMap((c) => (typeof c[k] === 'number' ? [c[k] as number] : []));
  rows.push([`status change via the API -> row shows it (${CHANGES}: stop, pause): p50 / max`, `${fmt(pct(col('total_ms'), 50))} / ${fmt(Math.max(...col('total_ms')))} ms`]);
  rows.push([`  cloud: POST action -> API answers the new status, p50`, `${fmt(pct(col('cloud_ms'), 50))} ms`]);
  rows.push([`  poll wait: -> end of the next changes-since response, p50 / max`, `${fmt(pct(col('poll_wait_ms'), 50))} / ${fmt(Math.max(...col('poll_wait_ms')))} ms`]);
  rows.push([`  render: that response -> the row's new data-status, p50 / max`, `${fmt(pct(col('render_ms'), 50), 1)} / ${fmt(Math.max(...col('render_ms')), 1)} ms`]);
  rows.push([`  (one changes-since request, p50)`, `${fmt(pct(col('poll_request_ms'), 50), 1)} ms`]);
  rows.push([`JS heap after GC with ${SERVERS} rows (used / total)`, `${fmt(r.memory.js_heap_used_mib, 1)} / ${fmt(r.memory.js_heap_total_mib, 1)} MiB, ${fmt(r.memory.dom_nodes)} DOM nodes`]);
  console.log(`\nDashboard benchmark: ${SERVERS} fake servers, ${cpus().length} cores (${cpus()[0]?.model.trim()}), load ${load0.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after, Node ${process.versions.node}; cloud in this process, headless Chromium`);
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log(`| ${'what'.padEnd(w)} | figure |\n| ${'-'.repeat(w)} | --- |`);
  for (const [k, v] of rows) console.log(`| ${k.padEnd(w)} | ${v} |`);
  console.log(JSON.stringify({ bench: 'dashboard', servers: SERVERS, ...r }));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
