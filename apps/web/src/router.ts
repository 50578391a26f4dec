import { useSyncExternalStore } from 'react';

// A small history router for the dashboard's few pages; every path lives under /app.
export const BASE = '/app';

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => {
  for (const listener of listeners) listener();
});

/** Goes to a dashboard path (without the /app base). */
export function navigate(path: string, options: { replace?: boolean } = {}): void {
  const url = `${BASE}${path}`;
  if (options.replace === true) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  for (const listener of listeners) listener();
  window.scrollTo(0, 0);
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The current dashboard path, without the /app base ('/' at the root). */
export function usePath(): string {
  const pathname = useSyncExternalStore(subscribe, () => window.location.pathname);
  const path = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  return path === '' ? '/' : path;
}

/** A link that stays inside the dashboard without reloading it. */
export function linkProps(path: string) {
  return {
    href: `${BASE}${path}`,
    onClick(event: {
      preventDefault(): void;
      metaKey: boolean;
      ctrlKey: boolean;
      shiftKey: boolean;
      button: number;
    }) {
      if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      navigate(path);
    },
  };
}
