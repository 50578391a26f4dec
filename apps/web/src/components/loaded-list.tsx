import type { ReactNode } from 'react';
import type { Loaded } from '../use-load.ts';
import { ErrorMessage } from './dialog.tsx';

/** A loaded list: a loading line, the error in words, the empty state, or `children` with the items. */
export function LoadedList<Item>({
  loaded,
  loading,
  empty,
  children,
}: {
  loaded: Loaded<Item[]>;
  loading: string;
  empty: string;
  children: (items: Item[]) => ReactNode;
}) {
  if (loaded.state === 'loading') return <p role="status">{loading}</p>;
  if (loaded.state === 'error') return <ErrorMessage message={loaded.message} />;
  if (loaded.value.length === 0) {
    return (
      <div className="empty">
        <p>{empty}</p>
      </div>
    );
  }
  return children(loaded.value);
}
