import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { Microversion } from './microversion.js';

/** Who is calling, as established from a validated token. */
export interface RequestContext {
  requestId: string;
  token: string;
  userId: string;
  userName: string;
  userDomainId: string;
  /** Project of a project-scoped token, null otherwise. */
  projectId: string | null;
  projectName: string | null;
  projectDomainId: string | null;
  /** Domain of a domain-scoped token, null otherwise. */
  domainId: string | null;
  roles: string[];
  isAdmin: boolean;
  /** True when the only roles held are read-only ones (reader). */
  readOnly: boolean;
  expiresAt: string;
}

export interface ApiRequest {
  method: string;
  /** Path below the service prefix, e.g. `/v2.1/servers/abc`. */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (routes with body 'json'), else undefined. */
  body: unknown;
  raw: IncomingMessage;
  /** Set for routes that require authentication. */
  ctx: RequestContext | undefined;
  /** Compute API microversion of this request (2.1 for other services). */
  mv: Microversion;
  /** Public URL of the service prefix, e.g. `http://127.0.0.1:8080/compute`. */
  baseUrl: string;
  requestId: string;
}

export interface ApiResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** A streamed body (image download); when set, `body` is ignored. */
  stream?: Readable;
}

export type RouteHandler = (req: ApiRequest) => Promise<ApiResponse> | ApiResponse;

export interface RouteOptions {
  /** How to read the request body: parsed JSON (default), raw stream left unread, or none. */
  body?: 'json' | 'raw' | 'none';
  /** Whether a valid token is required (default true). */
  auth?: boolean;
  /** Extra content types accepted as JSON (e.g. Glance's json-patch type). */
  jsonTypes?: string[];
}

/** Requires an authenticated request context; routes registered with auth: true always have one. */
export function ctxOf(req: ApiRequest): RequestContext {
  if (!req.ctx) throw new Error('route registered without auth read the request context');
  return req.ctx;
}
