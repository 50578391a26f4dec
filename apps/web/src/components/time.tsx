import { localTime, utcTime } from '../format.ts';
import type { ApiKey } from '../types.ts';

/** An instant in the viewer's local time, with UTC on hover. */
export function Time({ iso, fallback = '—' }: { iso: string | null; fallback?: string }) {
  if (iso === null) return <>{fallback}</>;
  return (
    <time dateTime={iso} title={utcTime(iso)}>
      {localTime(iso)}
    </time>
  );
}

/** When a key's limit period resets: "Never" for a lifetime budget, a dash for a key without a limit. */
export function ResetTime({ apiKey }: { apiKey: ApiKey }) {
  return <Time iso={apiKey.resets_at} fallback={apiKey.limit?.retention === 'no_reset' ? 'Never' : '—'} />;
}
