import { limitAmountProblem, parseUsd } from '../format.ts';
import { type ApiKey, RETENTION_LABELS, type Retention, SCOPES, type Scope } from '../types.ts';

/** What the API takes to create or change a key. */
export interface KeySettings {
  name: string;
  limit: { retention: Retention; threshold: number } | null;
  scopes: Scope[] | null;
  /** ISO 8601 (UTC), or null for never. */
  expires_at: string | null;
  rate_limit: { requests_per_minute: number | null; tokens_per_minute: number | null } | null;
  /** Percentages of the limit at which the account's webhooks hear of the key; [] for none. */
  alert_thresholds: number[];
}

/** The key form's fields as typed, before they are checked and turned into {@link KeySettings}. */
export interface KeyDraft {
  name: string;
  retention: Retention | 'none';
  threshold: string;
  allScopes: boolean;
  scopes: ReadonlySet<Scope>;
  /** A `datetime-local` value in UTC, or '' for never. */
  expires: string;
  rpm: string;
  tpm: string;
  alerts: string;
}

/** The fields a problem can be shown under. */
export type Field = 'name' | 'threshold' | 'scopes' | 'expires' | 'rpm' | 'tpm' | 'alerts';
export type Problems = Partial<Record<Field, string>>;

const MAX_ALERT_THRESHOLDS = 10;
export const MAX_RPM = 1_000_000;
export const MAX_TPM = 1_000_000_000;

export const LIMIT_CHOICES: { value: Retention | 'none'; label: string }[] = [
  { value: 'none', label: 'No limit' },
  { value: 'day', label: `${RETENTION_LABELS.day} (resets 00:00 UTC)` },
  { value: 'week', label: `${RETENTION_LABELS.week} (resets Monday 00:00 UTC)` },
  { value: 'month', label: `${RETENTION_LABELS.month} (resets on the 1st, 00:00 UTC)` },
  { value: 'no_reset', label: `${RETENTION_LABELS.no_reset} (a lifetime budget)` },
];

/** Which form field an API refusal's path (`body.limit.threshold`) belongs to. */
export const FIELD_OF_PATH: Record<string, Field> = {
  'body.name': 'name',
  'body.limit': 'threshold',
  'body.limit.threshold': 'threshold',
  'body.scopes': 'scopes',
  'body.expires_at': 'expires',
  'body.rate_limit': 'rpm',
  'body.rate_limit.requests_per_minute': 'rpm',
  'body.rate_limit.tokens_per_minute': 'tpm',
  'body.alert_thresholds': 'alerts',
};

/** `50, 80, 100` as the percentages it names, or null when it is not a list the API takes. */
export function parseThresholds(text: string): number[] | null {
  const parts = text
    .split(/[\s,%]+/)
    .map((part) => part.trim())
    .filter((part) => part !== '');
  const numbers = parts.map(Number);
  const valid = numbers.every((n) => Number.isInteger(n) && n >= 1 && n <= 100);
  if (!valid || numbers.length > MAX_ALERT_THRESHOLDS || new Set(numbers).size !== numbers.length)
    return null;
  return [...numbers].sort((a, b) => a - b);
}

/** What is wrong with typed alert thresholds, or null; empty means no alerts. */
export function thresholdsProblem(text: string): string | null {
  return parseThresholds(text) === null
    ? `Up to ${MAX_ALERT_THRESHOLDS} different whole percentages from 1 to 100, such as 50, 80, 100; empty for no alerts.`
    : null;
}

/** `2026-12-31T18:00:00.000Z` as a `datetime-local` value in UTC (`2026-12-31T18:00`). */
const toLocalInput = (iso: string | null | undefined) => (iso == null ? '' : iso.slice(0, 16));

/** What is wrong with a typed expiry (UTC), or null; empty means never. */
export function expiryProblem(text: string, nowMs: number): string | null {
  if (text === '') return null;
  const at = Date.parse(`${text}:00Z`);
  if (Number.isNaN(at)) return 'Enter a date and time, or leave it empty for a key that never expires.';
  if (at <= nowMs)
    return 'Choose a time in the future (UTC), or leave it empty for a key that never expires.';
  return null;
}

/** What is wrong with a typed per-minute rate, or null; empty means none. */
export function rateProblem(text: string, max: number): string | null {
  if (text.trim() === '') return null;
  const n = Number(text.trim());
  if (!Number.isInteger(n) || n < 1 || n > max) {
    return `A whole number from 1 to ${max.toLocaleString('en-US')}, or empty for no limit.`;
  }
  return null;
}

export const nameProblem = (name: string) =>
  name.trim() === '' ? 'Give the key a name, so you can tell it apart later (up to 256 characters).' : null;

/** The form's fields for a key being changed, or the defaults of a new one. */
export function draftOf(initial: ApiKey | undefined): KeyDraft {
  return {
    name: initial?.name ?? '',
    retention: initial?.limit?.retention ?? 'none',
    threshold: initial?.limit === null || initial?.limit === undefined ? '' : String(initial.limit.threshold),
    allScopes: initial === undefined || initial.scopes === null,
    scopes: new Set(initial?.scopes ?? []),
    expires: toLocalInput(initial?.expires_at),
    rpm: String(initial?.rate_limit?.requests_per_minute ?? ''),
    tpm: String(initial?.rate_limit?.tokens_per_minute ?? ''),
    alerts: (initial?.alert_thresholds ?? [50, 80, 100]).join(', '),
  };
}

/** Every field's problem, in the order of the form (the first one gets focus). */
export function draftProblems(draft: KeyDraft, nowMs: number): Problems {
  const checks: [Field, string | null][] = [
    ['name', nameProblem(draft.name)],
    ['threshold', draft.retention === 'none' ? null : limitAmountProblem(draft.threshold)],
    ['expires', expiryProblem(draft.expires, nowMs)],
    ['rpm', rateProblem(draft.rpm, MAX_RPM)],
    ['tpm', rateProblem(draft.tpm, MAX_TPM)],
    ['alerts', thresholdsProblem(draft.alerts)],
  ];
  return Object.fromEntries(checks.filter(([, problem]) => problem !== null)) as Problems;
}

/** The settings a checked draft stands for. */
export function settingsOf(draft: KeyDraft): KeySettings {
  const { retention, rpm, tpm } = draft;
  const amount = parseUsd(draft.threshold);
  return {
    name: draft.name.trim(),
    limit: retention === 'none' || amount === null ? null : { retention, threshold: amount },
    scopes: draft.allScopes ? null : SCOPES.filter((scope) => draft.scopes.has(scope)),
    expires_at: draft.expires === '' ? null : new Date(`${draft.expires}:00Z`).toISOString(),
    rate_limit:
      rpm.trim() === '' && tpm.trim() === ''
        ? null
        : {
            requests_per_minute: rpm.trim() === '' ? null : Number(rpm),
            tokens_per_minute: tpm.trim() === '' ? null : Number(tpm),
          },
    alert_thresholds: parseThresholds(draft.alerts) ?? [],
  };
}
