import { useState } from 'react';
import { ApiProblem } from './api.ts';

/**
 * The state a list with dialogs needs: which dialog is open, whether an action runs, its error for people,
 * and a notice after it. `run` performs an action, then reloads the list; a refusal stays in `error`, and the
 * fields it names in `fieldErrors` (path → what is wrong), for a form to show next to each field.
 */
export function useDialogs<Dialog extends { kind: string }>(closed: Dialog, reload: () => Promise<void>) {
  const [dialog, setDialog] = useState<Dialog>(closed);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Readonly<Record<string, string>>>({});
  const [notice, setNotice] = useState<string | null>(null);
  const close = () => {
    setDialog(closed);
    setError(null);
    setFieldErrors({});
  };
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    setFieldErrors({});
    try {
      await action();
      await reload();
    } catch (problem) {
      setError((problem as Error).message);
      setFieldErrors(problem instanceof ApiProblem ? problem.fields : {});
    } finally {
      setBusy(false);
    }
  };
  return { dialog, setDialog, busy, error, setError, fieldErrors, notice, setNotice, close, run };
}
