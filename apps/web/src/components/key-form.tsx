import { type FormEvent, useId, useState } from 'react';
import { limitAmountProblem, parseUsd } from '../format.ts';
import { type ApiKey, RETENTION_LABELS, type Retention, SCOPE_LABELS, SCOPES, type Scope } from '../types.ts';
import { ErrorMessage, FieldError } from './dialog.tsx';

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

const MAX_ALERT_THRESHOLDS = 10;

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

const MAX_RPM = 1_000_000;
const MAX_TPM = 1_000_000_000;

const LIMIT_CHOICES: { value: Retention | 'none'; label: string }[] = [
  { value: 'none', label: 'No limit' },
  { value: 'day', label: `${RETENTION_LABELS.day} (resets 00:00 UTC)` },
  { value: 'week', label: `${RETENTION_LABELS.week} (resets Monday 00:00 UTC)` },
  { value: 'month', label: `${RETENTION_LABELS.month} (resets on the 1st, 00:00 UTC)` },
  { value: 'no_reset', label: `${RETENTION_LABELS.no_reset} (a lifetime budget)` },
];

type Field = 'name' | 'threshold' | 'scopes' | 'expires' | 'rpm' | 'tpm' | 'alerts';

const NO_FIELD_ERRORS: Readonly<Record<string, string>> = {};

/** Which form field an API refusal's path (`body.limit.threshold`) belongs to. */
const FIELD_OF_PATH: Record<string, Field> = {
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

const nameProblem = (name: string) =>
  name.trim() === '' ? 'Give the key a name, so you can tell it apart later (up to 256 characters).' : null;

/**
 * The fields of an API key: name, spending limit, endpoint permissions. Each problem is shown under its field,
 * says what is allowed, and goes away as soon as the field holds an allowed value.
 */
export function KeyForm({
  initial,
  submitLabel,
  onSubmit,
  onCancel,
  error,
  fieldErrors = NO_FIELD_ERRORS,
  busy,
}: {
  initial?: ApiKey;
  submitLabel: string;
  onSubmit: (settings: KeySettings) => void;
  onCancel: () => void;
  error: string | null;
  /** The API's refusal per field path, from the last submit. */
  fieldErrors?: Readonly<Record<string, string>>;
  busy: boolean;
}) {
  const id = useId();
  const [name, setName] = useState(initial?.name ?? '');
  const [retention, setRetention] = useState<Retention | 'none'>(initial?.limit?.retention ?? 'none');
  const [threshold, setThreshold] = useState(
    initial?.limit === null || initial?.limit === undefined ? '' : String(initial.limit.threshold),
  );
  const [allScopes, setAllScopes] = useState(initial === undefined || initial.scopes === null);
  const [scopes, setScopes] = useState<Set<Scope>>(new Set(initial?.scopes ?? []));
  const [expires, setExpires] = useState(toLocalInput(initial?.expires_at));
  const [rpm, setRpm] = useState(String(initial?.rate_limit?.requests_per_minute ?? ''));
  const [tpm, setTpm] = useState(String(initial?.rate_limit?.tokens_per_minute ?? ''));
  const [alerts, setAlerts] = useState((initial?.alert_thresholds ?? [50, 80, 100]).join(', '));
  const [problems, setProblems] = useState<Partial<Record<Field, string>>>({});
  // The API's refusals, until the field they name is edited.
  const [edited, setEdited] = useState<ReadonlySet<Field>>(new Set());
  const [seenErrors, setSeenErrors] = useState(fieldErrors);
  if (seenErrors !== fieldErrors) {
    setSeenErrors(fieldErrors);
    setEdited(new Set());
  }
  const apiProblems: Partial<Record<Field, string>> = {};
  for (const [path, message] of Object.entries(fieldErrors)) {
    const field = FIELD_OF_PATH[path];
    if (field !== undefined && !edited.has(field)) apiProblems[field] ??= message;
  }
  const shown = (field: Field) => problems[field] ?? apiProblems[field];
  const unplaced = Object.keys(fieldErrors).some((path) => FIELD_OF_PATH[path] === undefined);

  /** Re-checks a field as it is edited, once it has shown a problem. */
  const edit = (field: Field, problem: string | null) => {
    setEdited((previous) => new Set(previous).add(field));
    setProblems((previous) => {
      if (previous[field] === undefined) return previous;
      const { [field]: _gone, ...rest } = previous;
      return problem === null ? rest : { ...rest, [field]: problem };
    });
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found: Partial<Record<Field, string>> = {};
    const badName = nameProblem(name);
    if (badName !== null) found.name = badName;
    const badAmount = retention === 'none' ? null : limitAmountProblem(threshold);
    if (badAmount !== null) found.threshold = badAmount;
    const badExpiry = expiryProblem(expires, Date.now());
    if (badExpiry !== null) found.expires = badExpiry;
    const badRpm = rateProblem(rpm, MAX_RPM);
    if (badRpm !== null) found.rpm = badRpm;
    const badTpm = rateProblem(tpm, MAX_TPM);
    if (badTpm !== null) found.tpm = badTpm;
    const badAlerts = thresholdsProblem(alerts);
    if (badAlerts !== null) found.alerts = badAlerts;
    setProblems(found);
    const first = Object.keys(found)[0];
    if (first !== undefined) {
      document.getElementById(`${id}-${first}`)?.focus();
      return;
    }
    const amount = parseUsd(threshold);
    onSubmit({
      name: name.trim(),
      limit: retention === 'none' || amount === null ? null : { retention, threshold: amount },
      scopes: allScopes ? null : SCOPES.filter((scope) => scopes.has(scope)),
      expires_at: expires === '' ? null : new Date(`${expires}:00Z`).toISOString(),
      rate_limit:
        rpm.trim() === '' && tpm.trim() === ''
          ? null
          : {
              requests_per_minute: rpm.trim() === '' ? null : Number(rpm),
              tokens_per_minute: tpm.trim() === '' ? null : Number(tpm),
            },
      alert_thresholds: parseThresholds(alerts) ?? [],
    });
  };

  const describedBy = (field: Field, hint?: string) =>
    [hint, shown(field) === undefined ? undefined : `${id}-${field}-error`].filter(Boolean).join(' ') ||
    undefined;

  return (
    <form onSubmit={submit} noValidate>
      <label htmlFor={`${id}-name`}>Name</label>
      <input
        id={`${id}-name`}
        value={name}
        maxLength={256}
        onChange={(event) => {
          setName(event.target.value);
          edit('name', nameProblem(event.target.value));
        }}
        placeholder="e.g. production backend"
        autoComplete="off"
        aria-invalid={shown('name') !== undefined}
        aria-describedby={describedBy('name')}
      />
      <FieldError id={`${id}-name-error`} message={shown('name')} />

      <label htmlFor={`${id}-retention`}>Spending limit</label>
      <select
        id={`${id}-retention`}
        value={retention}
        onChange={(event) => {
          setRetention(event.target.value as Retention | 'none');
          edit('threshold', event.target.value === 'none' ? null : limitAmountProblem(threshold));
        }}
      >
        {LIMIT_CHOICES.map((choice) => (
          <option key={choice.value} value={choice.value}>
            {choice.label}
          </option>
        ))}
      </select>
      {retention !== 'none' && (
        <>
          <label htmlFor={`${id}-threshold`}>Limit amount (USD)</label>
          <input
            id={`${id}-threshold`}
            inputMode="decimal"
            value={threshold}
            onChange={(event) => {
              setThreshold(event.target.value);
              edit('threshold', limitAmountProblem(event.target.value));
            }}
            placeholder="5.00"
            aria-invalid={shown('threshold') !== undefined}
            aria-describedby={describedBy('threshold', `${id}-threshold-hint`)}
          />
          <FieldError id={`${id}-threshold-error`} message={shown('threshold')} />
          <p className="hint" id={`${id}-threshold-hint`}>
            A positive amount in US dollars, such as 5 or 12.50. Calls are refused once the spend in the
            period reaches it, until the period resets.
          </p>
        </>
      )}

      <fieldset aria-describedby={describedBy('scopes')}>
        <legend>Endpoint permissions</legend>
        <label className="check">
          <input
            type="radio"
            name={`${id}-scope-mode`}
            checked={allScopes}
            onChange={() => {
              setAllScopes(true);
              edit('scopes', null);
            }}
          />
          All endpoints
        </label>
        <label className="check">
          <input
            type="radio"
            name={`${id}-scope-mode`}
            checked={!allScopes}
            onChange={() => {
              setAllScopes(false);
              edit('scopes', null);
            }}
          />
          Only these:
        </label>
        <div className="scopes" aria-disabled={allScopes}>
          {SCOPES.map((scope) => (
            <label key={scope} className="check" title={scope}>
              <input
                type="checkbox"
                disabled={allScopes}
                checked={!allScopes && scopes.has(scope)}
                onChange={(event) => {
                  const next = new Set(scopes);
                  if (event.target.checked) next.add(scope);
                  else next.delete(scope);
                  setScopes(next);
                  edit('scopes', null);
                }}
              />
              <span>
                {SCOPE_LABELS[scope].label} <span className="muted">{SCOPE_LABELS[scope].description}</span>
              </span>
            </label>
          ))}
        </div>
        {!allScopes && scopes.size === 0 && (
          <p className="hint">With no endpoint chosen, the key can call nothing.</p>
        )}
        <FieldError id={`${id}-scopes-error`} message={shown('scopes')} />
      </fieldset>

      <label htmlFor={`${id}-expires`}>Expires (UTC)</label>
      <div className="inline-field">
        <input
          id={`${id}-expires`}
          type="datetime-local"
          value={expires}
          onChange={(event) => {
            setExpires(event.target.value);
            edit('expires', expiryProblem(event.target.value, Date.now()));
          }}
          aria-invalid={shown('expires') !== undefined}
          aria-describedby={describedBy('expires', `${id}-expires-hint`)}
        />
        {expires !== '' && (
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setExpires('');
              edit('expires', null);
            }}
          >
            Never expires
          </button>
        )}
      </div>
      <FieldError id={`${id}-expires-error`} message={shown('expires')} />
      <p className="hint" id={`${id}-expires-hint`}>
        Empty: the key never expires. From this moment on (UTC) every call with the key is refused.
      </p>

      <fieldset>
        <legend>Rate limit</legend>
        <label htmlFor={`${id}-rpm`}>Requests per minute</label>
        <input
          id={`${id}-rpm`}
          inputMode="numeric"
          value={rpm}
          placeholder="No limit"
          onChange={(event) => {
            setRpm(event.target.value);
            edit('rpm', rateProblem(event.target.value, MAX_RPM));
          }}
          aria-invalid={shown('rpm') !== undefined}
          aria-describedby={describedBy('rpm')}
        />
        <FieldError id={`${id}-rpm-error`} message={shown('rpm')} />
        <label htmlFor={`${id}-tpm`}>Tokens per minute</label>
        <input
          id={`${id}-tpm`}
          inputMode="numeric"
          value={tpm}
          placeholder="No limit"
          onChange={(event) => {
            setTpm(event.target.value);
            edit('tpm', rateProblem(event.target.value, MAX_TPM));
          }}
          aria-invalid={shown('tpm') !== undefined}
          aria-describedby={describedBy('tpm')}
        />
        <FieldError id={`${id}-tpm-error`} message={shown('tpm')} />
        <p className="hint">
          Counted across every API replica. Calls past the rate are refused with when to retry; tokens are
          counted from the usage the gateway reports.
        </p>
      </fieldset>

      <label htmlFor={`${id}-alerts`}>Alert at (% of the limit)</label>
      <input
        id={`${id}-alerts`}
        value={alerts}
        placeholder="No alerts"
        onChange={(event) => {
          setAlerts(event.target.value);
          edit('alerts', thresholdsProblem(event.target.value));
        }}
        aria-invalid={shown('alerts') !== undefined}
        aria-describedby={describedBy('alerts', `${id}-alerts-hint`)}
      />
      <FieldError id={`${id}-alerts-error`} message={shown('alerts')} />
      <p className="hint" id={`${id}-alerts-hint`}>
        When the key's spend in its limit period reaches each of these, the account's webhooks get{' '}
        <code>key.threshold_crossed</code> once. Empty: no alerts.
      </p>

      <ErrorMessage message={Object.keys(fieldErrors).length === 0 || unplaced ? error : null} />
      <div className="actions">
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : submitLabel}
        </button>
      </div>
    </form>
  );
}
