/**
 * A `fetch` for tests that trusts one CA (PEM) for https URLs, as a client given the cloud's
 * clouds.yaml `cacert` would. Node's global fetch takes its CAs from the system store only;
 * this one is node:https underneath (buffered bodies, no redirects followed) and answers a
 * standard Response.
 */
import { request as httpsRequest } from 'node:https';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

function responseHeaders(h: IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.append(k, one);
  }
  return out;
}

export function fetchTrusting(ca: string): typeof fetch {
  const f = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> =>
    new Promise((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((v, k) => (headers[k] = v));
      const body = init.body === undefined || init.body === null ? undefined : Buffer.from(init.body as string);
      if (body) headers['content-length'] = String(body.length);
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(url, { method: init.method ?? 'GET', headers, ca }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const noBody = status === 204 || status === 304 || (init.method ?? 'GET') === 'HEAD';
          resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, headers: responseHeaders(res.headers) }));
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  return f as typeof fetch;
}
