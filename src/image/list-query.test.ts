import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startImageFixture, type ImageFixture } from './testing.js';

let fx: ImageFixture;
const ids: Record<string, string> = {};

async function create(user: string, body: Record<string, unknown>, data?: string): Promise<string> {
  const r = await fx.call(user, 'POST', '/v2/images', { body });
  assert.equal(r.status, 201);
  const id = ((await r.json()) as any).id;
  if (data !== undefined) {
    const up = await fx.call(user, 'PUT', `/v2/images/${id}/file`, { body: data, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(up.status, 204);
  }
  return id;
}

async function list(user: string, q: string): Promise<any> {
  const r = await fx.call(user, 'GET', `/v2/images${q}`);
  assert.equal(r.status, 200, await r.clone().text());
  return r.json();
}
const names = async (user: string, q: string): Promise<string[]> => (await list(user, q)).images.map((i: any) => i.name);

before(async () => {
  fx = await startImageFixture();
  const f = { disk_format: 'raw', container_format: 'bare' };
  ids.a = await create('demo', { name: 'alpha', ...f, tags: ['red', 'big'], os_distro: 'debian' }, 'aaaaaaaaaa');
  ids.b = await create('demo', { name: 'bravo', ...f, tags: ['red'], os_distro: 'ubuntu' }, 'bb');
  ids.c = await create('demo', { name: 'charlie', disk_format: 'qcow2', container_format: 'bare', protected: true });
  ids.n1 = await create('demo', {});
  ids.n2 = await create('demo', {});
  ids.h = await create('demo', { name: 'hidden', os_hidden: true });
  ids.comm = await create('alt', { name: 'alt-community', visibility: 'community' });
  ids.altpriv = await create('alt', { name: 'alt-private', visibility: 'private' });
  ids.pub = await create('admin', { name: 'admin-public', visibility: 'public', ...f }, 'pppp');
});
after(() => fx.close());

describe('image list filters', () => {
  test('default list: own and public images, not hidden, not others\' community or private', async () => {
    const got = await names('demo', '?limit=100');
    assert.deepEqual([...got].sort(), ['admin-public', 'alpha', 'bravo', 'charlie', null, null].sort());
    assert.deepEqual(await names('demo', '?os_hidden=true'), ['hidden']);
    assert.deepEqual(await names('demo', '?visibility=community'), ['alt-community']);
    assert.ok((await names('admin', '?visibility=all')).includes('alt-private'));
    assert.ok(!(await names('admin', '')).includes('alt-community'));
    assert.ok(!(await names('demo', '?visibility=all')).includes('alt-private'));
  });

  test('attribute, tag, size, id and property filters', async () => {
    assert.deepEqual(await names('demo', '?name=bravo'), ['bravo']);
    assert.deepEqual(await names('demo', '?tag=red&tag=big'), ['alpha']);
    assert.deepEqual((await names('demo', '?tag=red&sort=name:asc')), ['alpha', 'bravo']);
    assert.deepEqual(await names('demo', '?size_min=3&size_max=5'), ['admin-public']);
    assert.deepEqual(await names('demo', `?id=in:${ids.a},${ids.c}&sort=name:asc`), ['alpha', 'charlie']);
    assert.deepEqual(await names('demo', '?os_distro=ubuntu'), ['bravo']);
    assert.deepEqual(await names('demo', '?protected=true'), ['charlie']);
    assert.deepEqual(await names('demo', '?disk_format=qcow2'), ['charlie']);
    assert.deepEqual(await names('demo', '?status=active&owner=p-demo&sort=name:asc'), ['alpha', 'bravo']);
    assert.deepEqual(await names('demo', '?name=in:alpha,"bravo"&sort=name:desc'), ['bravo', 'alpha']);
  });

  test('bad filters, sorts and markers are 400s', async () => {
    for (const q of [
      '?limit=-1',
      '?limit=x',
      '?sort_key=color',
      '?sort_dir=up',
      '?sort=name:sideways',
      '?sort=name&sort_key=id',
      '?marker=does-not-exist',
      `?marker=${ids.altpriv}`,
      '?visibility=everyone',
      '?member_status=maybe',
      '?protected=maybe',
      '?size_min=big',
      '?status=shiny',
      '?created_at=gt:yesterday',
    ]) {
      const r = await fx.call('demo', 'GET', `/v2/images${q}`);
      assert.equal(r.status, 400, q);
    }
  });
});

describe('image list sort and paging', () => {
  for (const sort of ['', '?sort_key=name&sort_dir=asc', '?sort=name:desc', '?sort=size:asc,name:desc', '?sort_key=size&sort_dir=desc', '?sort=disk_format,created_at:asc']) {
    test(`walking next links gives the whole list once, in order (${sort || 'default'})`, async () => {
      const all = (await list('demo', `${sort}${sort ? '&' : '?'}limit=1000`)).images.map((i: any) => i.id);
      assert.equal(all.length, 6);
      const walked: string[] = [];
      let page = await list('demo', `${sort}${sort ? '&' : '?'}limit=2`);
      assert.equal(page.schema, '/v2/schemas/images');
      assert.ok(page.first.startsWith('/v2/images'));
      for (let i = 0; i < 10; i++) {
        walked.push(...page.images.map((x: any) => x.id));
        if (!page.next) break;
        assert.match(page.next, /^\/v2\/images\?.*marker=/);
        page = await list('demo', page.next.slice('/v2/images'.length));
      }
      assert.deepEqual(walked, all);
    });
  }

  test('sort orders hold, with nulls first ascending and last descending', async () => {
    const asc = await names('demo', '?sort=name:asc');
    assert.deepEqual(asc, [null, null, 'admin-public', 'alpha', 'bravo', 'charlie']);
    const desc = await names('demo', '?sort_key=name&sort_dir=desc');
    assert.deepEqual(desc, ['charlie', 'bravo', 'alpha', 'admin-public', null, null]);
    const bySize = (await list('demo', '?sort=size:desc')).images.map((i: any) => i.size);
    assert.deepEqual(bySize.slice(0, 3), [10, 4, 2]);
    const newest = (await list('demo', '')).images;
    assert.ok(newest.every((img: any, i: number) => i === 0 || newest[i - 1].created_at >= img.created_at));
  });
});
