import { createHash } from 'node:crypto';
import type { IdempotentCreate } from '@keyfence/db';
import type { ApiKey } from '@keyfence/domain';
import type { Request, Response } from 'express';
import { ApiError } from '../http/api-error.ts';
import { serializeJson } from '../http/json-body.ts';
import { sendJsonText } from '../http/respond.ts';
import type { ResponseCipher } from './response-cipher.ts';

/** How long an idempotent create's answer is kept (and replayed). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The request's `Idempotency-Key`, if it sent one: INVALID_IDEMPOTENCY_KEY when it is not well formed. */
export function idempotencyKeyOf(req: Request): string | undefined {
  const value = req.get('idempotency-key');
  if (value === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(value)) {
    throw new ApiError('INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key must be 1–255 printable ASCII characters');
  }
  return value;
}

/** What the store keeps of an idempotent create or rotation, and how an answer under it replays. */
export interface IdempotentAnswer {
  /** The sealed answer's associated data: the account and the Idempotency-Key. */
  readonly associatedData: string;
  /** Absent when the request sent no Idempotency-Key. */
  readonly idempotency?: IdempotentCreate;
}

/**
 * The idempotency of a create or a rotation: `requestText` tells this request from another under the same
 * key (hashed), `present` is the answer, sealed for 24 hours inside the writing transaction.
 */
export function idempotentAnswer(
  cipher: ResponseCipher,
  accountId: string,
  idempotencyKey: string | undefined,
  requestText: string,
  now: Date,
  present: (key: ApiKey, secret: string) => unknown,
): IdempotentAnswer {
  const associatedData = `${accountId}\n${idempotencyKey}`;
  if (idempotencyKey === undefined) return { associatedData };
  return {
    associatedData,
    idempotency: {
      key: idempotencyKey,
      requestHash: createHash('sha256').update(requestText).digest('hex'),
      expiresAt: new Date(now.getTime() + IDEMPOTENCY_WINDOW_MS),
      sealResponse: (key, secret) => ({
        status: 200,
        sealed: cipher.seal(serializeJson({ data: present(key, secret) }), associatedData),
      }),
    },
  };
}

/** Sends the first answer under this Idempotency-Key again, as it was. */
export function replayAnswer(
  res: Response,
  cipher: ResponseCipher,
  replayed: { readonly status: number; readonly sealed: Uint8Array },
  associatedData: string,
): void {
  const text = cipher.open(replayed.sealed, associatedData);
  if (text === null) {
    throw new ApiError(
      'IDEMPOTENCY_REPLAY_UNAVAILABLE',
      'the first answer under this Idempotency-Key cannot be decrypted any more; use a new Idempotency-Key',
    );
  }
  res.setHeader('Idempotent-Replayed', 'true');
  sendJsonText(res, replayed.status, text);
}

/** IDEMPOTENCY_KEY_REUSED: the key came with another request within its window. */
export function idempotencyKeyReused(): ApiError {
  return new ApiError(
    'IDEMPOTENCY_KEY_REUSED',
    'this Idempotency-Key was used in the last 24 hours with a different request',
  );
}
