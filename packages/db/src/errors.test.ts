import { describe, expect, it } from 'vitest';
import {
  DatabaseUnavailableError,
  TransactionConflictError,
  translateDatabaseError,
  UniqueConstraintError,
} from './errors.ts';

describe('translateDatabaseError', () => {
  it.each([
    [
      { code: 'P2028', message: 'Transaction API error: Unable to start a transaction in the given time.' },
      DatabaseUnavailableError,
    ],
    [{ message: 'Unable to start a transaction in the given time.' }, DatabaseUnavailableError],
    [
      { code: 'P2024', message: 'Timed out fetching a new connection from the connection pool' },
      DatabaseUnavailableError,
    ],
    [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:5432' }, DatabaseUnavailableError],
    [{ code: '40001', message: 'could not serialize access' }, TransactionConflictError],
    [{ code: '23505', message: 'duplicate key value' }, UniqueConstraintError],
  ])('%j is a %o', (raw, kind) => {
    const translated = translateDatabaseError(raw);
    expect(translated).toBeInstanceOf(kind);
  });

  it('leaves anything else as it is', () => {
    const raw = { code: '22003', message: 'bigint out of range' };
    expect(translateDatabaseError(raw)).toBe(raw);
  });
});
