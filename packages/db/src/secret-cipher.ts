import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for the secrets we must keep usable: the answer to an idempotent create, for its 24-hour
 * window, and webhook signing secrets (they sign, so a hash would not do). The associated data binds a
 * sealed value to its record (account and idempotency key; endpoint id), so a value copied to another
 * record does not open. The API and the workers share the key (`KEYFENCE_ENCRYPTION_KEY`).
 */
export class SecretCipher {
  private readonly key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new RangeError('the response encryption key must be 32 bytes');
    this.key = Buffer.from(key);
  }

  seal(plaintext: string, associatedData: string): Uint8Array {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  /** The plaintext, or null when the data was sealed with another key or altered. */
  open(sealed: Uint8Array, associatedData: string): string | null {
    const data = Buffer.from(sealed);
    if (data.length < IV_BYTES + TAG_BYTES) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, data.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(data.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(data.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      return null;
    }
  }
}
