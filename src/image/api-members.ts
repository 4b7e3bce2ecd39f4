/** Routes of image members (`/v2/images/{id}/members...`). */
import type { Router } from '../http/router.js';
import { ctxOf } from '../http/types.js';
import type { Members } from './members.js';
import { memberView } from './view.js';

export function mountMembers(router: Router, members: Members): void {
  router.get('/v2/images/:id/members', async (req) => {
    const list = await members.list(ctxOf(req), req.params.id);
    return { status: 200, body: { members: list.map(memberView), schema: '/v2/schemas/members' } };
  });
  router.post('/v2/images/:id/members', async (req) => ({
    status: 200,
    body: memberView(await members.add(ctxOf(req), req.params.id, req.body)),
  }));
  router.get('/v2/images/:id/members/:member', async (req) => ({
    status: 200,
    body: memberView(await members.show(ctxOf(req), req.params.id, req.params.member)),
  }));
  router.put('/v2/images/:id/members/:member', async (req) => ({
    status: 200,
    body: memberView(await members.setStatus(ctxOf(req), req.params.id, req.params.member, req.body)),
  }));
  router.delete('/v2/images/:id/members/:member', async (req) => {
    await members.remove(ctxOf(req), req.params.id, req.params.member);
    return { status: 204 };
  });
}
