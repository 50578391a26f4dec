import { useCallback, useEffect, useRef, useState } from 'react';

export type Loaded<T> =
  | { state: 'loading' }
  | { state: 'error'; message: string }
  | { state: 'ready'; value: T };

/**
 * Loads `load()` now, again on `reload()`, and every `pollMs` while the page is visible (so spend bars
 * follow usage). A failed refresh keeps the last good value on screen.
 */
export function useLoad<T>(load: () => Promise<T>, pollMs?: number): [Loaded<T>, () => Promise<void>] {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  const loadRef = useRef(load);
  loadRef.current = load;
  const reload = useCallback(async () => {
    try {
      const value = await loadRef.current();
      setLoaded({ state: 'ready', value });
    } catch (error) {
      setLoaded((previous) =>
        previous.state === 'ready' ? previous : { state: 'error', message: (error as Error).message },
      );
    }
  }, []);
  useEffect(() => {
    void reload();
    if (pollMs === undefined) return;
    const timer = window.setInterval(() => {
      if (document.visibilityState === 'visible') void reload();
    }, pollMs);
    return () => window.clearInterval(timer);
  }, [reload, pollMs]);
  return [loaded, reload];
}
