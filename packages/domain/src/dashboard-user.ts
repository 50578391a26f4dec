/** Rules for the people who sign in to the dashboard: their email, their password, their session. */

/** Shortest password accepted. NIST SP 800-63B asks at least 8; we ask 12. */
export const MIN_PASSWORD_LENGTH = 12;
/** Longest password accepted (argon2 takes any length; this bounds the work one request can ask for). */
export const MAX_PASSWORD_LENGTH = 256;

/** A session ends this long after its last use. */
export const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
/** A session ends this long after sign-in, however busy it is. */
export const SESSION_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
/** A session's expiry is pushed forward at most this often, so reads do not turn into writes. */
export const SESSION_REFRESH_MS = 60 * 1000;

const EMAIL = /^[^\s@]{1,64}@[^\s@.]+(\.[^\s@.]+)+$/;

/** The email as stored and compared: trimmed and lower-cased; null when it is not an address. */
export function normalizeEmail(email: string): string | null {
  const normalized = email.trim().toLowerCase();
  return normalized.length <= 254 && EMAIL.test(normalized) ? normalized : null;
}

/** Why a new password is refused, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) return `a password needs at least ${MIN_PASSWORD_LENGTH} characters`;
  if (length > MAX_PASSWORD_LENGTH) return `a password has at most ${MAX_PASSWORD_LENGTH} characters`;
  if (password.trim() !== password) return 'a password may not start or end with a space';
  return null;
}

/**
 * When a session used at `now` ends: `SESSION_IDLE_MS` after its last use, and never later than
 * `SESSION_MAX_AGE_MS` after it began.
 */
export function sessionExpiry(createdAt: Date, now: Date): Date {
  return new Date(Math.min(now.getTime() + SESSION_IDLE_MS, createdAt.getTime() + SESSION_MAX_AGE_MS));
}
