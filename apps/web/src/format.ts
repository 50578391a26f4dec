import { type ApiKey, RETENTION_LABELS } from './types.ts';

/** Dollars as people read them: cents, or more digits for amounts under a cent. */
export function formatUsd(amount: number): string {
  if (amount !== 0 && Math.abs(amount) < 0.01) {
    return `$${amount.toFixed(9).replace(/0+$/, '')}`;
  }
  return `$${amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** An instant in the viewer's local time. */
export function localTime(iso: string, locale?: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

/** The same instant in UTC, for the hover text. */
export function utcTime(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The spend that counts against a key's limit: the window its limit resets with. */
export function windowSpend(key: ApiKey): number {
  switch (key.limit?.retention) {
    case 'day':
      return key.usage.day;
    case 'week':
      return key.usage.week;
    case 'month':
      return key.usage.month;
    default:
      return key.usage.lifetime;
  }
}

/** How full the limit is, 0–1 (1 when reached, and for a $0 limit). */
export function limitShare(key: ApiKey): number {
  if (key.limit === null) return 0;
  if (key.limit.threshold <= 0) return 1;
  return Math.min(1, windowSpend(key) / key.limit.threshold);
}

export type KeyStatus = 'active' | 'disabled' | 'limit_reached' | 'expired';

export function statusOf(key: ApiKey): KeyStatus {
  if (key.expired) return 'expired';
  if (key.disabled) return 'disabled';
  return key.limit_reached ? 'limit_reached' : 'active';
}

export const STATUS_LABELS: Record<KeyStatus, string> = {
  active: 'Active',
  disabled: 'Disabled',
  limit_reached: 'Limit reached',
  expired: 'Expired',
};

/**
 * Time left until `iso` from `nowMs`, in words ("3 days 4 h", "12 min", "expired"): what the key page shows
 * beside an expiry.
 */
export function timeLeft(iso: string, nowMs: number): string {
  const ms = Date.parse(iso) - nowMs;
  if (ms <= 0) return 'expired';
  const minutes = Math.floor(ms / 60_000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  if (days > 0) return `${days} day${days === 1 ? '' : 's'} ${hours} h left`;
  if (hours > 0) return `${hours} h ${minutes % 60} min left`;
  if (minutes > 0) return `${minutes} min left`;
  return 'less than a minute left';
}

/** A key's rate limit in words, or "No rate limit". */
export function rateLimitLabel(rate: ApiKey['rate_limit']): string {
  if (rate === null) return 'No rate limit';
  const parts: string[] = [];
  if (rate.requests_per_minute !== null)
    parts.push(`${rate.requests_per_minute.toLocaleString('en-US')} requests/min`);
  if (rate.tokens_per_minute !== null)
    parts.push(`${rate.tokens_per_minute.toLocaleString('en-US')} tokens/min`);
  return parts.join(' · ');
}

/** A decimal dollar amount typed by a person ("5", "$12.50", "1,000"), as a number; null when it is not one. */
export function parseUsd(text: string): number | null {
  const cleaned = text.trim().replace(/^\$/, '').replace(/,/g, '');
  if (!/^\d+(\.\d{1,9})?$/.test(cleaned)) return null;
  return Number(cleaned);
}

/**
 * What is wrong with a typed limit amount, in words that say what is allowed; null when it is a positive dollar
 * amount. (The API still decides the largest, $1,000,000,000; its answer is shown next to the field too.)
 */
export function limitAmountProblem(text: string): string | null {
  if (text.trim() === '') return 'Enter the limit in dollars, such as 5 or 12.50.';
  if (/^\s*-/.test(text)) return 'The limit must be a positive amount of dollars, such as 5 or 12.50.';
  if (/\.\d{10,}\s*$/.test(text)) return 'Use at most 9 decimals: the smallest amount is $0.000000001.';
  const amount = parseUsd(text);
  if (amount === null) return 'Enter the limit as a positive amount of dollars, such as 5 or 12.50.';
  if (amount === 0) return 'The limit must be more than $0. To stop a key from calling, disable it.';
  return null;
}

/** What is left of a key's limit this period ("$3.25"), or a dash for a key without one. */
export function remainingLabel(key: Pick<ApiKey, 'limit_remaining'>): string {
  return key.limit_remaining === null ? '—' : formatUsd(key.limit_remaining);
}

/** A key's name as the dashboard shows it; a key without one is "Unnamed key". */
export const keyName = (key: { readonly name: string }): string => key.name || 'Unnamed key';

/** A key's limit as the dashboard shows it: "Weekly $5.00", or "No limit". */
export function limitLabel(limit: ApiKey['limit']): string {
  return limit === null ? 'No limit' : `${RETENTION_LABELS[limit.retention]} ${formatUsd(limit.threshold)}`;
}
