import { z } from 'zod';

/**
 * Whether a key with this expiry has expired at `now`: the same half-open rule as windows, so a key is
 * valid through the millisecond before `expiresAt` and expired from `expiresAt` on.
 */
export function isExpired(expiresAt: Date | null, now: Date): boolean {
  return expiresAt !== null && now.getTime() >= expiresAt.getTime();
}

/**
 * Whether a secret that is only valid until `validUntil` (a rotated-out secret in its grace period) is still
 * accepted at `now`; null means it has no end (the key's current secret). Half-open, as {@link isExpired}.
 */
export function isSecretAccepted(validUntil: Date | null, now: Date): boolean {
  return validUntil === null || now.getTime() < validUntil.getTime();
}

/** Longest grace period of a rotation: 7 days. */
export const MAX_ROTATION_GRACE_SECONDS = 7 * 24 * 60 * 60;

// ISO 8601 with an offset (Z or ±hh:mm), at most milliseconds: the store keeps milliseconds, and a
// finer instant would be rounded into a different answer at the boundary.
const MILLISECONDS_AT_MOST = /T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * An expiry as the wire carries it: an ISO 8601 instant with an offset, at most millisecond precision, or
 * null for none. That it lies in the future is checked against the clock where the request is handled.
 */
export const expiresAtSchema = z.iso
  .datetime({ offset: true, message: 'expires_at must be an ISO 8601 date-time with an offset, or null' })
  .regex(MILLISECONDS_AT_MOST, 'expires_at must be given to the millisecond at most')
  .transform((text) => new Date(text))
  .nullable()
  .meta({ description: 'When the key stops working (ISO 8601, in the future); null: never' });
