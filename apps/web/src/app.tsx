import { useCallback, useEffect, useState } from 'react';
import { ApiProblem, api, setCsrfToken, whenSessionEnds } from './api.ts';
import { ApiKeyPage } from './pages/api-key-page.tsx';
import { ApiKeysTab } from './pages/api-keys-tab.tsx';
import { ManagementKeysTab } from './pages/management-keys-tab.tsx';
import { SignIn } from './pages/sign-in.tsx';
import { WebhookDeliveriesPage } from './pages/webhook-deliveries-page.tsx';
import { WebhooksPage } from './pages/webhooks-page.tsx';
import { linkProps, navigate, usePath } from './router.ts';
import { SessionContext } from './session-context.ts';
import type { Session } from './types.ts';

type SessionState =
  | { state: 'loading' }
  | { state: 'signed-out'; notice?: string }
  | { state: 'signed-in'; session: Session };

export function App() {
  const { session, signedIn, signOut } = useSession();
  const path = usePath();

  useEffect(() => {
    if (session.state === 'signed-in' && (path === '/' || path === '/sign-in'))
      navigate('/keys', { replace: true });
  }, [session.state, path]);

  if (session.state === 'loading')
    return (
      <p className="loading" role="status">
        Loading…
      </p>
    );
  if (session.state === 'signed-out') {
    return <SignIn notice={session.notice} onSignedIn={signedIn} />;
  }
  return (
    <div className="shell">
      <TopBar path={path} user={session.session.user} onSignOut={signOut} />
      <main>
        <SessionContext.Provider value={session.session.user}>
          <Page path={path} />
        </SessionContext.Provider>
      </main>
    </div>
  );
}

/**
 * The dashboard's session: loaded once at start, set on sign-in, cleared on sign-out and when the API says
 * it has ended.
 */
function useSession() {
  const [session, setSession] = useState<SessionState>({ state: 'loading' });

  const signedIn = useCallback((next: Session) => {
    setCsrfToken(next.csrf_token);
    setSession({ state: 'signed-in', session: next });
  }, []);

  useEffect(() => {
    whenSessionEnds(() => {
      setCsrfToken(null);
      setSession({ state: 'signed-out', notice: 'Your session has ended. Sign in again to continue.' });
    });
    api<Session>('GET', '/v1/dashboard/session')
      .then(signedIn)
      .catch((error: unknown) => {
        setSession(
          error instanceof ApiProblem && error.code === 'SESSION_REQUIRED'
            ? { state: 'signed-out' }
            : { state: 'signed-out', notice: (error as Error).message },
        );
      });
  }, [signedIn]);

  const signOut = async () => {
    try {
      await api('DELETE', '/v1/dashboard/session');
    } finally {
      setCsrfToken(null);
      setSession({ state: 'signed-out', notice: 'You are signed out.' });
      navigate('/sign-in', { replace: true });
    }
  };
  return { session, signedIn, signOut };
}

function TopBar({ path, user, onSignOut }: { path: string; user: Session['user']; onSignOut: () => void }) {
  return (
    <header className="topbar">
      <a className="brand" {...linkProps('/keys')}>
        keyfence
      </a>
      <nav aria-label="Sections">
        <a {...linkProps('/keys')} aria-current={path.startsWith('/keys') ? 'page' : undefined}>
          Keys
        </a>
        <a {...linkProps('/webhooks')} aria-current={path.startsWith('/webhooks') ? 'page' : undefined}>
          Webhooks
        </a>
      </nav>
      <div className="account">
        <span className="email" title={`Account ${user.account_id}`}>
          {user.email}
        </span>
        <button type="button" className="secondary" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}

function Page({ path }: { path: string }) {
  const webhookPage = /^\/webhooks\/([0-9a-f-]{36})$/.exec(path);
  if (webhookPage?.[1] !== undefined) return <WebhookDeliveriesPage id={webhookPage[1]} />;
  if (path === '/webhooks') return <WebhooksPage />;
  const keyPage = /^\/keys\/api\/([0-9A-Za-z]{8})$/.exec(path);
  if (keyPage?.[1] !== undefined) return <ApiKeyPage prefix={keyPage[1]} />;
  if (path === '/keys/management') return <KeysSection tab="management" />;
  if (path === '/keys' || path === '/keys/api' || path === '/' || path === '/sign-in')
    return <KeysSection tab="api" />;
  return (
    <section>
      <h1>Page not found</h1>
      <p>
        There is nothing at this address. <a {...linkProps('/keys')}>Go to your keys.</a>
      </p>
    </section>
  );
}

function KeysSection({ tab }: { tab: 'api' | 'management' }) {
  return (
    <section aria-labelledby="keys-heading">
      <h1 id="keys-heading">Keys</h1>
      <div className="tabs" role="tablist" aria-label="Kinds of keys">
        <a
          role="tab"
          aria-selected={tab === 'api'}
          id="tab-api"
          aria-controls="panel"
          {...linkProps('/keys')}
        >
          API Keys
        </a>
        <a
          role="tab"
          aria-selected={tab === 'management'}
          id="tab-management"
          aria-controls="panel"
          {...linkProps('/keys/management')}
        >
          Management Keys
        </a>
      </div>
      <div id="panel" role="tabpanel" aria-labelledby={tab === 'api' ? 'tab-api' : 'tab-management'}>
        {tab === 'api' ? <ApiKeysTab /> : <ManagementKeysTab />}
      </div>
    </section>
  );
}
