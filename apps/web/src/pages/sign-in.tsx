import { type FormEvent, useEffect, useRef, useState } from 'react';
import { api } from '../api.ts';
import { ErrorMessage } from '../components/dialog.tsx';
import type { Session } from '../types.ts';

export function SignIn({
  notice,
  onSignedIn,
}: {
  notice?: string | undefined;
  onSignedIn: (session: Session) => void;
}) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const emailRef = useRef<HTMLInputElement>(null);
  useEffect(() => emailRef.current?.focus(), []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (email.trim() === '' || password === '') {
      setError('Enter your email and your password.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await api<Session>('POST', '/v1/dashboard/session', { email, password }));
    } catch (problem) {
      setError((problem as Error).message);
      setPassword('');
      document.getElementById('password')?.focus();
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <form onSubmit={submit} noValidate aria-labelledby="sign-in-heading">
        <p className="brand">keyfence</p>
        <h1 id="sign-in-heading">Sign in</h1>
        {notice !== undefined && error === null && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <label htmlFor="email">Email</label>
        <input
          id="email"
          type="email"
          autoComplete="username"
          value={email}
          onChange={(event) => setEmail(event.target.value)}
          ref={emailRef}
        />
        <label htmlFor="password">Password</label>
        <input
          id="password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
        <ErrorMessage message={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <p className="hint">Accounts and users are created by your operator with the keyfence CLI.</p>
      </form>
    </main>
  );
}
