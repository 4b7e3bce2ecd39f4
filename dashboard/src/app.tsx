/** The shell: the login page without a session, else the header, the navigation and the page the path names. */
import { useEffect } from 'react';
import { Layout } from './components/layout';
import { LoginPage } from './pages/login';
import { HOME, PAGES } from './routes';
import { matchPath, navigate, useLocation } from './router';
import { useSession } from './session';

export function App() {
  const { session, isAdmin } = useSession();
  const { pathname } = useLocation();
  const found = session ? resolve(pathname, isAdmin) : null;

  useEffect(() => {
    if (session && (pathname === '/' || pathname === '/login')) navigate(HOME, { replace: true });
  }, [session, pathname]);
  useEffect(() => {
    document.title = `${session ? (found?.page.title ?? 'Not found') : 'Log in'} - nova-ts`;
  }, [session, found?.page.title]);

  if (!session) return <LoginPage />;
  return (
    <Layout>
      {found ? (
        <found.page.component key={found.page.path + JSON.stringify(found.params)} params={found.params} />
      ) : pathname === '/' || pathname === '/login' ? null : (
        <section>
          <h1>Page not found</h1>
          <p>There is no dashboard page at {pathname}.</p>
        </section>
      )}
    </Layout>
  );
}

function resolve(pathname: string, isAdmin: boolean) {
  for (const page of PAGES) {
    if (page.admin && !isAdmin) continue;
    const params = matchPath(page.path, pathname);
    if (params) return { page, params };
  }
  return null;
}
