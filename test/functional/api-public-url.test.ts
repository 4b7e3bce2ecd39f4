/**
 * [api] public_url: several API processes behind a load balancer all write the balancer's URL
 * into the service catalog (and clouds.yaml), whichever starts last; without it each writes its
 * own listener's URL.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestCloud, type TestCloud } from '../helpers/cloud.js';
import { startApiService, type ApiService } from '../../src/services/api.js';

const LB = 'https://api.lb.example.test:8774';
let tc: TestCloud;
const extra: ApiService[] = [];

before(async () => {
  tc = await startTestCloud();
});
after(async () => {
  for (const a of extra) await a.stop();
  await tc?.close();
});

/** Every public endpoint URL of a fresh admin token's catalog. */
async function catalogUrls(): Promise<string[]> {
  const r = await fetch(`${tc.url}/identity/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: tc.cloud.secrets.adminPassword } } },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    }),
  });
  assert.equal(r.status, 201);
  const body = (await r.json()) as { token: { catalog: { type: string; endpoints: { interface: string; url: string }[] }[] } };
  return body.token.catalog.flatMap((c) => c.endpoints.filter((e) => e.interface === 'public').map((e) => e.url));
}

/** Another API process on the same database and data dir (as the cluster's api-2). */
async function anotherApi(publicUrl?: string): Promise<ApiService> {
  const api = await startApiService({
    config: { ...tc.cloud.config, listenPort: 0, publicUrl },
    bus: tc.cloud.bus,
    sql: tc.cloud.sql,
    consoleUrl: () => tc.cloud.consoleUrl,
    metadataSocket: null,
  });
  extra.push(api);
  return api;
}

test('without public_url the API started last names its own listener; with it every API names the public URL', async () => {
  const first = await catalogUrls();
  assert.ok(first.length >= 6, `a catalog of every service: ${first.join(', ')}`);
  assert.ok(first.every((u) => u.startsWith(`${tc.url}/`)), first.join(', '));

  const own = await anotherApi();
  assert.ok((await catalogUrls()).every((u) => u.startsWith(`${own.url}/`)), 'the last API started wins without public_url');

  const lb1 = await anotherApi(`${LB}/`);
  const lb2 = await anotherApi(LB);
  assert.notEqual(lb1.url, lb2.url);
  const urls = await catalogUrls();
  assert.ok(urls.every((u) => u.startsWith(`${LB}/`)), urls.join(', '));
  assert.ok(urls.includes(`${LB}/compute/v2.1`) || urls.some((u) => u.startsWith(`${LB}/compute`)), urls.join(', '));

  const clouds = readFileSync(join(tc.cloud.config.dataDir, 'clouds.yaml'), 'utf8');
  assert.match(clouds, new RegExp(`auth_url: ${LB}/identity/v3\\n`));

  // A request without a token is told where the Identity API is: the public URL too.
  const r = await fetch(`${lb2.url}/compute/v2.1/servers`);
  assert.equal(r.status, 401);
  assert.equal(r.headers.get('www-authenticate'), `Keystone uri="${LB}/identity"`);
});
