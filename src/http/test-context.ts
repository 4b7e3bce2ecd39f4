/**
 * A RequestContext for tests of one service's router without Keystone: user `admin` is an admin,
 * `reader` a read-only member of p-demo, anyone else a member of p-<name>.
 */
import type { AddressInfo } from 'node:net';
import { unauthorized } from '../errors.js';
import { createApiServer, type Mount } from './server.js';
import type { RequestContext } from './types.js';

export function testContext(name: string): RequestContext {
  const admin = name === 'admin';
  const reader = name === 'reader';
  const project = reader ? 'p-demo' : `p-${name}`;
  return {
    requestId: 'req-test',
    token: name,
    userId: `u-${name}`,
    userName: name,
    userDomainId: 'default',
    projectId: project,
    projectName: project.slice(2),
    projectDomainId: 'default',
    domainId: null,
    roles: admin ? ['admin', 'member', 'reader'] : reader ? ['reader'] : ['member', 'reader'],
    isAdmin: admin,
    readOnly: reader,
    expiresAt: '2099-01-01T00:00:00Z',
  };
}

/**
 * Serves one service's router on 127.0.0.1 at a free port for tests, behind tokens that are
 * the test users' names (admin, demo, alt, reader; anything else is 401). close() ends open
 * connections too.
 */
export async function serveForTest(mount: Mount): Promise<{ url: string; close(): Promise<void> }> {
  const users = new Set(['admin', 'demo', 'alt', 'reader']);
  const server = createApiServer({
    mounts: [mount],
    authenticate: async (token) => {
      if (!users.has(token)) throw unauthorized();
      return testContext(token);
    },
    identityUrl: () => 'http://127.0.0.1/identity',
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
