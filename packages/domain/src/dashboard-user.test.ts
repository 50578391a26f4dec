import { describe, expect, it } from 'vitest';
import {
  normalizeEmail,
  passwordProblem,
  SESSION_IDLE_MS,
  SESSION_MAX_AGE_MS,
  sessionExpiry,
} from './dashboard-user.ts';

describe('normalizeEmail', () => {
  it('trims and lower-cases an address', () => {
    expect(normalizeEmail('  Ada@Example.COM ')).toBe('ada@example.com');
  });

  it.each(['', 'ada', 'ada@', '@example.com', 'ada@example', 'a da@example.com', 'ada@@example.com'])(
    'refuses %j',
    (email) => {
      expect(normalizeEmail(email)).toBeNull();
    },
  );
});

describe('passwordProblem', () => {
  it('accepts 12 characters and more', () => {
    expect(passwordProblem('correct horse')).toBeNull();
    expect(passwordProblem('x'.repeat(256))).toBeNull();
  });

  it('counts characters, not UTF-16 units', () => {
    expect(passwordProblem('🔑'.repeat(11))).toMatch(/at least 12/);
    expect(passwordProblem('🔑'.repeat(12))).toBeNull();
  });

  it('refuses short, overlong and space-padded passwords', () => {
    expect(passwordProblem('short')).toMatch(/at least 12/);
    expect(passwordProblem('x'.repeat(257))).toMatch(/at most 256/);
    expect(passwordProblem(' leading space here')).toMatch(/space/);
  });
});

describe('sessionExpiry', () => {
  const start = new Date('2026-11-26T10:00:00.000Z');

  it('ends a session twelve hours after its last use', () => {
    const now = new Date(start.getTime() + 60_000);
    expect(sessionExpiry(start, now).getTime()).toBe(now.getTime() + SESSION_IDLE_MS);
  });

  it('never past seven days after sign-in', () => {
    const now = new Date(start.getTime() + SESSION_MAX_AGE_MS - 1000);
    expect(sessionExpiry(start, now).getTime()).toBe(start.getTime() + SESSION_MAX_AGE_MS);
  });
});
