/** How often a credential's `last_used_at` is written at most, so reads do not turn into writes. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** A Prisma `where` fragment: the row's last use is unknown or older than the resolution allows. */
export function lastUsedIsStale(now: Date) {
  return {
    OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now.getTime() - LAST_USED_RESOLUTION_MS) } }],
  };
}
