/**
 * The frame of every signed-in page: a header (project switcher, user, logout), the left
 * navigation (Project and Admin groups from routes.tsx; Admin only for admins) and the page.
 * A "skip to content" link and landmarks keep it keyboard and screen-reader friendly.
 */
import { useState, type ReactNode } from 'react';
import { GROUP_LABELS, PAGES } from '../routes';
import { Link, useLocation } from '../router';
import { useSession, useSignedIn } from '../session';
import { errorMessage } from '../hooks';
import { Alert } from './alert';

export function Layout({ children }: { children: ReactNode }) {
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <Header />
      <div className="body">
        <Nav />
        <main id="main" tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}

function Header() {
  const { switchProject, logout } = useSession();
  const s = useSignedIn();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const project = s.token.body.project;
  return (
    <header className="top">
      <span className="brand">nova-ts</span>
      <label className="project">
        Project
        <select
          aria-label="Project"
          value={project?.id ?? ''}
          disabled={busy}
          onChange={(e) => {
            setBusy(true);
            setError(null);
            switchProject(e.target.value)
              .catch((err: unknown) => setError(errorMessage(err)))
              .finally(() => setBusy(false));
          }}
        >
          {s.projects.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </label>
      {error && <Alert>{error}</Alert>}
      <span className="spacer" />
      <span className="user" aria-label="Signed in as">
        {s.token.body.user.name}
      </span>
      <button type="button" onClick={() => void logout()}>
        Log out
      </button>
    </header>
  );
}

function Nav() {
  const { isAdmin } = useSession();
  const { pathname } = useLocation();
  const groups = (['project', 'admin'] as const).filter((g) => g !== 'admin' || isAdmin);
  return (
    <nav className="side" aria-label="Dashboard">
      {groups.map((g) => {
        const pages = PAGES.filter((p) => p.nav === g && (!p.admin || isAdmin));
        if (pages.length === 0) return null;
        return (
          <div key={g} className="group">
            <h2 id={`nav-${g}`}>{GROUP_LABELS[g]}</h2>
            <ul aria-labelledby={`nav-${g}`}>
              {pages.map((p) => {
                const active = pathname === p.path || pathname.startsWith(p.path + '/');
                return (
                  <li key={p.path}>
                    <Link to={p.path} aria-current={active ? 'page' : undefined}>
                      {p.title}
                    </Link>
                  </li>
                );
              })}
            </ul>
          </div>
        );
      })}
    </nav>
  );
}
