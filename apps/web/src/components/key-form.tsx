import type { ApiKey } from '../types.ts';
import { ErrorMessage, FormActions } from './dialog.tsx';
import { ExpiryField, LimitFields, RateLimitFields, ScopeFields, TextField } from './key-form-fields.tsx';
import { type KeySettings, nameProblem, thresholdsProblem } from './key-settings.ts';
import { useKeyForm } from './use-key-form.ts';

const NO_FIELD_ERRORS: Readonly<Record<string, string>> = {};

/**
 * The fields of an API key: name, spending limit, endpoint permissions, expiry, rate limit and alerts. Each
 * problem is shown under its field, says what is allowed, and goes away as soon as the field holds an allowed
 * value.
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
  const form = useKeyForm(initial, fieldErrors, onSubmit);
  return (
    <form onSubmit={form.submit} noValidate>
      <TextField
        form={form}
        field="name"
        label="Name"
        check={nameProblem}
        maxLength={256}
        placeholder="e.g. production backend"
        autoComplete="off"
      />
      <LimitFields form={form} />
      <ScopeFields form={form} />
      <ExpiryField form={form} />
      <RateLimitFields form={form} />
      <TextField
        form={form}
        field="alerts"
        label="Alert at (% of the limit)"
        check={thresholdsProblem}
        placeholder="No alerts"
        hint={
          <>
            When the key's spend in its limit period reaches each of these, the account's webhooks get{' '}
            <code>key.threshold_crossed</code> once. Empty: no alerts.
          </>
        }
      />
      <ErrorMessage message={Object.keys(fieldErrors).length === 0 || form.unplaced ? error : null} />
      <FormActions onCancel={onCancel} busy={busy} submitLabel={submitLabel} busyLabel="Saving…" />
    </form>
  );
}
