import type { RouteHandler, RouteOptions } from './types.js';
import type { FaultStyle } from './faults.js';

interface Route {
  method: string;
  segments: string[];
  handler: RouteHandler;
  opts: RouteOptions;
  /** Literal segments count first, so `/servers/detail` wins over `/servers/:id`. */
  score: number;
}

export interface Match {
  handler: RouteHandler;
  opts: RouteOptions;
  params: Record<string, string>;
}

/**
 * A small path router for one API family. Patterns use `:name` for a segment parameter and
 * a trailing `*name` for the rest of the path. Registration order does not matter.
 */
export class Router {
  private readonly routes: Route[] = [];

  constructor(
    readonly style: FaultStyle,
    /** Whether routes need a token unless they say otherwise. */
    readonly authByDefault = true,
  ) {}

  add(method: string, pattern: string, handler: RouteHandler, opts: RouteOptions = {}): this {
    const segments = pattern.split('/').filter(Boolean);
    const score = segments.reduce((s, seg, i) => s + (seg.startsWith(':') || seg.startsWith('*') ? 0 : 2 ** (20 - i)), 0);
    this.routes.push({ method: method.toUpperCase(), segments, handler, opts, score });
    this.routes.sort((a, b) => b.score - a.score || b.segments.length - a.segments.length);
    return this;
  }

  get(p: string, h: RouteHandler, o?: RouteOptions) {
    return this.add('GET', p, h, o);
  }
  post(p: string, h: RouteHandler, o?: RouteOptions) {
    return this.add('POST', p, h, o);
  }
  put(p: string, h: RouteHandler, o?: RouteOptions) {
    return this.add('PUT', p, h, o);
  }
  patch(p: string, h: RouteHandler, o?: RouteOptions) {
    return this.add('PATCH', p, h, o);
  }
  delete(p: string, h: RouteHandler, o?: RouteOptions) {
    return this.add('DELETE', p, h, o);
  }
  head(p: string, h: RouteHandler, o?: RouteOptions) {
    return this.add('HEAD', p, h, o);
  }

  /**
   * Finds the route for method and path. Answers 'method-not-allowed' when the path exists
   * under another method, null when nothing matches. HEAD falls back to GET. A trailing slash
   * is ignored, except (nova style) where it stands for an empty id segment of this method.
   */
  match(method: string, path: string): Match | 'method-not-allowed' | null {
    const parts = path.split('/').filter(Boolean).map(safeDecode);
    let pathMatched = false;
    for (const want of method === 'HEAD' ? ['HEAD', 'GET'] : [method]) {
      for (const r of this.routes) {
        const params = matchSegments(r.segments, parts);
        if (!params) continue;
        pathMatched = true;
        if (r.method === want) return { handler: r.handler, opts: r.opts, params };
      }
    }
    // Nova: a trailing slash where this method's route wants an id (`DELETE /os-security-groups/`)
    // is an empty id, which no route matches: 404, not 405 for the collection without the slash.
    if (pathMatched && this.style === 'nova' && path.length > 1 && path.endsWith('/')) {
      const withEmptyId = [...parts, ''];
      if (this.routes.some((r) => r.method === method && r.segments[parts.length]?.startsWith(':') && matchSegments(r.segments, withEmptyId))) return null;
    }
    return pathMatched ? 'method-not-allowed' : null;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const seg = pattern[i];
    if (seg.startsWith('*')) {
      params[seg.slice(1)] = parts.slice(i).join('/');
      return params;
    }
    if (i >= parts.length) return null;
    if (seg.startsWith(':')) params[seg.slice(1)] = parts[i];
    else if (seg !== parts[i]) return null;
  }
  return pattern.length === parts.length ? params : null;
}
