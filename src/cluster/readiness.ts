/**
 * Asks a running cloud, through its public APIs as an admin, whether its services are up
 * (os-services): how `npm run cluster` knows every compute host reports before it says `ready`.
 */

export interface ServiceState {
  binary: string;
  host: string;
  state: string;
  status: string;
}

/** An admin token from the Identity API at `${url}/identity/v3`. Throws with the API's answer on failure. */
export async function adminToken(url: string, password: string): Promise<string> {
  const res = await fetch(`${url}/identity/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password } } },
        scope: { project: { name: 'admin', domain: { name: 'Default' } } },
      },
    }),
  });
  const token = res.headers.get('x-subject-token');
  if (res.status !== 201 || !token) throw new Error(`${url}/identity/v3/auth/tokens answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return token;
}

/** GET /compute/v2.1/os-services. */
export async function listServices(url: string, token: string): Promise<ServiceState[]> {
  const res = await fetch(`${url}/compute/v2.1/os-services`, { headers: { 'x-auth-token': token, 'openstack-api-version': 'compute 2.11' } });
  if (res.status !== 200) throw new Error(`os-services answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return ((await res.json()) as { services: ServiceState[] }).services;
}

/**
 * Resolves once os-services lists every host in `computeHosts` as an up nova-compute; rejects
 * after timeoutMs naming the hosts that are not (yet) up.
 */
export async function waitComputesUp(o: { url: string; password: string; computeHosts: string[]; timeoutMs: number; abort?: () => string | null }): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  let token: string | null = null;
  let missing = o.computeHosts;
  let lastError = '';
  for (;;) {
    const why = o.abort?.();
    if (why) throw new Error(why);
    try {
      token ??= await adminToken(o.url, o.password);
      const up = new Set((await listServices(o.url, token)).filter((s) => s.binary === 'nova-compute' && s.state === 'up').map((s) => s.host));
      missing = o.computeHosts.filter((h) => !up.has(h));
      if (missing.length === 0) return;
    } catch (e) {
      lastError = (e as Error).message;
      token = null;
    }
    if (Date.now() > deadline)
      throw new Error(`compute services not up within ${Math.round(o.timeoutMs / 1000)} s: ${missing.join(', ')}${lastError ? ` (last error: ${lastError})` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
