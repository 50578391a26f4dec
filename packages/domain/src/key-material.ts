import { hash } from 'node:crypto';

/** A source of cryptographically strong random bytes, injected (production: `crypto.randomBytes`). */
export type RandomBytes = (size: number) => Uint8Array;

/** The key alphabet: digits and ASCII letters. API keys consist of these characters only. */
export const KEY_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Characters in an API key secret: 32 × log2(62) ≈ 190 random bits. */
export const API_KEY_LENGTH = 32;

/** Characters in a prefix: the first 8 of the secret, the key's public identifier. */
export const PREFIX_LENGTH = 8;

/**
 * Credential kinds and their textual forms. API keys are bare alphanumerics (as AI/ML API's are), so
 * the `_` in the other two forms means no management key or service token can ever parse as an API key.
 */
export type CredentialKind = 'api_key' | 'management_key' | 'service_token';

const KIND_MARKERS = { management_key: 'kfm_', service_token: 'kfs_' } as const;

/** A freshly generated credential. `secret` is shown once and never stored; `hash` is what is kept. */
export interface GeneratedCredential {
  readonly kind: CredentialKind;
  readonly secret: string;
  readonly prefix: string;
  readonly hash: string;
}

const PREFIX_PATTERN = new RegExp(`^[0-9A-Za-z]{${PREFIX_LENGTH}}$`);
const BODY_PATTERN = new RegExp(`^[0-9A-Za-z]{${API_KEY_LENGTH}}$`);

/** True when `text` is 8 characters of the key alphabet, the only form a key prefix can take. */
export function isKeyPrefix(text: string): boolean {
  return PREFIX_PATTERN.test(text);
}

// 62 × 4 = 248: bytes at or above it are discarded, so every character is exactly equally likely.
const UNBIASED_BYTE_LIMIT = 248;

/** `length` characters of {@link KEY_ALPHABET} drawn uniformly from `random`. */
export function randomKeyText(random: RandomBytes, length: number): string {
  let text = '';
  while (text.length < length) {
    for (const byte of random(length * 2)) {
      if (byte >= UNBIASED_BYTE_LIMIT) continue;
      text += KEY_ALPHABET[byte % KEY_ALPHABET.length];
      if (text.length === length) break;
    }
  }
  return text;
}

/** SHA-256 of a secret, lowercase hex: how every credential is stored and looked up. */
export function hashSecret(secret: string): string {
  // One-shot: no Hash object per call (verify hashes two secrets on every request).
  return hash('sha256', secret, 'hex');
}

/** A new credential of the given kind. The prefix is the first 8 characters after any kind marker. */
export function generateCredential(kind: CredentialKind, random: RandomBytes): GeneratedCredential {
  const body = randomKeyText(random, API_KEY_LENGTH);
  const secret = kind === 'api_key' ? body : `${KIND_MARKERS[kind]}${body}`;
  return { kind, secret, prefix: body.slice(0, PREFIX_LENGTH), hash: hashSecret(secret) };
}

/**
 * A new API key secret for a rotation: the key's prefix kept, the other 24 characters drawn afresh (about
 * 143 random bits). The prefix was never secret (it is shown in lists, paths and logs), so the new secret is
 * exactly as hard to guess as a new key's, and the key keeps its identifier in paths, usage queries and
 * usage events: the prefix stays "the first 8 characters of the secret" for old and new secret alike.
 */
export function generateRotatedCredential(prefix: string, random: RandomBytes): GeneratedCredential {
  if (!isKeyPrefix(prefix)) throw new Error('a rotated key keeps a valid prefix');
  const secret = prefix + randomKeyText(random, API_KEY_LENGTH - PREFIX_LENGTH);
  return { kind: 'api_key', secret, prefix, hash: hashSecret(secret) };
}

/** The kind a presented secret has by its form alone, or null when it is no credential of ours. */
export function classifyCredential(secret: string): CredentialKind | null {
  if (BODY_PATTERN.test(secret)) return 'api_key';
  for (const kind of ['management_key', 'service_token'] as const) {
    const marker = KIND_MARKERS[kind];
    if (secret.startsWith(marker) && BODY_PATTERN.test(secret.slice(marker.length))) return kind;
  }
  return null;
}
