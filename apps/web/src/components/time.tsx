import { localTime, utcTime } from '../format.ts';

/** An instant in the viewer's local time, with UTC on hover. */
export function Time({ iso, fallback = '—' }: { iso: string | null; fallback?: string }) {
  if (iso === null) return <>{fallback}</>;
  return (
    <time dateTime={iso} title={utcTime(iso)}>
      {localTime(iso)}
    </time>
  );
}
