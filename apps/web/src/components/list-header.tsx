import { ErrorMessage } from './dialog.tsx';

/**
 * Above a list of keys: what they are for, the create button, the notice after an action, and the error of
 * an action taken outside any dialog.
 */
export function ListHeader({
  description,
  createLabel,
  onCreate,
  notice,
  error,
}: {
  description: string;
  createLabel: string;
  onCreate: () => void;
  notice: string | null;
  error: string | null;
}) {
  return (
    <>
      <div className="toolbar">
        <p className="muted">{description}</p>
        <button type="button" onClick={onCreate}>
          {createLabel}
        </button>
      </div>
      <Notices notice={notice} error={error} />
    </>
  );
}

/** What the last action did (announced politely), or its error for people. */
export function Notices({ notice, error }: { notice: string | null; error: string | null }) {
  return (
    <>
      <p role="status" className="notice-line">
        {notice}
      </p>
      <ErrorMessage message={error} />
    </>
  );
}
