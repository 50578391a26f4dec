import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  API_KEY_LENGTH,
  classifyCredential,
  generateCredential,
  generateRotatedCredential,
  hashSecret,
  isKeyPrefix,
  KEY_ALPHABET,
  randomKeyText,
} from './key-material.ts';

/** A deterministic byte source: the given bytes, repeated. */
const cycling = (bytes: number[]) => {
  let position = 0;
  return (size: number) =>
    Uint8Array.from({ length: size }, () => {
      const byte = bytes[position % bytes.length] ?? 0;
      position += 1;
      return byte;
    });
};

describe('randomKeyText', () => {
  it('maps bytes onto the alphabet and discards the biased top bytes', () => {
    expect(randomKeyText(cycling([0, 61, 62, 255, 248, 247]), 4)).toBe('0z0z');
  });

  it('draws every character of the alphabet with roughly equal frequency', () => {
    const counts = new Map<string, number>();
    const text = randomKeyText(randomBytes, 62_000);
    for (const character of text) counts.set(character, (counts.get(character) ?? 0) + 1);
    expect(counts.size).toBe(KEY_ALPHABET.length);
    for (const count of counts.values()) expect(count).toBeGreaterThan(800);
  });
});

describe('generateCredential', () => {
  it('makes API keys of 32 alphanumerics whose prefix is the first 8', () => {
    const key = generateCredential('api_key', randomBytes);
    expect(key.secret).toMatch(new RegExp(`^[0-9A-Za-z]{${API_KEY_LENGTH}}$`));
    expect(key.prefix).toBe(key.secret.slice(0, 8));
    expect(key.hash).toBe(hashSecret(key.secret));
    expect(isKeyPrefix(key.prefix)).toBe(true);
  });

  it('makes management keys and service tokens that never parse as API keys', () => {
    for (const kind of ['management_key', 'service_token'] as const) {
      for (let i = 0; i < 50; i += 1) {
        const credential = generateCredential(kind, randomBytes);
        expect(classifyCredential(credential.secret)).toBe(kind);
        expect(credential.secret.includes('_')).toBe(true);
      }
    }
    expect(generateCredential('management_key', cycling([1])).secret).toBe(`kfm_${'1'.repeat(32)}`);
  });

  it('carries at least 128 random bits', () => {
    expect(API_KEY_LENGTH * Math.log2(KEY_ALPHABET.length)).toBeGreaterThanOrEqual(128);
  });
});

describe('classifyCredential', () => {
  it.each([
    ['a'.repeat(32), 'api_key'],
    [`kfm_${'A'.repeat(32)}`, 'management_key'],
    [`kfs_${'9'.repeat(32)}`, 'service_token'],
    ['a'.repeat(31), null],
    ['a'.repeat(33), null],
    [`kfm_${'A'.repeat(31)}`, null],
    [`kfx_${'A'.repeat(32)}`, null],
    [`${'a'.repeat(31)}-`, null],
    ['', null],
  ])('%s is %s', (secret, kind) => {
    expect(classifyCredential(secret)).toBe(kind);
  });
});

describe('hashSecret', () => {
  it('is SHA-256 in lowercase hex', () => {
    expect(hashSecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('isKeyPrefix', () => {
  it.each([
    ['AbCd1234', true],
    ['abcd123', false],
    ['abcd12345', false],
    ['abcd-123', false],
    ['abcd_123', false],
    ['ÄbCd1234', false],
  ])('%s: %s', (text, expected) => {
    expect(isKeyPrefix(text)).toBe(expected);
  });
});

describe('generateRotatedCredential', () => {
  it('keeps the prefix and draws the rest afresh', () => {
    const first = generateCredential('api_key', randomBytes);
    const rotated = generateRotatedCredential(first.prefix, randomBytes);
    expect(rotated.prefix).toBe(first.prefix);
    expect(rotated.secret.slice(0, 8)).toBe(first.prefix);
    expect(rotated.secret).toHaveLength(first.secret.length);
    expect(rotated.secret).not.toBe(first.secret);
    expect(classifyCredential(rotated.secret)).toBe('api_key');
    expect(rotated.hash).toBe(hashSecret(rotated.secret));
  });
});
