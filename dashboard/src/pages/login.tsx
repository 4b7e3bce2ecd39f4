/** The login page: user name, password and domain (Keystone v3 password auth). */
import { useState, type FormEvent } from 'react';
import { Alert } from '../components/alert';
import { errorMessage } from '../hooks';
import { useSession } from '../session';
import { ApiError } from '../api/http';

export function LoginPage() {
  const { login, notice } = useSession();
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [domain, setDomain] = useState('Default');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!user.trim() || !password) {
      setError('Enter a user name and a password.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await login(user.trim(), password, domain.trim() || 'Default');
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'Invalid credentials: check the user name, password and domain.' : errorMessage(err));
      setBusy(false);
    }
  };

  return (
    <main className="login" id="main">
      <form onSubmit={(e) => void submit(e)} aria-labelledby="login-title" noValidate>
        <h1 id="login-title">Log in to nova-ts</h1>
        {notice && <Alert kind="info">{notice}</Alert>}
        {error && <Alert>{error}</Alert>}
        <label>
          User name
          <input name="username" autoComplete="username" value={user} onChange={(e) => setUser(e.target.value)} autoFocus required />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </label>
        <label>
          Domain
          <input name="domain" value={domain} onChange={(e) => setDomain(e.target.value)} />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
