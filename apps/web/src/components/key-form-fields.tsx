import type { InputHTMLAttributes, ReactNode } from 'react';
import { limitAmountProblem } from '../format.ts';
import { toggled } from '../toggled.ts';
import { type Retention, SCOPE_LABELS, SCOPES } from '../types.ts';
import { FieldError, LabelledInput } from './dialog.tsx';
import { expiryProblem, LIMIT_CHOICES, MAX_RPM, MAX_TPM, rateProblem } from './key-settings.ts';
import type { KeyFormState } from './use-key-form.ts';

type TextFieldName = 'name' | 'threshold' | 'rpm' | 'tpm' | 'alerts';

/** A labelled text field of the key form, its problem under it, then its hint if it has one. */
export function TextField({
  form,
  field,
  label,
  check,
  hint,
  ...input
}: {
  form: KeyFormState;
  field: TextFieldName;
  label: string;
  /** The field's problem with a typed value, re-checked as it is edited once it has shown one. */
  check: (text: string) => string | null;
  hint?: ReactNode;
} & Pick<InputHTMLAttributes<HTMLInputElement>, 'maxLength' | 'placeholder' | 'autoComplete' | 'inputMode'>) {
  const { id, draft, change, shown } = form;
  const hintId = hint === undefined ? undefined : `${id}-${field}-hint`;
  return (
    <>
      <LabelledInput
        id={`${id}-${field}`}
        label={label}
        problem={shown(field)}
        hintId={hintId}
        value={draft[field]}
        {...input}
        onChange={(event) => change({ [field]: event.target.value }, field, check(event.target.value))}
      />
      {hint !== undefined && (
        <p className="hint" id={hintId}>
          {hint}
        </p>
      )}
    </>
  );
}

/** The spending limit: its period (or none), and its amount when there is one. */
export function LimitFields({ form }: { form: KeyFormState }) {
  const { id, draft, change } = form;
  return (
    <>
      <label htmlFor={`${id}-retention`}>Spending limit</label>
      <select
        id={`${id}-retention`}
        value={draft.retention}
        onChange={(event) => {
          const retention = event.target.value as Retention | 'none';
          change(
            { retention },
            'threshold',
            retention === 'none' ? null : limitAmountProblem(draft.threshold),
          );
        }}
      >
        {LIMIT_CHOICES.map((choice) => (
          <option key={choice.value} value={choice.value}>
            {choice.label}
          </option>
        ))}
      </select>
      {draft.retention !== 'none' && (
        <TextField
          form={form}
          field="threshold"
          label="Limit amount (USD)"
          check={limitAmountProblem}
          inputMode="decimal"
          placeholder="5.00"
          hint="A positive amount in US dollars, such as 5 or 12.50. Calls are refused once the spend in the period reaches it, until the period resets."
        />
      )}
    </>
  );
}

/** Endpoint permissions: all endpoints, or only the ones ticked. */
export function ScopeFields({ form }: { form: KeyFormState }) {
  const { id, draft, change, shown, describedBy } = form;
  const { allScopes, scopes } = draft;
  return (
    <fieldset aria-describedby={describedBy('scopes')}>
      <legend>Endpoint permissions</legend>
      <label className="check">
        <input
          type="radio"
          name={`${id}-scope-mode`}
          checked={allScopes}
          onChange={() => change({ allScopes: true }, 'scopes', null)}
        />
        All endpoints
      </label>
      <label className="check">
        <input
          type="radio"
          name={`${id}-scope-mode`}
          checked={!allScopes}
          onChange={() => change({ allScopes: false }, 'scopes', null)}
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
              onChange={(event) =>
                change({ scopes: toggled(scopes, scope, event.target.checked) }, 'scopes', null)
              }
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
  );
}

/** When the key stops working (UTC), or never. */
export function ExpiryField({ form }: { form: KeyFormState }) {
  const { id, draft, change, shown, describedBy } = form;
  return (
    <>
      <label htmlFor={`${id}-expires`}>Expires (UTC)</label>
      <div className="inline-field">
        <input
          id={`${id}-expires`}
          type="datetime-local"
          value={draft.expires}
          onChange={(event) =>
            change({ expires: event.target.value }, 'expires', expiryProblem(event.target.value, Date.now()))
          }
          aria-invalid={shown('expires') !== undefined}
          aria-describedby={describedBy('expires', `${id}-expires-hint`)}
        />
        {draft.expires !== '' && (
          <button
            type="button"
            className="secondary"
            onClick={() => change({ expires: '' }, 'expires', null)}
          >
            Never expires
          </button>
        )}
      </div>
      <FieldError id={`${id}-expires-error`} message={shown('expires')} />
      <p className="hint" id={`${id}-expires-hint`}>
        Empty: the key never expires. From this moment on (UTC) every call with the key is refused.
      </p>
    </>
  );
}

const RATES = [
  { field: 'rpm', label: 'Requests per minute', max: MAX_RPM },
  { field: 'tpm', label: 'Tokens per minute', max: MAX_TPM },
] as const;

/** Requests and tokens per minute, each optional. */
export function RateLimitFields({ form }: { form: KeyFormState }) {
  return (
    <fieldset>
      <legend>Rate limit</legend>
      {RATES.map((rate) => (
        <TextField
          key={rate.field}
          form={form}
          field={rate.field}
          label={rate.label}
          check={(text) => rateProblem(text, rate.max)}
          inputMode="numeric"
          placeholder="No limit"
        />
      ))}
      <p className="hint">
        Counted across every API replica. Calls past the rate are refused with when to retry; tokens are
        counted from the usage the gateway reports.
      </p>
    </fieldset>
  );
}
