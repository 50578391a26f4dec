import { useState } from 'react';

/**
 * The state a list with dialogs needs: which dialog is open, whether an action runs, its error for people,
 * and a notice after it. `run` performs an action, then reloads the list; a refusal stays in `error`.
 */
export function useDialogs<Dialog extends { kind: string }>(closed: Dialog, reload: () => Promise<void>) {
  const [dialog, setDialog] = useState<Dialog>(closed);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const close = () => {
    setDialog(closed);
    setError(null);
  };
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      await reload();
    } catch (problem) {
      setError((problem as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return { dialog, setDialog, busy, error, setError, notice, setNotice, close, run };
}
