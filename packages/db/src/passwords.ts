import { hash, verify } from '@node-rs/argon2';

// OWASP's first argon2id configuration: 19 MiB, 2 iterations, 1 lane (about 20–40 ms here).
const ARGON2ID = {
  algorithm: 2 /* Algorithm.Argon2id, a const enum */,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/** An argon2id hash of `password` in PHC string form (salt and parameters included). */
export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2ID);
}

/** True when `password` matches the PHC-form `passwordHash`; false for a mismatch or a malformed hash. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}
