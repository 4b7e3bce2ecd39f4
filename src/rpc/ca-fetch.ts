/**
 * HTTP(S) requests of a process that calls the cloud's own APIs ([service_auth]): a `fetch` that
 * trusts a given CA (PEM) for https URLs, as Node's global fetch (system CAs only) cannot, and
 * the message for a failed request that says what to set when the certificate is not trusted.
 *
 * caFetch is node:http(s) underneath and streams both ways: a ReadableStream request body is
 * piped (uploads of image files), the response body is a ReadableStream (downloads). Redirects
 * are not followed. init.signal aborts the request.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

/** The config key naming the CA, as messages name it. */
export const CA_SETTING = '[service_auth] cafile';

function responseHeaders(h: IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.append(k, one);
  }
  return out;
}

/** A fetch whose https requests trust `ca` (one or more PEM certificates) instead of the system CAs. */
export function caFetch(ca: string | Buffer): typeof fetch {
  const f = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> =>
    new Promise((resolve, reject) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      const method = (init.method ?? 'GET').toUpperCase();
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((v, k) => (headers[k] = v));
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = send(url, { method, headers, ca, signal: init.signal ?? undefined }, (res) => {
        const status = res.statusCode ?? 0;
        const noBody = status === 204 || status === 304 || method === 'HEAD';
        if (noBody) res.resume();
        const body = noBody ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
        resolve(new Response(body, { status, statusText: res.statusMessage, headers: responseHeaders(res.headers) }));
      });
      req.on('error', reject);
      const body = init.body;
      if (body === undefined || body === null) req.end();
      else if (typeof body === 'string' || body instanceof Uint8Array) req.end(body);
      else if (body instanceof ArrayBuffer) req.end(Buffer.from(body));
      else if (body instanceof ReadableStream)
        pipeline(Readable.fromWeb(body as WebReadableStream<Uint8Array>), req).catch((e: Error) => req.destroy(e));
      else {
        req.destroy();
        reject(new TypeError('caFetch: unsupported request body (string, bytes or a ReadableStream)'));
      }
    });
  return f as typeof fetch;
}

/** OpenSSL's codes for a certificate chain that does not end at a trusted CA. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
]);

/**
 * What went wrong with a request that got no answer, for "Cannot reach X: <this>." The global
 * fetch hides the reason in `cause` ("fetch failed"); it is spelled out. A certificate from an
 * untrusted CA says to set CA_SETTING (or, with one set, that it is not the CA that signed it).
 */
export function requestFailure(e: unknown, caFile?: string): string {
  const err = e as Error & { cause?: unknown; code?: string };
  const inner = (err?.cause instanceof Error ? err.cause : err) as Error & { code?: string };
  const text = inner === err ? String(err?.message ?? err) : `${err.message}: ${inner.message}`;
  if (!inner?.code || !UNTRUSTED.has(inner.code)) return text;
  return caFile
    ? `${text} (the server's TLS certificate is not signed by the CA in ${caFile}, ${CA_SETTING})`
    : `${text} (the server's TLS certificate is not signed by a trusted CA: set ${CA_SETTING} to the cloud's CA certificate, ca/ca.pem in the API's data dir)`;
}
