import { type FormEvent, useId, useState } from 'react';
import { parseUsd } from '../format.ts';
import { type ApiKey, RETENTION_LABELS, type Retention, SCOPE_LABELS, SCOPES, type Scope } from '../types.ts';
import { ErrorMessage } from './dialog.tsx';

/** What the API takes to create or change a key. */
export interface KeySettings {
  name: string;
  limit: { retention: Retention; threshold: number } | null;
  scopes: Scope[] | null;
}

const LIMIT_CHOICES: { value: Retention | 'none'; label: string }[] = [
  { value: 'none', label: 'No limit' },
  { value: 'day', label: `${RETENTION_LABELS.day} (resets 00:00 UTC)` },
  { value: 'week', label: `${RETENTION_LABELS.week} (resets Monday 00:00 UTC)` },
  { value: 'month', label: `${RETENTION_LABELS.month} (resets on the 1st, 00:00 UTC)` },
  { value: 'no_reset', label: `${RETENTION_LABELS.no_reset} (a lifetime budget)` },
];

/** The fields of an API key: name, spending limit, endpoint permissions. */
export function KeyForm({
  initial,
  submitLabel,
  onSubmit,
  onCancel,
  error,
  busy,
}: {
  initial?: ApiKey;
  submitLabel: string;
  onSubmit: (settings: KeySettings) => void;
  onCancel: () => void;
  error: string | null;
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
  const [problem, setProblem] = useState<string | null>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    let limit: KeySettings['limit'] = null;
    if (retention !== 'none') {
      const amount = parseUsd(threshold);
      if (amount === null) {
        setProblem('Enter the limit as an amount in dollars, such as 5 or 12.50.');
        document.getElementById(`${id}-threshold`)?.focus();
        return;
      }
      limit = { retention, threshold: amount };
    }
    setProblem(null);
    onSubmit({
      name: name.trim(),
      limit,
      scopes: allScopes ? null : SCOPES.filter((scope) => scopes.has(scope)),
    });
  };

  return (
    <form onSubmit={submit} noValidate>
      <label htmlFor={`${id}-name`}>Name</label>
      <input
        id={`${id}-name`}
        value={name}
        maxLength={256}
        onChange={(event) => setName(event.target.value)}
        placeholder="e.g. production backend"
        autoComplete="off"
      />

      <label htmlFor={`${id}-retention`}>Spending limit</label>
      <select
        id={`${id}-retention`}
        value={retention}
        onChange={(event) => setRetention(event.target.value as Retention | 'none')}
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
            onChange={(event) => setThreshold(event.target.value)}
            placeholder="5.00"
            aria-describedby={`${id}-threshold-hint`}
          />
          <p className="hint" id={`${id}-threshold-hint`}>
            Calls are refused once the spend in the period reaches this amount, until the period resets.
          </p>
        </>
      )}

      <fieldset>
        <legend>Endpoint permissions</legend>
        <label className="check">
          <input
            type="radio"
            name={`${id}-scope-mode`}
            checked={allScopes}
            onChange={() => setAllScopes(true)}
          />
          All endpoints
        </label>
        <label className="check">
          <input
            type="radio"
            name={`${id}-scope-mode`}
            checked={!allScopes}
            onChange={() => setAllScopes(false)}
          />
          Only these:
        </label>
        <div className="scopes" aria-disabled={allScopes}>
          {SCOPES.map((scope) => (
            <label key={scope} className="check" title={SCOPE_LABELS[scope].description}>
              <input
                type="checkbox"
                disabled={allScopes}
                checked={!allScopes && scopes.has(scope)}
                onChange={(event) => {
                  const next = new Set(scopes);
                  if (event.target.checked) next.add(scope);
                  else next.delete(scope);
                  setScopes(next);
                }}
              />
              <span>
                {SCOPE_LABELS[scope].label} <span className="muted">{scope}</span>
              </span>
            </label>
          ))}
        </div>
        {!allScopes && scopes.size === 0 && (
          <p className="hint">With no endpoint chosen, the key can call nothing.</p>
        )}
      </fieldset>

      <ErrorMessage message={problem ?? error} />
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
