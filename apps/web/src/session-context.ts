import { createContext, useContext } from 'react';
import type { Session } from './types.ts';

/** The signed-in person, for pages that say "you". */
export const SessionContext = createContext<Session['user'] | null>(null);

export function useSignedInUser(): Session['user'] | null {
  return useContext(SessionContext);
}
