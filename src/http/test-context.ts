/**
 * A RequestContext for tests of one service's router without Keystone: user `admin` is an admin,
 * `reader` a read-only member of p-demo, anyone else a member of p-<name>.
 */
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
