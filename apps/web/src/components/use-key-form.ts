import { type FormEvent, useId, useState } from 'react';
import type { ApiKey } from '../types.ts';
import {
  draftOf,
  draftProblems,
  FIELD_OF_PATH,
  type Field,
  type KeyDraft,
  type KeySettings,
  type Problems,
  settingsOf,
} from './key-settings.ts';

/** What the key form's field groups read and call. */
export interface KeyFormState {
  /** The prefix of every element id in the form (`${id}-name`, `${id}-name-error`). */
  id: string;
  draft: KeyDraft;
  /** Changes some fields, and re-checks `field` with `problem` once it has shown one. */
  change: (fields: Partial<KeyDraft>, field: Field, problem: string | null) => void;
  /** The problem shown under a field: the form's own check, else the API's last refusal. */
  shown: (field: Field) => string | undefined;
  /** The aria-describedby of a field: its hint and its problem, when there are. */
  describedBy: (field: Field, hint?: string) => string | undefined;
  submit: (event: FormEvent) => void;
  /** The API refused a path no field shows, so its message stands under the form. */
  unplaced: boolean;
}

/**
 * The state of the key form: the draft, the problems its own checks found on submit (each goes away as soon
 * as its field holds an allowed value), and the API's refusals per field until the field is edited.
 */
export function useKeyForm(
  initial: ApiKey | undefined,
  fieldErrors: Readonly<Record<string, string>>,
  onSubmit: (settings: KeySettings) => void,
): KeyFormState {
  const id = useId();
  const [draft, setDraft] = useState(() => draftOf(initial));
  const [problems, setProblems] = useState<Problems>({});
  const [edited, setEdited] = useState<ReadonlySet<Field>>(new Set());
  const [seenErrors, setSeenErrors] = useState(fieldErrors);
  if (seenErrors !== fieldErrors) {
    setSeenErrors(fieldErrors);
    setEdited(new Set());
  }
  const apiProblems: Problems = {};
  for (const [path, message] of Object.entries(fieldErrors)) {
    const field = FIELD_OF_PATH[path];
    if (field !== undefined && !edited.has(field)) apiProblems[field] ??= message;
  }
  const shown = (field: Field) => problems[field] ?? apiProblems[field];

  const change = (fields: Partial<KeyDraft>, field: Field, problem: string | null) => {
    setDraft((previous) => ({ ...previous, ...fields }));
    setEdited((previous) => new Set(previous).add(field));
    setProblems((previous) => {
      if (previous[field] === undefined) return previous;
      const { [field]: _gone, ...rest } = previous;
      return problem === null ? rest : { ...rest, [field]: problem };
    });
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const found = draftProblems(draft, Date.now());
    setProblems(found);
    const first = Object.keys(found)[0];
    if (first !== undefined) {
      document.getElementById(`${id}-${first}`)?.focus();
      return;
    }
    onSubmit(settingsOf(draft));
  };

  const describedBy = (field: Field, hint?: string) =>
    [hint, shown(field) === undefined ? undefined : `${id}-${field}-error`].filter(Boolean).join(' ') ||
    undefined;

  return {
    id,
    draft,
    change,
    shown,
    describedBy,
    submit,
    unplaced: Object.keys(fieldErrors).some((path) => FIELD_OF_PATH[path] === undefined),
  };
}
