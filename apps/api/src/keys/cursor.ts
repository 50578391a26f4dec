import { z } from 'zod';
import { ApiError } from '../http/api-error.ts';

const positionSchema = z.strictObject({ t: z.iso.datetime(), i: z.uuid() });

/** An opaque cursor for the position after a key: its creation time and id. */
export function encodeKeyCursor(position: { createdAt: Date; id: string }): string {
  return Buffer.from(JSON.stringify({ t: position.createdAt.toISOString(), i: position.id })).toString(
    'base64url',
  );
}

export function decodeKeyCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const parsed = positionSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return { createdAt: new Date(parsed.t), id: parsed.i };
  } catch {
    throw new ApiError('INVALID_CURSOR', 'the cursor was not issued by this API');
  }
}

/** The largest audit entry id: PostgreSQL's bigint. */
const MAX_AUDIT_ID = 9_223_372_036_854_775_807n;

/** Audit cursors are the id of the last entry seen: a whole number a bigint column can hold. */
export function decodeAuditCursor(cursor: string): bigint {
  const id = /^\d{1,19}$/.test(cursor) ? BigInt(cursor) : undefined;
  if (id === undefined || id > MAX_AUDIT_ID)
    throw new ApiError('INVALID_CURSOR', 'the cursor was not issued by this API');
  return id;
}
