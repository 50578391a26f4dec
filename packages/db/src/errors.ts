/**
 * Prisma and driver errors, turned into named errors that say whether trying again can help.
 * Repositories translate at their edge; nothing outside `db` sees a Prisma error.
 */
export class DatabaseError extends Error {
  /** True when the same operation may succeed if tried again (the database is down, a conflict). */
  readonly retryable: boolean;

  constructor(message: string, retryable: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.retryable = retryable;
  }
}

/** A unique constraint refused a row; `fields` names its columns when the driver tells. */
export class UniqueConstraintError extends DatabaseError {
  readonly fields: readonly string[];

  constructor(fields: readonly string[], options?: ErrorOptions) {
    super(`unique constraint failed on ${fields.join(', ') || 'unknown fields'}`, false, options);
    this.fields = fields;
  }
}

/** PostgreSQL cannot be reached, or a connection was lost or timed out. */
export class DatabaseUnavailableError extends DatabaseError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, true, options);
  }
}

/** A serialization failure or deadlock: the transaction may be retried as a whole. */
export class TransactionConflictError extends DatabaseError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, true, options);
  }
}

// P2028: a transaction could not start in time (every pooled connection busy): retry later, as for P2024.
const UNAVAILABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2028']);
const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  '57P01',
  '57P03',
]);

interface ErrorShape {
  code?: unknown;
  message?: unknown;
  meta?: {
    target?: unknown;
    driverAdapterError?: {
      cause?: { kind?: unknown; constraint?: { fields?: unknown }; originalCode?: unknown };
    };
  };
  cause?: unknown;
}

function uniqueFields(shape: ErrorShape): string[] {
  const fromAdapter = shape.meta?.driverAdapterError?.cause?.constraint?.fields;
  if (Array.isArray(fromAdapter)) return fromAdapter.map(String);
  const target = shape.meta?.target;
  if (Array.isArray(target)) return target.map(String);
  if (typeof target === 'string') return [target];
  return [];
}

/** The named error for a thrown value, or the value itself when it is nothing we know. */
export function translateDatabaseError(error: unknown): unknown {
  if (error instanceof DatabaseError || typeof error !== 'object' || error === null) return error;
  const shape = error as ErrorShape;
  const code = typeof shape.code === 'string' ? shape.code : '';
  const message = typeof shape.message === 'string' ? shape.message : 'database error';
  const adapterKind = shape.meta?.driverAdapterError?.cause?.kind;
  if (code === 'P2002' || code === '23505' || adapterKind === 'UniqueConstraintViolation') {
    return new UniqueConstraintError(uniqueFields(shape), { cause: error });
  }
  if (
    code === 'P2034' ||
    code === '40001' ||
    code === '40P01' ||
    adapterKind === 'TransactionWriteConflict'
  ) {
    return new TransactionConflictError(message, { cause: error });
  }
  if (
    UNAVAILABLE_PRISMA_CODES.has(code) ||
    UNAVAILABLE_NODE_CODES.has(code) ||
    adapterKind === 'DatabaseNotReachable' ||
    adapterKind === 'ConnectionClosed' ||
    adapterKind === 'SocketTimeout' ||
    /Connection terminated|connect ECONNREFUSED|Can't reach database server|Unable to start a transaction in the given time/i.test(
      message,
    )
  ) {
    return new DatabaseUnavailableError(message, { cause: error });
  }
  if (shape.cause !== undefined && shape.cause !== error) {
    const translatedCause = translateDatabaseError(shape.cause);
    if (translatedCause instanceof DatabaseError) return translatedCause;
  }
  return error;
}

/** Runs a database operation, rethrowing any failure as its named error. */
export async function translatingErrors<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw translateDatabaseError(error);
  }
}
