/**
 * The signed-in user's session: the unscoped token (kept only to re-scope), the project-scoped
 * token the APIs are called with, the user's projects and the endpoints of the catalog. Kept in
 * sessionStorage (one browser tab's life; never the password). useSession() gives it to pages.
 */
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { configureHttp } from './api/http';
import { endpointOf, myProjects, passwordLogin, revoke, scopeToProject, type Project, type Token } from './api/identity';

const KEY = 'nova-ts.session';

export interface Endpoints {
  compute: string;
  image: string | null;
  network: string | null;
  volume: string | null;
  placement: string | null;
}

export interface Session {
  unscoped: string;
  token: Token;
  projects: Project[];
  endpoints: Endpoints;
}

interface Stored {
  unscoped: string;
  token: Token;
  projects: Project[];
}

function endpointsOf(token: Token): Endpoints {
  const catalog = token.body.catalog;
  const compute = endpointOf(catalog, 'compute');
  if (!compute) throw new Error('The service catalog has no compute endpoint: this project cannot use the dashboard.');
  return {
    compute,
    image: endpointOf(catalog, 'image'),
    network: endpointOf(catalog, 'network'),
    volume: endpointOf(catalog, 'volumev3', 'block-storage', 'volume'),
    placement: endpointOf(catalog, 'placement'),
  };
}

function load(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Stored;
    if (Date.parse(s.token.body.expires_at) <= Date.now()) return null;
    return { ...s, endpoints: endpointsOf(s.token) };
  } catch {
    return null;
  }
}

function save(s: Session | null): void {
  if (s) sessionStorage.setItem(KEY, JSON.stringify({ unscoped: s.unscoped, token: s.token, projects: s.projects } satisfies Stored));
  else sessionStorage.removeItem(KEY);
}

/** The token current API calls use (module level, for the http layer). */
let current: Session | null = null;
/** What a 401 does: set by the provider (assigned before any page's effect can call an API). */
let onExpired: () => void = () => {};
configureHttp({ token: () => current?.token.id ?? null, unauthorized: () => onExpired() });

export interface SessionApi {
  session: Session | null;
  /** Why the last session ended (expired token), shown on the login page. */
  notice: string | null;
  login(user: string, password: string, domain: string): Promise<void>;
  switchProject(projectId: string): Promise<void>;
  logout(): Promise<void>;
  /** True when the user has the admin role in the current project. */
  isAdmin: boolean;
}

const Ctx = createContext<SessionApi | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSessionState] = useState<Session | null>(() => (current = load()));
  const [notice, setNotice] = useState<string | null>(null);

  const setSession = useCallback((s: Session | null) => {
    current = s;
    save(s);
    setSessionState(s);
  }, []);

  onExpired = () => {
    setNotice('Your session has expired or was revoked. Please log in again.');
    setSession(null);
  };

  const login = useCallback(
    async (user: string, password: string, domain: string) => {
      const unscoped = await passwordLogin(user, password, domain);
      const projects = await myProjects(unscoped.id);
      if (projects.length === 0) throw new Error(`The user ${user} has no role on any project: ask an administrator for one.`);
      const last = localStorage.getItem(`${KEY}.project.${unscoped.body.user.id}`);
      const project = projects.find((p) => p.id === last) ?? projects[0];
      const token = await scopeToProject(unscoped.id, project.id);
      setNotice(null);
      setSession({ unscoped: unscoped.id, token, projects, endpoints: endpointsOf(token) });
    },
    [setSession],
  );

  const switchProject = useCallback(
    async (projectId: string) => {
      const s = current;
      if (!s) return;
      const token = await scopeToProject(s.unscoped, projectId);
      localStorage.setItem(`${KEY}.project.${token.body.user.id}`, projectId);
      const old = s.token.id;
      setSession({ ...s, token, endpoints: endpointsOf(token) });
      void revoke(old);
    },
    [setSession],
  );

  const logout = useCallback(async () => {
    const s = current;
    setSession(null);
    setNotice(null);
    if (s) await Promise.all([revoke(s.token.id), revoke(s.unscoped)]);
  }, [setSession]);

  const api = useMemo<SessionApi>(
    () => ({
      session,
      notice,
      login,
      switchProject,
      logout,
      isAdmin: !!session?.token.body.roles?.some((r) => r.name === 'admin'),
    }),
    [session, notice, login, switchProject, logout],
  );
  return <Ctx.Provider value={api}>{children}</Ctx.Provider>;
}

export function useSession(): SessionApi {
  const v = useContext(Ctx);
  if (!v) throw new Error('useSession outside SessionProvider');
  return v;
}

/** The signed-in session (pages behind the login only). */
export function useSignedIn(): Session {
  const { session } = useSession();
  if (!session) throw new Error('useSignedIn without a session');
  return session;
}
